"""The customer list's trait filter, read profile by profile in id order until its page is
full, gives what the bulk evaluator gives (sorted, then cut), for every trait operator, with
merged profiles, traits that changed, nested keys, Persian text and digits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from safar.identity.finder import repository as finder
from safar.identity.search import trait_text_owners
from safar.identity.service import workspace_traits
from safar.kit.conditions import TraitCondition
from safar.segments import evaluation, service
from safar.segments.schemas import SegmentDefinition
from tests.segments.factories import NOW, ago, open_runtime, population, store_messages

TRAIT: TypeAdapter[TraitCondition] = TypeAdapter(TraitCondition)
RULES: list[dict[str, Any]] = [
    {"key": "plan", "op": "eq", "value": "GOLD"},
    {"key": "plan", "op": "neq", "value": "gold"},
    {"key": "plan", "op": "in", "value": ["silver", "bronze"]},
    {"key": "plan", "op": "not_in", "value": ["silver"]},
    {"key": "plan", "op": "exists"},
    {"key": "plan", "op": "not_exists"},
    {"key": "plan", "op": "contains", "value": "ilv"},
    {"key": "age", "op": "eq", "value": 30},
    {"key": "age", "op": "gt", "value": "25"},
    {"key": "signup", "op": "gte", "value": "2026-03-01"},
    {"key": "tags", "op": "contains", "value": "VIP"},
    {"key": "address.city", "op": "eq", "value": "tehran"},
    {"key": "visited", "op": "eq", "value": True},
    {"key": "city", "op": "eq", "value": "تهران"},
    {"key": "city", "op": "eq", "value": " تهران "},
    {"key": "phone", "op": "contains", "value": "0912"},
    {"key": "code", "op": "eq", "value": "0042"},
    {"key": "code", "op": "eq", "value": 42},
    {"key": "room", "op": "eq", "value": "BED"},
    {"key": "room", "op": "in", "value": ["bed", "تهران"]},
    {"key": "room", "op": "in", "value": ["bed", "Tehran"]},
    {"key": "city", "op": "eq", "value": "TEHRAN"},
    {"key": "city", "op": "in", "value": ["Shiraz", "tehran "]},
    {"key": "city", "op": "eq", "value": "kerman"},
    {"key": "city", "op": "eq", "value": "strasse"},
    {"key": "nothing", "op": "eq", "value": "x"},
]


def _persian(ws_messages: list[dict[str, Any]]) -> None:
    """Persian cities (one person moves away from Tehran), phones and codes with digits."""
    for i in range(12):
        city = ["تهران", "شیراز", "تهران ", "Tehran", "\u212aerman", "STRAßE"][i % 6]
        ws_messages.append(
            {"type": "identify", "userId": f"fa{i}", "messageId": f"fa-{i}", "timestamp": ago(30),
             "traits": {"city": city, "phone": f"0912{i:07d}", "code": [42, "0042", "42.0"][i % 3],
                        "room": ["bed", " BED ", "Bed room", "تهران"][i % 4]}}
        )  # fmt: skip
    ws_messages.append(
        {"type": "identify", "userId": "fa0", "messageId": "fa-moved", "timestamp": ago(2),
         "traits": {"city": "اصفهان"}}
    )  # fmt: skip


def test_only_literal_equalities_go_through_the_text_index() -> None:
    def texts(key: str, op: str, value: Any) -> list[tuple[str, set[str]]] | None:
        return evaluation.literal_text(TraitCondition(key=key, op=op, value=value))

    assert texts("city", "eq", " تهران ") == [("تهران", set())]
    assert texts("room", "in", ["BED", "تهران"]) == [("bed", set()), ("تهران", set())]
    assert texts("city", "eq", " Tehran") == [("tehran", set())]  # "ﬅ" folds to "st"
    assert texts("city", "eq", "Kerman") == [("kerman", {"\u212a"})]  # the Kelvin sign
    assert texts("city", "eq", "ss") == [("ss", {"ß", "ẞ", "ſ"})]
    assert texts("code", "eq", "۱۲۳") is None  # a number: 123 equals it
    assert texts("code", "eq", 42) is None
    assert texts("address.city", "eq", "تهران") is None
    assert texts("city", "neq", "تهران") is None


@pytest.mark.parametrize("budget", [50_000, 3])
def test_the_trait_page_equals_the_bulk_evaluation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    """Through the text index, by reading in id order, and (a tiny budget) in bulk."""
    monkeypatch.setattr(evaluation, "STREAM_BUDGET", budget)
    _, messages = population(seed=11, size=40)
    _persian(messages)
    with open_runtime(tmp_path) as (runtime, ws):
        store_messages(runtime, ws, messages)
        with runtime.db.session() as session:
            everyone = sorted(service.evaluate(
                session, runtime.store, workspace_id=ws, definition=SegmentDefinition(), now=NOW
            ))  # fmt: skip
            within = set(everyone[::3])
            for raw in RULES:
                rule = TRAIT.validate_python(raw)
                bulk = sorted(service.evaluate(
                    session, runtime.store, workspace_id=ws,
                    definition=SegmentDefinition(conditions=[rule]), now=NOW,
                ))  # fmt: skip
                page = service.trait_members(session, runtime.store, workspace_id=ws, rule=rule)
                assert page == bulk, raw
                for want in (1, 3, 7):
                    cut = service.trait_members(
                        session, runtime.store, workspace_id=ws, rule=rule, want=want
                    )
                    assert cut == bulk[:want], (raw, want)
                inside = service.trait_members(
                    session, runtime.store, workspace_id=ws, rule=rule, within=within
                )
                assert inside == [p for p in bulk if p in within], raw
                held = service.trait_matching(
                    session, workspace_id=ws, rule=rule, profile_ids=everyone[:20]
                )
                assert held == set(bulk) & set(everyone[:20]), raw
            assert bulk == [] and len(everyone) > 40  # the last rule: nobody has the trait
            owners = trait_text_owners(session, workspace_id=ws, key="city", text="تهران")
            assert owners and len(owners) == 4  # the index was there to answer (one moved)


def test_batches_cover_every_unmerged_profile_once_with_its_current_traits(
    tmp_path: Path,
) -> None:
    _, messages = population(seed=5, size=30)
    _persian(messages)
    with open_runtime(tmp_path) as (runtime, ws):
        store_messages(runtime, ws, messages)
        keys = ["address", "city", "plan"]
        with runtime.db.session() as session:
            batches = list(finder.current_trait_batches(session, ws, keys, first=2, most=5))
            expected = workspace_traits(session, workspace_id=ws, keys=keys)
            everyone = service.evaluate(
                session, runtime.store, workspace_id=ws, definition=SegmentDefinition(), now=NOW
            )
        assert [len(b) for b in batches][:3] == [2, 5, 5]
        rows = [row for batch in batches for row in batch]
        assert [pid for pid, _ in rows] == sorted(everyone)
        assert {pid: values for pid, values in rows if values} == dict(expected)
        assert dict(rows)[next(iter(expected))]  # somebody's traits were read
