"""Journeys over saved segments: entering a segment, branching on event history, and the
yearly date sweep (a Jalali birthday SMS at 10:00 Tehran time)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from safar.flows.models import FlowAction, FlowInstance
from safar.runtime import Runtime
from safar.segments import service as segments
from safar.segments.schemas import SegmentCreate
from tests.flows.factories import Clock, birthday_flow, event, publish, pump
from tests.orchestration.factories import Gateway


def rows(rt: Runtime, model: Any) -> list[Any]:
    with rt.db.session() as s:
        found = list(s.scalars(select(model).order_by(model.id)))
        s.expunge_all()
        return found


def test_entering_a_segment_enters_the_journey(frt: Runtime, fws: str, clock: Clock) -> None:
    event(frt, fws, clock, type="identify", userId="a", traits={"tier": "silver"})
    event(frt, fws, clock, type="identify", userId="b", traits={"tier": "silver"})
    with frt.db.session() as s:
        seg = segments.create_segment(
            s,
            workspace_id=fws,
            data=SegmentCreate(
                name="Gold", conditions=[{"kind": "trait", "key": "tier", "value": "gold"}]
            ),
        )
        seg_id = seg.id
        segments.refresh(
            s, frt.store, workspace_id=fws, segment_id=seg_id, now=clock.now, jobs=frt.jobs
        )
    publish(
        frt,
        fws,
        {
            "name": "Welcome to gold",
            "trigger": {"type": "segment", "segment_id": seg_id, "on": "enter"},
            "start": "tag",
            "nodes": [{"id": "tag", "type": "set_trait", "key": "gold_welcomed", "value": True}],
        },
    )
    event(frt, fws, clock, type="identify", userId="a", traits={"tier": "gold"})
    clock.advance(minutes=5)
    with frt.db.session() as s:
        diff = segments.refresh(
            s, frt.store, workspace_id=fws, segment_id=seg_id, now=clock.now, jobs=frt.jobs
        )
    assert len(diff.entered) == 1
    pump(frt)  # the scheduler stores segment_entered; the hook enters; the worker runs it
    pump(frt)
    (inst,) = rows(frt, FlowInstance)
    assert inst.status == "done" and inst.properties["segment_id"] == seg_id
    assert [a.node for a in rows(frt, FlowAction)] == ["tag"]


def test_a_branch_reads_event_history_through_segments(
    frt: Runtime, fws: str, clock: Clock
) -> None:
    for user, orders in (("loyal", 3), ("new", 1)):
        for _ in range(orders):
            event(frt, fws, clock, type="track", event="Order Completed", userId=user)
    event(frt, fws, clock, type="track", event="Survey Done", userId="seed")
    publish(
        frt,
        fws,
        {
            "name": "Thank loyal customers",
            "trigger": {"type": "event", "event": "Survey Done"},
            "start": "loyal",
            "nodes": [
                {
                    "id": "loyal",
                    "type": "branch",
                    "rules": [
                        {
                            "conditions": [
                                {
                                    "kind": "event",
                                    "event": "Order Completed",
                                    "min_count": 3,
                                    "within_days": 30,
                                }
                            ],
                            "next": "thanks",
                        }
                    ],
                    "otherwise": "nudge",
                },
                {"id": "thanks", "type": "set_trait", "key": "thanked", "value": True},
                {"id": "nudge", "type": "set_trait", "key": "nudged", "value": True},
            ],
        },
    )
    for user in ("loyal", "new"):
        event(frt, fws, clock, type="track", event="Survey Done", userId=user)
    pump(frt)
    by_profile = {a.profile_id: a.node for a in rows(frt, FlowAction)}
    with frt.db.session() as s:
        from safar.identity.service import profile_of

        loyal = profile_of(s, workspace_id=fws, type_="user_id", value="loyal")
        new = profile_of(s, workspace_id=fws, type_="user_id", value="new")
    assert by_profile == {loyal: "thanks", new: "nudge"}


def test_the_birthday_sweep_sends_one_sms_on_the_jalali_day_at_ten(
    frt: Runtime, fws: str, clock: Clock, sms_gateway: Gateway
) -> None:
    # 1369/02/27 (17 May 1990): in 1406 that is 17 May 2027 again; 1370/01/01 is 21 March 1991
    event(
        frt,
        fws,
        clock,
        type="identify",
        userId="mina",
        traits={
            "first_name": "مینا",
            "birthday": "1990-05-17",
            "phone": "+989120000001",
            "language": "fa",
        },
    )
    event(
        frt,
        fws,
        clock,
        type="identify",
        userId="tom",
        traits={
            "first_name": "Tom",
            "birthday": "1991-03-21",
            "phone": "+989120000002",
            "language": "en",
            "calendar": "gregorian",
        },
    )
    event(frt, fws, clock, type="identify", userId="nobody", traits={"first_name": "X"})
    publish(frt, fws, birthday_flow())
    clock.now = datetime(2027, 5, 16, 20, 0, tzinfo=UTC)  # 23:30 the evening before, in Tehran
    pump(frt)
    (inst,) = rows(frt, FlowInstance)
    assert inst.status == "waiting"
    clock.now = datetime(2027, 5, 17, 6, 29, tzinfo=UTC)
    pump(frt)
    assert sms_gateway.received == []
    clock.now = datetime(2027, 5, 17, 6, 30, tzinfo=UTC)  # 10:00 in Tehran
    pump(frt)
    (sms,) = sms_gateway.wait(1)
    assert sms["body"] == {
        "to": "+989120000001",
        "text": "مینا جان، تولدت مبارک!",
        "sender": "3000",
    }
    clock.now = datetime(2027, 5, 17, 12, 0, tzinfo=UTC)
    frt.flows.runtime.sweeper._next = None  # the next sweep, later that day: nobody twice
    pump(frt)
    assert len(rows(frt, FlowInstance)) == 1 and len(sms_gateway.received) == 1
