"""The set-based paths act as the one-at-a-time ones: entries of a batch of events, the
worker's batches, the scheduler's batches, and the identity reads behind them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from safar.events.messages import normalize, parse_message
from safar.flows.models import FlowAction, FlowInstance
from safar.flows.people import person, persons
from safar.identity import service as identity
from safar.identity.models import Profile
from safar.orchestration.models import ScheduledJob
from safar.runtime import Runtime
from tests.flows.factories import Clock, event, publish, pump
from tests.orchestration.factories import Gateway


def apply_together(rt: Runtime, ws: str, clock: Clock, *msgs: dict[str, Any]) -> None:
    """The messages in one applier batch (one identity transaction, one hook call)."""
    rows = [
        normalize(
            parse_message(
                {"messageId": "m-" + uuid.uuid4().hex, "timestamp": clock.now.isoformat()} | m
            ),
            workspace_id=ws,
            received_at=clock.now,
        )
        for m in msgs
    ]
    rt.applier.apply(rows)


def sms_flow(**changes: Any) -> dict[str, Any]:
    """An SMS at once, then wait a day for an order (a goal ends it)."""
    flow: dict[str, Any] = {
        "name": "Thanks",
        "trigger": {"type": "event", "event": "Product Added"},
        "start": "sms",
        "nodes": [
            {
                "id": "sms",
                "type": "send",
                "channel": "sms",
                "texts": {"en": {"body": "Hi {{ traits.first_name | default('there') }}"}},
                "next": "wait",
            },
            {"id": "wait", "type": "delay", "seconds": 86400},
        ],
        "goal": {"event": "Order Completed", "within_days": 7},
        "policy": {"topic": "transactional", "consent_purpose": None},
    }
    flow.update(changes)
    return flow


def seed(rt: Runtime, ws: str, clock: Clock, users: int) -> None:
    event(rt, ws, clock, type="track", event="Product Added", userId="seed")
    event(rt, ws, clock, type="track", event="Order Completed", userId="seed")
    apply_together(
        rt,
        ws,
        clock,
        *(
            {
                "type": "identify",
                "userId": f"u{i}",
                "traits": {"phone": f"+98912000{i:04d}", "first_name": f"N{i}", "n": i},
            }
            for i in range(users)
        ),
    )


def profiles(rt: Runtime, ws: str, *users: str) -> dict[str, str | None]:
    with rt.db.session() as s:
        return {u: identity.profile_of(s, workspace_id=ws, type_="user_id", value=u) for u in users}


def instances(rt: Runtime) -> list[FlowInstance]:
    with rt.db.session() as s:
        rows = list(s.scalars(select(FlowInstance).order_by(FlowInstance.created_at)))
        s.expunge_all()
        return rows


def test_one_batch_enters_each_person_once_and_a_later_row_reaches_the_new_instance(
    frt: Runtime, fws: str, clock: Clock, sms_gateway: Gateway
) -> None:
    seed(frt, fws, clock, 3)
    publish(frt, fws, sms_flow())
    apply_together(
        frt,
        fws,
        clock,
        {"type": "track", "event": "Product Added", "userId": "u0"},
        {"type": "track", "event": "Product Added", "userId": "u0"},  # already in the journey
        {"type": "track", "event": "Product Added", "userId": "u1"},
        {"type": "track", "event": "Order Completed", "userId": "u1"},  # after u1's entry
        {"type": "track", "event": "Order Completed", "userId": "u2"},  # u2 is in no journey
        {"type": "track", "event": "Product Added", "userId": "u2"},  # after u2's order
    )
    pump(frt)
    rows = {i.profile_id: i for i in instances(frt)}
    assert len(rows) == 3
    by_user = profiles(frt, fws, "u0", "u1", "u2")
    assert rows[by_user["u1"]].status == "done" and rows[by_user["u1"]].reason == "goal"
    assert rows[by_user["u0"]].status == "waiting" and rows[by_user["u2"]].status == "waiting"
    texts = sorted(r["body"]["text"] for r in sms_gateway.wait(3))
    assert texts == ["Hi N0", "Hi N1", "Hi N2"]


def test_a_replayed_batch_enters_no_one_twice(frt: Runtime, fws: str, clock: Clock) -> None:
    seed(frt, fws, clock, 2)
    publish(frt, fws, sms_flow(entry={"reentry": "always"}))
    msgs = [
        {"type": "track", "event": "Product Added", "userId": f"u{i}", "messageId": f"add-{i}"}
        for i in range(2)
    ]
    apply_together(frt, fws, clock, *msgs)
    apply_together(frt, fws, clock, *msgs)  # the ingest log replayed after a crash
    assert len(instances(frt)) == 2


def test_a_step_that_fails_ends_its_instance_and_the_rest_of_the_batch_goes_on(
    frt: Runtime, fws: str, clock: Clock, sms_gateway: Gateway
) -> None:
    seed(frt, fws, clock, 4)
    flow = sms_flow(
        start="tag",
        nodes=[
            # u0's trait n is 0: rendering the value raises while acting (the batch's writes
            # fail, and its items run again one by one).
            {"id": "tag", "type": "set_trait", "key": "share", "value": "{{ 12 // traits.n }}"},
        ],
    )
    publish(frt, fws, flow)
    apply_together(
        frt,
        fws,
        clock,
        *(
            {
                "type": "track",
                "event": "Product Added",
                "userId": f"u{i}",
            }
            for i in range(4)
        ),
    )
    pump(frt)
    done = instances(frt)
    assert len(done) == 4 and all(i.status == "done" for i in done)
    failed = [i for i in done if (i.reason or "").startswith("error")]
    assert len(failed) == 1 and "ZeroDivisionError" in (failed[0].reason or "")
    with frt.db.session() as s:
        acted = {a.instance_id for a in s.scalars(select(FlowAction))}
    assert acted == {i.id for i in done} - {failed[0].id}


def test_the_scheduler_sends_a_batch_once_each_and_records_every_outcome(
    frt: Runtime, fws: str, clock: Clock, sms_gateway: Gateway
) -> None:
    seed(frt, fws, clock, 60)
    publish(frt, fws, sms_flow())
    apply_together(
        frt,
        fws,
        clock,
        *({"type": "track", "event": "Product Added", "userId": f"u{i}"} for i in range(60)),
    )
    pump(frt)
    pump(frt)
    got = sms_gateway.wait(60)
    assert sorted(r["body"]["text"] for r in got) == sorted(f"Hi N{i}" for i in range(60))
    with frt.db.session() as s:
        jobs = list(s.scalars(select(ScheduledJob).where(ScheduledJob.kind == "message")))
    assert len(jobs) == 60 and {j.status for j in jobs} == {"done"}
    assert all(j.attempts == 1 for j in jobs)


def test_a_message_whose_composing_raises_fails_alone_and_the_batch_is_sent(
    frt: Runtime, fws: str, clock: Clock, sms_gateway: Gateway
) -> None:
    seed(frt, fws, clock, 5)
    publish(frt, fws, sms_flow())
    apply_together(
        frt,
        fws,
        clock,
        *({"type": "track", "event": "Product Added", "userId": f"u{i}"} for i in range(5)),
    )
    while frt.flows.runtime.run_due():
        pass
    bad = profiles(frt, fws, "u2")["u2"]
    action = frt.scheduler.actions["flow.message"]
    compose = action.compose

    def flaky(session: Any, **kw: Any) -> Any:
        if kw["recipient"].profile_id == bad:
            raise RuntimeError("a bug in one message")
        return compose(session, **kw)

    action.compose = flaky  # type: ignore[method-assign]
    assert frt.scheduler.run_due() == 5
    got = sms_gateway.wait(4)
    assert sorted(r["body"]["text"] for r in got) == ["Hi N0", "Hi N1", "Hi N3", "Hi N4"]
    with frt.db.session() as s:
        jobs = list(s.scalars(select(ScheduledJob).where(ScheduledJob.kind == "message")))
        by_profile = {j.profile_id: (j.status, j.reason) for j in jobs}
    assert by_profile.pop(bad) == ("failed", "error")
    assert set(by_profile.values()) == {("done", None)}


def test_many_people_read_at_once_are_the_people_read_one_by_one(
    frt: Runtime, fws: str, clock: Clock
) -> None:
    seed(frt, fws, clock, 3)
    event(frt, fws, clock, type="identify", anonymousId="a-1", traits={"city": "Tabriz"})
    # a-1 logs in as u1: the two profiles merge.
    event(frt, fws, clock, type="identify", anonymousId="a-1", userId="u1", traits={"vip": True})
    with frt.db.session() as s:
        pids = [
            identity.profile_of(s, workspace_id=fws, type_=t, value=v)
            for t, v in (("user_id", "u0"), ("user_id", "u1"), ("anonymous_id", "a-1"))
        ]
        pids = [p for p in pids if p is not None]
        merged = s.scalars(select(Profile.id).where(Profile.merged_into.is_not(None))).all()
        assert merged, "the anonymous profile merged into u1's"
        asked = pids + list(merged)
        many = persons(s, workspace_id=fws, profile_ids=asked)
        for pid in asked:
            one = person(s, workspace_id=fws, profile_id=pid)
            got, ids = many[pid]
            assert got == one
            assert sorted(ids) == sorted(
                identity.person_profile_ids(s, workspace_id=fws, profile_id=pid)
            )
