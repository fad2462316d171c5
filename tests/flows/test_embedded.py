"""The embedded journey runtime end to end: events in, instances, timers, waits, actions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from safar.flows import analytics
from safar.flows.models import FlowAction, FlowInstance
from safar.runtime import Runtime
from tests.flows.factories import Clock, event, publish, pump


def tag_flow() -> dict[str, Any]:
    """Signed up: tag the profile at once, wait a day for a first order, else ask for a call."""
    return {
        "name": "Welcome",
        "trigger": {
            "type": "event",
            "event": "Signed Up",
            "where": [{"key": "plan", "value": "pro"}],
        },
        "start": "tag",
        "nodes": [
            {
                "id": "tag",
                "type": "set_trait",
                "key": "segments",
                "value": "new_pro",
                "tag": "add",
                "next": "wait",
            },
            {
                "id": "wait",
                "type": "wait",
                "event": "Order Completed",
                "timeout_s": 86400,
                "on_timeout": "call",
            },
            {
                "id": "call",
                "type": "case",
                "subject": "Call {{ first_name }}: no first order",
                "priority": "high",
            },
        ],
        "entry": {"reentry": "once"},
    }


def instances(rt: Runtime) -> list[FlowInstance]:
    with rt.db.session() as s:
        rows = list(s.scalars(select(FlowInstance).order_by(FlowInstance.created_at)))
        s.expunge_all()
        return rows


def actions(rt: Runtime) -> list[FlowAction]:
    with rt.db.session() as s:
        rows = list(s.scalars(select(FlowAction).order_by(FlowAction.id)))
        s.expunge_all()
        return rows


def seed(rt: Runtime, ws: str, clock: Clock) -> None:
    """The events the journey names, so publishing knows them."""
    event(
        rt, ws, clock, type="track", event="Signed Up", userId="seed", properties={"plan": "free"}
    )
    event(rt, ws, clock, type="track", event="Order Completed", userId="seed")


def test_an_event_enters_once_and_a_timeout_asks_for_a_case(
    frt: Runtime, fws: str, clock: Clock
) -> None:
    seed(frt, fws, clock)
    flow_id = publish(frt, fws, tag_flow())
    event(frt, fws, clock, type="identify", userId="u1", traits={"first_name": "Sara"})
    event(
        frt, fws, clock, type="track", event="Signed Up", userId="u1", properties={"plan": "free"}
    )
    signup = event(
        frt, fws, clock, type="track", event="Signed Up", userId="u1", properties={"plan": "pro"}
    )
    frt.applier.apply([signup])  # a replay enters nobody again
    pump(frt)
    (inst,) = instances(frt)
    assert inst.status == "waiting" and inst.node == "wait" and inst.entered_at == clock.now
    event(frt, fws, clock, type="track", event="Signed Up", userId="u1", properties={"plan": "pro"})
    pump(frt)
    assert len(instances(frt)) == 1  # re-entry: once
    clock.advance(hours=25)
    pump(frt)
    (inst,) = instances(frt)
    assert inst.status == "done" and inst.reason == "completed"
    kinds = [(a.node, a.status) for a in actions(frt)]
    assert kinds == [("tag", "done"), ("call", "done")]
    assert actions(frt)[1].detail == {"subject": "Call Sara: no first order", "priority": "high"}
    with frt.db.session() as s:
        stats = analytics.flow_stats(s, workspace_id=fws, flow_id=flow_id)
    assert stats["entered"] == 1 and stats["exits"] == {"completed": 1}
    assert stats["nodes"]["wait"]["reached"] == 1 and stats["nodes"]["call"]["actions"] == {
        "done": 1
    }


def test_the_tag_and_the_case_land_on_the_profile_as_events(
    frt: Runtime, fws: str, clock: Clock
) -> None:
    seed(frt, fws, clock)
    publish(frt, fws, tag_flow())
    event(frt, fws, clock, type="track", event="Signed Up", userId="u2", properties={"plan": "pro"})
    pump(frt)
    clock.advance(days=2)
    pump(frt)
    with frt.db.session() as s:
        from safar.flows.people import person

        pid = instances(frt)[0].profile_id
        who = person(s, workspace_id=fws, profile_id=pid)
    assert who.traits["segments"] == ["new_pro"]
    names = [e["event"] for e in frt.store.latest_events(fws, limit=20)]
    assert "Case Requested" in names


def test_an_order_before_the_timeout_takes_the_event_edge(
    frt: Runtime, fws: str, clock: Clock
) -> None:
    seed(frt, fws, clock)
    publish(frt, fws, tag_flow())
    event(frt, fws, clock, type="track", event="Signed Up", userId="u3", properties={"plan": "pro"})
    pump(frt)
    clock.advance(hours=3)
    order = event(frt, fws, clock, type="track", event="Order Completed", userId="u3")
    frt.applier.apply([order])
    pump(frt)
    (inst,) = instances(frt)
    assert inst.status == "done" and inst.reason == "completed"
    assert [a.node for a in actions(frt)] == ["tag"]
    clock.advance(days=2)
    assert pump(frt) == 0  # the timeout's timer went with the wait


def test_a_merge_during_a_wait_follows_the_person_and_keeps_one_instance(
    frt: Runtime, fws: str, clock: Clock
) -> None:
    seed(frt, fws, clock)
    publish(frt, fws, tag_flow())
    # the same person signs up on the web (anonymous) and in the app (user id): two instances
    event(
        frt,
        fws,
        clock,
        type="track",
        event="Signed Up",
        anonymousId="anon-7",
        properties={"plan": "pro"},
    )
    event(frt, fws, clock, type="track", event="Signed Up", userId="u7", properties={"plan": "pro"})
    pump(frt)
    assert len([i for i in instances(frt) if i.status == "waiting"]) == 2
    # then identify joins them
    event(
        frt,
        fws,
        clock,
        type="identify",
        userId="u7",
        anonymousId="anon-7",
        traits={"first_name": "Ali"},
    )
    clock.advance(days=2)
    pump(frt)
    done = instances(frt)
    reasons = sorted(i.reason or "" for i in done)
    assert reasons[0] == "completed" and reasons[1].startswith("merged into")
    assert len({i.profile_id for i in done}) == 1
    assert [a.node for a in actions(frt)].count("call") == 1


def test_a_privacy_request_exports_and_erases_the_persons_journeys(
    frt: Runtime, fws: str, clock: Clock
) -> None:
    from safar.runtime import erase_person, export_person

    seed(frt, fws, clock)
    publish(frt, fws, tag_flow())
    for user in ("u8", "u9"):
        event(
            frt,
            fws,
            clock,
            type="track",
            event="Signed Up",
            userId=user,
            properties={"plan": "pro"},
        )
    pump(frt)
    mine, other = instances(frt)
    data = export_person(frt, workspace_id=fws, profile_id=mine.profile_id)["flows"]
    assert [i["id"] for i in data["flow_instances"]] == [mine.id]
    assert [a["node"] for a in data["flow_actions"]] == ["tag"]
    assert {s["kind"] for s in data["flow_steps"]} == {"entered", "reached"}
    erased = erase_person(frt, workspace_id=fws, profile_id=mine.profile_id)
    assert erased["flows"] >= 3
    assert [i.id for i in instances(frt)] == [other.id]
    clock.advance(days=2)
    pump(frt)  # the erased person's timer went with them: only the other one's case is asked
    assert [(a.profile_id, a.node) for a in actions(frt)][-1] == (other.profile_id, "call")
    assert len(actions(frt)) == 2


def test_a_paused_journey_holds_its_instances_and_resuming_lets_them_go_on(
    frt: Runtime, fws: str, clock: Clock
) -> None:
    from safar.flows import service

    seed(frt, fws, clock)
    flow_id = publish(frt, fws, tag_flow())
    event(frt, fws, clock, type="track", event="Signed Up", userId="p1", properties={"plan": "pro"})
    pump(frt)
    with frt.db.session() as s:
        service.set_status(s, workspace_id=fws, flow_id=flow_id, status="paused", now=clock.now)
    frt.flows.hook.invalidate()
    event(frt, fws, clock, type="track", event="Signed Up", userId="p2", properties={"plan": "pro"})
    clock.advance(days=2)
    pump(frt)
    assert [a.node for a in actions(frt)] == ["tag"]  # p1 holds at the wait; p2 did not enter
    with frt.db.session() as s:
        service.set_status(s, workspace_id=fws, flow_id=flow_id, status="published", now=clock.now)
    pump(frt)
    assert [a.node for a in actions(frt)] == ["tag", "call"]
    assert len(instances(frt)) == 1


def test_a_negative_review_enters_a_text_triggered_journey(
    tmp_path: Any, smtp: Any, sms_gateway: Any, clock: Clock
) -> None:
    from tests.surveys.factories import make_workspace_id, survey_settings

    settings = survey_settings(tmp_path / "txt", smtp, sms_gateway, text_analysis=True)
    rt = Runtime(settings, background=False, clock=clock)
    try:
        ws = make_workspace_id(rt)
        publish(
            rt,
            ws,
            {
                "name": "Complaint follow-up",
                "trigger": {"type": "text", "sentiment": "negative"},
                "start": "case",
                "nodes": [
                    {"id": "case", "type": "case", "subject": "Complaint", "priority": "high"}
                ],
                "policy": {"topic": "transactional", "consent_purpose": None},
            },
        )
        for user, text in (
            ("angry", "سفارشم دو ساعت دیر رسید و غذا کاملا سرد بود، خیلی بد بود"),
            ("happy", "عالی بود، خیلی ممنون از ارسال سریع"),
        ):
            event(
                rt,
                ws,
                clock,
                type="track",
                event="Review Submitted",
                userId=user,
                properties={"text": text},
            )
        assert rt.text_worker is not None and rt.text_worker.wait_idle(60)
        pump(rt)
        done = instances(rt)
        assert len(done) == 1 and done[0].reason == "completed"
        assert done[0].properties["sentiment_label"] == "negative"
        with rt.db.session() as s:
            from safar.flows.people import person

            assert person(s, workspace_id=ws, profile_id=done[0].profile_id).user_id == "angry"
    finally:
        rt.close()


def test_a_retried_record_logs_each_step_once(frt: Runtime, fws: str, clock: Clock) -> None:
    """What a Temporal activity retry does: the same commands recorded twice count once."""
    from safar.flows.models import FlowStep
    from safar.flows.runtime import EmbeddedPorts, ref_of

    seed(frt, fws, clock)
    flow_id = publish(frt, fws, tag_flow())
    event(frt, fws, clock, type="track", event="Signed Up", userId="r1", properties={"plan": "pro"})
    pump(frt)
    (inst,) = instances(frt)
    ports = EmbeddedPorts(frt.flows.runtime)
    commands = [
        {"kind": "reached", "node": "wait", "visit": 2},
        {"kind": "finished", "reason": "completed"},
    ]
    ports.record(ref_of(inst), commands, clock.now)
    ports.record(ref_of(inst), commands, clock.now)
    with frt.db.session() as s:
        steps = [
            (st.kind, st.node, st.mark) for st in s.scalars(select(FlowStep).order_by(FlowStep.id))
        ]
    assert steps.count(("reached", "wait", "wait:2")) == 1
    assert [k for k, _, _ in steps].count("finished") == 1
    with frt.db.session() as s:
        stats = analytics.flow_stats(s, workspace_id=fws, flow_id=flow_id)
    assert stats["entered"] == 1 and stats["exits"] == {"completed": 1}
