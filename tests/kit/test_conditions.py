"""The shared condition vocabulary: each operator, missing values, coercions, bad shapes."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from safar.kit.conditions import (
    AudienceCondition,
    EventCondition,
    PropertyCondition,
    TraitCondition,
    compare,
    lookup,
    matches,
)


@pytest.mark.parametrize(
    ("op", "actual", "expected", "result"),
    [
        ("eq", "Tehran", "tehran", True),
        ("eq", "5", 5, True),
        ("eq", 5, 6, False),
        ("neq", "gold", "silver", True),
        ("in", 5, ["5", 6], True),
        ("not_in", "a", ["b"], True),
        ("gt", "10", 9, True),
        ("lt", 3.5, 3, False),
        ("gte", "2026-01-05T10:00:00Z", "2026-01-05", True),
        ("lt", "2025-12-31", "2026-01-01", True),
        # Offsets count: 01:00 in Tehran is 21:30 UTC the day before.
        ("lt", "2026-03-01T01:00:00+03:30", "2026-02-28T22:00:00Z", True),
        ("gt", "2026-03-01T01:00:00+03:30", "2026-02-28", False),
        ("contains", "سلام دنیا", "دنیا", True),
        ("contains", ["vip", "new"], "VIP", True),
        ("exists", 0, None, True),
        ("gt", "not a number", 3, False),
        ("eq", True, 1, False),
    ],
)
def test_compare(op: str, actual: object, expected: object, result: bool) -> None:
    assert compare(op, actual, expected) is result


def test_missing_values_satisfy_only_negative_operators() -> None:
    missing = lookup({}, "plan")
    assert compare("neq", missing, "gold") and compare("not_in", missing, ["gold"])
    assert compare("not_exists", missing, None)
    assert not compare("eq", missing, None) and not compare("gt", missing, 1)
    assert not compare("exists", None, None)


def test_dotted_keys_reach_nested_values() -> None:
    data = {"address": {"city": "Shiraz"}, "a.b": 1}
    assert lookup(data, "address.city") == "Shiraz"
    assert lookup(data, "a.b") == 1
    conds = [PropertyCondition(key="address.city", value="shiraz")]
    assert matches(conds, data) and not matches(conds, {"address": "Shiraz"})


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"key": "x", "op": "in", "value": 3}, "needs a list"),
        ({"key": "x", "op": "gt", "value": [1]}, "needs a number"),
        ({"key": "x", "op": "gt", "value": True}, "needs a number"),
        ({"key": "x", "op": "contains"}, "needs a text"),
        ({"key": "", "op": "eq"}, "key"),
        ({"key": "x", "op": "like"}, "op"),
    ],
)
def test_bad_shapes_are_refused(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        PropertyCondition.model_validate(raw)


def test_audience_conditions_are_told_apart_by_kind() -> None:
    adapter: TypeAdapter[AudienceCondition] = TypeAdapter(AudienceCondition)
    trait = adapter.validate_python({"kind": "trait", "key": "tier", "value": "gold"})
    assert isinstance(trait, TraitCondition)
    event = adapter.validate_python(
        {"kind": "event", "event": "Order Completed", "within_days": 30}
    )
    assert isinstance(event, EventCondition) and event.min_count == 1
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "weather", "key": "x"})
