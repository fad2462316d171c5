"""Journeys that send, end to end on the embedded runtime: a real local SMS gateway and SMTP
server, the orchestration scheduler's guardrails, a settable clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from safar.flows import analytics
from safar.orchestration.models import ScheduledJob
from safar.runtime import Runtime
from tests.flows.factories import Clock, Pumps, cart_flow, event, publish, pump
from tests.orchestration.factories import Gateway, SmtpServer
from tests.surveys.factories import make_survey, make_trigger, make_workspace_id, survey_settings


def customer(rt: Runtime, ws: str, clock: Clock, user: str, **traits: Any) -> None:
    traits.setdefault("phone", "+989121234567")
    traits.setdefault("email", f"{user}@example.com")
    event(rt, ws, clock, type="identify", userId=user, traits=traits)


def jobs(rt: Runtime) -> list[ScheduledJob]:
    with rt.db.session() as s:
        rows = list(
            s.scalars(
                select(ScheduledJob)
                .where(ScheduledJob.dedupe_key.like("flow:%"))
                .order_by(ScheduledJob.id)
            )
        )
        s.expunge_all()
        return rows


def seed_events(rt: Runtime, ws: str, clock: Clock) -> None:
    for name in ("Product Added", "Order Completed", "Signed Up"):
        event(rt, ws, clock, type="track", event=name, userId="seed")


def test_the_cart_reminder_goes_once_and_a_purchase_ends_the_journey(
    frt: Runtime, fws: str, clock: Clock, sms_gateway: Gateway, smtp: SmtpServer
) -> None:
    seed_events(frt, fws, clock)
    flow_id = publish(frt, fws, cart_flow())
    customer(frt, fws, clock, "sara", first_name="سارا", language="fa")
    customer(frt, fws, clock, "john", first_name="John", language="en")
    for user in ("sara", "john"):
        event(
            frt,
            fws,
            clock,
            type="track",
            event="Product Added",
            userId=user,
            properties={"name": "کتاب"},
        )
    clock.advance(minutes=30)
    event(frt, fws, clock, type="track", event="Order Completed", userId="john")  # bought in time
    pump(frt)
    assert sms_gateway.received == []
    clock.advance(minutes=31)
    pump(frt)
    (sms,) = sms_gateway.wait(1)
    assert sms["body"]["to"] == "+989121234567"
    assert sms["body"]["text"] == "سارا عزیز، سبد شما منتظر است."
    clock.advance(hours=3)
    event(frt, fws, clock, type="track", event="Order Completed", userId="sara")
    clock.advance(days=2)
    pump(frt)
    assert len(sms_gateway.received) == 1 and smtp.mailbox.messages == []  # no second reminder
    with frt.db.session() as s:
        stats = analytics.flow_stats(
            s, workspace_id=fws, flow_id=flow_id, outcomes=frt.flows.outcomes
        )
    assert stats["entered"] == 1
    assert stats["exits"] == {"not entered": 1, "goal": 1}
    assert stats["messages"] == {"done": 1}
    assert stats["nodes"]["remind"]["actions"] == {"queued": 1}
    assert stats["nodes"]["remind"]["messages"] == {"done": 1}
    assert "email" not in stats["nodes"]  # never reached


def test_a_revoked_consent_sends_nothing_and_says_why(
    frt: Runtime, fws: str, clock: Clock, sms_gateway: Gateway, pumps: Pumps
) -> None:
    drive = pumps(frt)
    seed_events(frt, fws, clock)
    publish(frt, fws, cart_flow(policy={"consent_purpose": "marketing", "require_consent": True}))
    customer(frt, fws, clock, "ali", first_name="علی")
    event(
        frt,
        fws,
        clock,
        type="track",
        event="Consent Updated",
        userId="ali",
        context={
            "consent": {
                "preferences": [{"purpose": "marketing", "channel": "all", "granted": False}]
            }
        },
    )
    event(frt, fws, clock, type="track", event="Product Added", userId="ali")
    clock.advance(hours=2)
    drive()
    assert sms_gateway.received == []
    (job,) = jobs(frt)
    assert (job.status, job.reason) == ("skipped", "consent")


def test_the_journey_waits_for_the_customers_birthday_at_ten_tehran_time(
    frt: Runtime, fws: str, clock: Clock, sms_gateway: Gateway
) -> None:
    seed_events(frt, fws, clock)
    flow_id = publish(
        frt,
        fws,
        {
            "name": "Birthday",
            "trigger": {"type": "api"},
            "start": "day",
            "nodes": [
                {
                    "id": "day",
                    "type": "delay",
                    "mode": "trait_date",
                    "trait": "birthday",
                    "at": "10:00",
                    "calendar": "jalali",
                    "next": "sms",
                },
                {
                    "id": "sms",
                    "type": "send",
                    "channel": "sms",
                    "texts": {"fa": {"body": "{{ first_name }} جان، تولدت مبارک!"}},
                },
            ],
            "policy": {"topic": "transactional", "consent_purpose": None},
        },
    )
    # 27 Ordibehesht: 17 May in 1406 (2027)
    customer(frt, fws, clock, "mina", first_name="مینا", birthday="1369/02/27")
    with frt.db.session() as s:
        from safar.identity.service import profile_of

        pid = profile_of(s, workspace_id=fws, type_="user_id", value="mina")
        assert pid is not None
        assert frt.flows.enter(
            s, workspace_id=fws, flow_id=flow_id, profile_id=pid, key="k1", properties={}
        )
        assert (
            frt.flows.enter(
                s, workspace_id=fws, flow_id=flow_id, profile_id=pid, key="k1", properties={}
            )
            is None
        )
    pump(frt)
    clock.now = datetime(2027, 5, 17, 6, 29, tzinfo=UTC)  # 09:59 in Tehran
    pump(frt)
    assert sms_gateway.received == []
    clock.now = datetime(2027, 5, 17, 6, 30, tzinfo=UTC)
    pump(frt)
    (sms,) = sms_gateway.wait(1)
    assert sms["body"]["text"] == "مینا جان، تولدت مبارک!"


def test_quiet_hours_hold_the_message_until_eight_in_the_customers_zone(
    frt: Runtime, fws: str, clock: Clock, sms_gateway: Gateway, pumps: Pumps
) -> None:
    drive = pumps(frt)
    seed_events(frt, fws, clock)
    publish(
        frt, fws, cart_flow(policy={"quiet_start": 22, "quiet_end": 8, "consent_purpose": None})
    )
    customer(frt, fws, clock, "neda", first_name="ندا")
    clock.now = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)  # 22:30 in Tehran
    event(frt, fws, clock, type="track", event="Product Added", userId="neda")
    clock.advance(hours=1, minutes=1)  # 23:31: the hour has passed, but it is night
    drive()
    assert sms_gateway.received == []
    (job,) = jobs(frt)
    assert job.status == "pending" and job.reason == "quiet_hours"
    assert job.due_at == datetime(2026, 12, 8, 4, 30, tzinfo=UTC)  # 08:00 Tehran
    clock.now = datetime(2026, 12, 8, 4, 30, tzinfo=UTC)
    drive()
    assert len(sms_gateway.wait(1)) == 1


def test_the_holdout_gets_nothing_and_the_uplift_is_reported(
    frt: Runtime, fws: str, clock: Clock, sms_gateway: Gateway, pumps: Pumps
) -> None:
    drive = pumps(frt)
    seed_events(frt, fws, clock)
    flow_id = publish(frt, fws, cart_flow(holdout_percent=50, policy={"consent_purpose": None}))
    users = [f"c{i}" for i in range(30)]
    for i, user in enumerate(users):
        customer(frt, fws, clock, user, phone=f"+98912{i:07d}")
        event(frt, fws, clock, type="track", event="Product Added", userId=user)
    clock.advance(hours=2)
    drive()
    with frt.db.session() as s:
        stats = analytics.flow_stats(
            s, workspace_id=fws, flow_id=flow_id, outcomes=frt.flows.outcomes
        )
    control, treated = stats["entered_control"], stats["entered_treatment"]
    assert control + treated == 30 and 5 <= control <= 25
    assert len(sms_gateway.wait(treated)) == treated
    assert stats["nodes"]["remind"]["actions"] == {"queued": treated, "would_send": control}
    # a third of everyone buys: the uplift is measured, with its interval
    for user in users[::3]:
        event(frt, fws, clock, type="track", event="Order Completed", userId=user)
    drive()
    with frt.db.session() as s:
        goal = analytics.flow_stats(s, workspace_id=fws, flow_id=flow_id)["goal"]
    assert goal["treatment"]["converted"] + goal["control"]["converted"] == 10
    up = goal["uplift"]
    assert up["low"] <= up["difference"] <= up["high"]


@pytest.fixture
def capped(tmp_path: Path, smtp: SmtpServer, sms_gateway: Gateway, clock: Clock) -> Any:
    settings = survey_settings(
        tmp_path / "cap", smtp, sms_gateway, text_analysis=False, contact_budget="1/week"
    )
    rt = Runtime(settings, background=False, clock=clock)
    try:
        yield rt
    finally:
        rt.close()


def test_one_contact_budget_holds_across_a_survey_and_a_journey(
    capped: Runtime, clock: Clock, smtp: SmtpServer, sms_gateway: Gateway, pumps: Pumps
) -> None:
    drive = pumps(capped)
    rt = capped
    ws = make_workspace_id(rt)
    seed_events(rt, ws, clock)
    event(rt, ws, clock, type="track", event="order_delivered", userId="seed")
    survey_id = make_survey(rt, ws)
    make_trigger(rt, ws, survey_id, fatigue_days=0)
    publish(rt, ws, cart_flow(policy={"consent_purpose": None}))
    customer(rt, ws, clock, "reza")
    event(rt, ws, clock, type="track", event="order_delivered", userId="reza")
    drive()
    assert len(smtp.mailbox.wait(1)) == 1  # the survey invitation used this week's one contact
    event(rt, ws, clock, type="track", event="Product Added", userId="reza")
    clock.advance(hours=2)
    drive()
    assert sms_gateway.received == []
    (job,) = jobs(rt)
    assert (job.status, job.reason) == ("skipped", "cap")


def test_two_messages_to_one_person_in_one_batch_share_the_budget(
    capped: Runtime, clock: Clock, smtp: SmtpServer, sms_gateway: Gateway
) -> None:
    """A survey's job and a journey's, due together, are decided in one scheduler batch: the
    first one's contact counts against the second before either is written to the log."""
    rt = capped
    ws = make_workspace_id(rt)
    seed_events(rt, ws, clock)
    event(rt, ws, clock, type="track", event="order_delivered", userId="seed")
    make_trigger(rt, ws, make_survey(rt, ws), fatigue_days=0)
    publish(rt, ws, cart_flow(policy={"consent_purpose": None}))
    customer(rt, ws, clock, "reza")
    event(rt, ws, clock, type="track", event="order_delivered", userId="reza")
    event(rt, ws, clock, type="track", event="Product Added", userId="reza")
    clock.advance(hours=2)
    while rt.flows.runtime.run_due():  # the journey's job is queued, nothing sent yet
        pass
    with rt.db.session() as s:
        due = s.scalars(select(ScheduledJob).where(ScheduledJob.status == "pending")).all()
        assert len(due) == 2
    assert rt.scheduler.run_due() == 2
    with rt.db.session() as s:
        done = s.scalars(select(ScheduledJob).order_by(ScheduledJob.id)).all()
        outcomes = sorted((j.status, j.reason) for j in done)
    assert outcomes == [("done", None), ("skipped", "cap")]
    assert len(smtp.mailbox.messages) + len(sms_gateway.received) == 1
