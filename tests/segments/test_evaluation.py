"""Bulk members and one-profile matching agree with each other and with a reference computed
from the generated facts, for every condition kind and operator, on both event engines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from safar.kit.conditions import (
    ConsentCondition,
    EventCondition,
    TraitCondition,
    lookup,
    matches,
)
from safar.segments import service
from safar.segments.schemas import Rule, SegmentCreate, SegmentDefinition
from tests.segments.factories import (
    ENGINES,
    NOW,
    Person,
    ago,
    open_runtime,
    population,
    profile_of,
    store_messages,
)

RULE: TypeAdapter[Rule] = TypeAdapter(Rule)

CONDITIONS: list[dict[str, Any]] = [
    {"kind": "trait", "key": "plan", "op": "eq", "value": "GOLD"},
    {"kind": "trait", "key": "plan", "op": "neq", "value": "gold"},
    {"kind": "trait", "key": "plan", "op": "in", "value": ["silver", "bronze"]},
    {"kind": "trait", "key": "plan", "op": "not_in", "value": ["silver"]},
    {"kind": "trait", "key": "plan", "op": "exists"},
    {"kind": "trait", "key": "plan", "op": "not_exists"},
    {"kind": "trait", "key": "age", "op": "eq", "value": 30},
    {"kind": "trait", "key": "age", "op": "gt", "value": "25"},
    {"kind": "trait", "key": "age", "op": "gte", "value": 25},
    {"kind": "trait", "key": "age", "op": "lt", "value": 41},
    {"kind": "trait", "key": "age", "op": "lte", "value": 17},
    {"kind": "trait", "key": "signup", "op": "gte", "value": "2026-03-01"},
    {"kind": "trait", "key": "signup", "op": "lt", "value": "2026-01-01T00:00:00Z"},
    {"kind": "trait", "key": "tags", "op": "contains", "value": "VIP"},
    {"kind": "trait", "key": "plan", "op": "contains", "value": "ilv"},
    {"kind": "trait", "key": "address.city", "op": "eq", "value": "tehran"},
    {"kind": "trait", "key": "visited", "op": "eq", "value": True},
    {"kind": "event", "event": "Order Completed"},
    {"kind": "event", "event": "Order Completed", "performed": False},
    {"kind": "event", "event": "Order Completed", "min_count": 2},
    {"kind": "event", "event": "Page Viewed", "within_days": 7},
    {"kind": "event", "event": "Page Viewed", "within_days": 7, "performed": False},
    {"kind": "event", "event": "Cart Abandoned", "within_days": 30, "min_count": 2},
    {
        "kind": "event",
        "event": "Order Completed",
        "where": [{"key": "total", "op": "gt", "value": 100}],
    },
    {
        "kind": "event",
        "event": "Order Completed",
        "within_days": 10,
        "where": [{"key": "city", "op": "eq", "value": "TEHRAN"}],
    },
    {"kind": "consent", "purpose": "marketing", "channel": "email", "granted": True},
    {"kind": "consent", "purpose": "marketing", "channel": "email", "granted": False},
    {"kind": "consent", "purpose": "marketing", "channel": "all", "granted": True},
    {"kind": "consent", "purpose": "marketing", "channel": "sms", "granted": False},
]


def reference(person: Person, rule: Any) -> bool:
    """What the condition means on the generated facts."""
    if isinstance(rule, TraitCondition):
        return rule.test(lookup(person.traits, rule.key))
    if isinstance(rule, ConsentCondition):
        decision = person.consent.get((rule.purpose, rule.channel))
        if decision is None and rule.channel != "all":
            decision = person.consent.get((rule.purpose, "all"))
        return decision is not None and decision is rule.granted
    assert isinstance(rule, EventCondition)
    window = rule.within_days if rule.within_days is not None else 10_000
    n = sum(
        1
        for name, days, props in person.events
        if name == rule.event and 0 <= days <= window and matches(rule.where, props)
    )
    return (n >= rule.min_count) is rule.performed


@pytest.mark.parametrize("engine", ENGINES)
def test_every_condition_agrees_in_bulk_per_profile_and_with_the_reference(
    tmp_path: Path, engine: str
) -> None:
    people, messages = population(seed=7)
    with open_runtime(tmp_path, engine) as (runtime, ws):
        store_messages(runtime, ws, messages)
        pids = {p.user_id: profile_of(runtime, ws, p.user_id) for p in people}
        with runtime.db.session() as session:
            for raw in CONDITIONS:
                rule = RULE.validate_python(raw)
                definition = SegmentDefinition(conditions=[rule])
                bulk = service.evaluate(
                    session, runtime.store, workspace_id=ws, definition=definition, now=NOW
                )
                one = {
                    pid
                    for pid in pids.values()
                    if service.profile_matches(
                        session, runtime.store, workspace_id=ws, profile_id=pid,
                        conditions=[rule], now=NOW,
                    )
                }  # fmt: skip
                expected = {pids[p.user_id] for p in people if reference(p, rule)}
                assert bulk == expected, raw
                assert one == expected, raw
    # The population exercises both outcomes of most conditions.
    assert sum(1 for raw in CONDITIONS if 0 < sum(reference(p, RULE.validate_python(raw)) for p in people) < len(people)) > 20  # fmt: skip


def test_all_any_groups_and_saved_segments_combine_as_sets(tmp_path: Path) -> None:
    people, messages = population(seed=11, size=30)
    gold = {"kind": "trait", "key": "plan", "op": "eq", "value": "gold"}
    bought = {"kind": "event", "event": "Order Completed", "within_days": 30}
    young = {"kind": "trait", "key": "age", "op": "lt", "value": 30}
    with open_runtime(tmp_path) as (runtime, ws):
        store_messages(runtime, ws, messages)
        pids = {p.user_id: profile_of(runtime, ws, p.user_id) for p in people}

        def ids(raw: dict[str, Any]) -> set[str]:
            rule = RULE.validate_python(raw)
            return {pids[p.user_id] for p in people if reference(p, rule)}

        with runtime.db.session() as session:
            saved = service.create_segment(
                session, workspace_id=ws, data=SegmentCreate(name="Gold", conditions=[gold])
            )
            any_group = {"kind": "group", "match": "any", "conditions": [gold, bought]}
            not_gold = {"kind": "segment", "segment_id": saved.id, "member": False}
            everyone = set(pids.values())
            cases = [
                ({"match": "all", "conditions": [gold, bought]}, ids(gold) & ids(bought)),
                ({"match": "any", "conditions": [gold, bought]}, ids(gold) | ids(bought)),
                ({"conditions": [young, any_group]}, ids(young) & (ids(gold) | ids(bought))),
                ({"conditions": [not_gold, bought]}, (everyone - ids(gold)) & ids(bought)),
                ({"match": "all", "conditions": []}, everyone),
                ({"match": "any", "conditions": []}, set()),
            ]
            for raw, expected in cases:
                definition = SegmentDefinition.model_validate(raw)
                bulk = service.evaluate(
                    session, runtime.store, workspace_id=ws, definition=definition, now=NOW
                )
                assert bulk == expected, raw
                for pid in pids.values():
                    one = service.profile_matches(
                        session, runtime.store, workspace_id=ws, profile_id=pid,
                        conditions=definition.conditions, match=definition.match, now=NOW,
                    )  # fmt: skip
                    assert one is (pid in expected), (raw, pid)


def test_within_days_counts_from_the_injected_now(tmp_path: Path) -> None:
    with open_runtime(tmp_path) as (runtime, ws):
        store_messages(runtime, ws, [
            {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "o1",
             "timestamp": ago(5)},
        ])  # fmt: skip
        pid = profile_of(runtime, ws, "u1")
        cond = EventCondition(event="Order Completed", within_days=7)
        definition = SegmentDefinition(conditions=[cond])
        with runtime.db.session() as session:
            for now, inside in [
                (NOW, True),
                (NOW + timedelta(days=1.9), True),
                (NOW + timedelta(days=2.1), False),  # 7.1 days after the order
                (NOW - timedelta(days=5.1), False),  # before the order happened
            ]:
                bulk = service.evaluate(
                    session, runtime.store, workspace_id=ws, definition=definition, now=now
                )
                one = service.profile_matches(
                    session, runtime.store, workspace_id=ws, profile_id=pid,
                    conditions=[cond], now=now,
                )  # fmt: skip
                assert (pid in bulk, one) == (inside, inside), now


@pytest.mark.parametrize("engine", ENGINES)
def test_a_merged_person_is_one_member_with_both_histories(tmp_path: Path, engine: str) -> None:
    with open_runtime(tmp_path, engine) as (runtime, ws):
        store_messages(runtime, ws, [
            {"type": "track", "event": "Order Completed", "userId": "u9", "messageId": "k1",
             "timestamp": ago(3)},
            {"type": "identify", "anonymousId": "anon-9", "messageId": "k2",
             "timestamp": ago(2.5), "traits": {"plan": "gold"}},
            {"type": "track", "event": "Order Completed", "anonymousId": "anon-9",
             "messageId": "k3", "timestamp": ago(2)},
        ])  # fmt: skip
        with runtime.db.session() as session:
            anon_profile = service.evaluate(
                session, runtime.store, workspace_id=ws,
                definition=SegmentDefinition(conditions=[TraitCondition(key="plan", value="gold")]),
                now=NOW,
            )  # fmt: skip
        assert len(anon_profile) == 1
        (before,) = anon_profile
        # The visitor signs in: the anonymous profile merges into the user's.
        store_messages(runtime, ws, [
            {"type": "identify", "userId": "u9", "anonymousId": "anon-9", "messageId": "k4",
             "timestamp": ago(1)},
        ])  # fmt: skip
        survivor = profile_of(runtime, ws, "u9")
        rules = [
            TraitCondition(key="plan", value="gold"),
            EventCondition(event="Order Completed", min_count=2),
        ]
        with runtime.db.session() as session:
            found = service.evaluate(
                session, runtime.store, workspace_id=ws,
                definition=SegmentDefinition(conditions=list(rules)), now=NOW,
            )  # fmt: skip
            assert found == {survivor}
            for pid in {before, survivor}:  # the merged-away id answers for the survivor
                assert service.profile_matches(
                    session, runtime.store, workspace_id=ws, profile_id=pid,
                    conditions=rules, now=NOW,
                )  # fmt: skip
