"""The condition vocabulary shared by triggers, waits, branches and saved segments.

One shape for "a property or trait compared with a value" and for the audience conditions a
segment or a journey branch combines (traits, event history, segment membership, consent), so a
rule written for a journey means the same in a segment, an export or a dashboard filter.
Property and trait comparisons are evaluated here (pure); event history and segment membership
need the stores and are evaluated by the segments domain, in bulk or for one profile.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Op = Literal[
    "eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "exists", "not_exists"
]
OPS: tuple[str, ...] = Op.__args__  # type: ignore[attr-defined]
_ORDERED = {"gt", "gte", "lt", "lte"}
_NO_VALUE = {"exists", "not_exists"}
_MISSING = object()


class PropertyCondition(BaseModel):
    """``key op value`` on an event's properties (dotted keys reach nested objects)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200)
    op: Op = "eq"
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> PropertyCondition:
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"value: {self.op!r} needs a list")
        if self.op in _ORDERED and (
            isinstance(self.value, bool) or not isinstance(self.value, (int, float, str))
        ):
            raise ValueError(f"value: {self.op!r} needs a number or an ISO date")
        if self.op == "contains" and not isinstance(self.value, (str, int, float)):
            raise ValueError("value: 'contains' needs a text or a number")
        if self.op not in _NO_VALUE and self.op not in ("eq", "neq") and self.value is None:
            raise ValueError(f"value: {self.op!r} needs a value")
        return self

    def test(self, actual: Any) -> bool:
        return compare(self.op, actual, self.value)


class TraitCondition(PropertyCondition):
    """A profile trait (or score, stored as a trait such as ``score.churn``) against a value."""

    kind: Literal["trait"] = "trait"


class EventCondition(BaseModel):
    """The profile did (or did not) do ``event`` at least ``min_count`` times in the window."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["event"] = "event"
    event: str = Field(min_length=1, max_length=200)
    performed: bool = True
    min_count: int = Field(default=1, ge=1, le=1_000_000)
    #: Only the last N days count; None is all history.
    within_days: float | None = Field(default=None, gt=0, le=3650)
    where: list[PropertyCondition] = Field(default_factory=list, max_length=20)


class SegmentCondition(BaseModel):
    """Member (or not) of a saved segment."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["segment"] = "segment"
    segment_id: str = Field(min_length=1, max_length=40)
    member: bool = True


class ConsentCondition(BaseModel):
    """The latest consent decision for a purpose on a channel ('all' covers every channel)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["consent"] = "consent"
    purpose: str = Field(min_length=1, max_length=80)
    channel: str = Field(default="all", max_length=20)
    granted: bool = True


AudienceCondition = Annotated[
    TraitCondition | EventCondition | SegmentCondition | ConsentCondition,
    Field(discriminator="kind"),
]


def lookup(data: Mapping[str, Any], key: str) -> Any:
    """``data[key]``, or the nested value of a dotted key; ``_MISSING`` when absent."""
    if key in data:
        return data[key]
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _utc(t: datetime) -> str:
    """A time as naive UTC ISO text: times with different offsets then sort as instants."""
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    return t.isoformat()


def _instant(value: Any) -> str | None:
    """An ISO date or time as a comparable string (dates compare with dates). Times with an
    offset are taken to UTC first, so 01:00+03:30 (Tehran) sorts before 22:00Z the day before
    it is not."""
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        text = value.strip()
        if len(text) > 10:
            try:
                return _utc(datetime.fromisoformat(text))
            except ValueError:
                return text
        return text
    return None


def _ordered(op: str, actual: Any, expected: Any) -> bool:
    a, e = _number(actual), _number(expected)
    left: Any
    right: Any
    if a is not None and e is not None:
        left, right = a, e
    else:
        left, right = _instant(actual), _instant(expected)
        if left is None or right is None:
            return False
        n = min(len(left), len(right))  # a date compares with the day of a time
        left, right = left[:n], right[:n]
    if op == "gt":
        return bool(left > right)
    if op == "gte":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    return bool(left <= right)


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected  # True is not 1
    if actual == expected:
        return True
    if isinstance(actual, str) != isinstance(expected, str):
        a, e = _number(actual), _number(expected)
        return a is not None and a == e  # "5" from a form equals 5 from an SDK
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.strip().casefold() == expected.strip().casefold()
    return False


def compare(op: str, actual: Any, expected: Any) -> bool:
    """One comparison; a missing value satisfies only ``neq``, ``not_in`` and ``not_exists``."""
    missing = actual is _MISSING or actual is None
    if op == "exists":
        return not missing
    if op == "not_exists":
        return missing
    if op in ("neq", "not_in") and missing:
        return True
    if missing:
        return False
    if op == "eq":
        return _equal(actual, expected)
    if op == "neq":
        return not _equal(actual, expected)
    if op == "in":
        return any(_equal(actual, e) for e in expected)
    if op == "not_in":
        return not any(_equal(actual, e) for e in expected)
    if op == "contains":
        if isinstance(actual, (list, tuple, set)):
            return any(_equal(a, expected) for a in actual)
        return str(expected).casefold() in str(actual).casefold()
    return _ordered(op, actual, expected)


def matches(conditions: Sequence[PropertyCondition], data: Mapping[str, Any]) -> bool:
    """Every condition holds on ``data`` (event properties or profile traits)."""
    return all(c.test(lookup(data, c.key)) for c in conditions)
