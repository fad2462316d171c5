"""Durable scheduling: restarts, concurrent schedulers, quiet hours, sampling, replays."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from safar.orchestration import service as orch
from safar.orchestration.models import ScheduledJob
from safar.orchestration.scheduler import Scheduler
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.orchestration.factories import Gateway, PassClock, SmtpServer
from tests.surveys.factories import (
    customer,
    jobs,
    make_survey,
    make_trigger,
    send_event,
    survey_settings,
)


def statuses(rt: Runtime) -> list[str]:
    return [s for s, _ in jobs(rt)]


def test_restart_during_the_delay_still_sends_exactly_once(
    tmp_path: Path, smtp: SmtpServer, sms_gateway: Gateway
) -> None:
    settings = survey_settings(tmp_path / "safar", smtp, sms_gateway)
    first = Runtime(settings)  # background threads, like a server
    try:
        with first.db.session() as s:
            ws_id = create_workspace(s, name="Shop")[0].id
        survey_id = make_survey(first, ws_id)
        make_trigger(first, ws_id, survey_id, delay_seconds=2)
        customer(first, ws_id, "u1", email="u1@example.com")
        send_event(first, ws_id, type="track", event="order_delivered", userId="u1")
        assert statuses(first) == ["pending"]
    finally:
        first.close()  # the server stops while the survey waits for its delay
    assert smtp.mailbox.messages == []  # nothing runs once the first server is closed
    second = Runtime(settings)
    # The restarted server's clock is past the delay: its scheduler thread sends the survey.
    clock = second.scheduler.clock = PassClock(offset=timedelta(seconds=3))
    try:
        assert clock.wait_until(lambda: statuses(second) == ["done"]), statuses(second)
        assert len(smtp.mailbox.messages) == 1
        assert clock.wait_passes(3)  # more scheduler passes: still one
        assert len(smtp.mailbox.messages) == 1
        assert statuses(second) == ["done"]
        # Replaying the WAL / the same event again schedules nothing new.
        with second.db.session() as s:
            assert s.scalar(select(func.count()).select_from(ScheduledJob)) == 1
    finally:
        second.close()


def test_two_schedulers_racing_send_each_job_once(
    rt: Runtime, ws_id: str, smtp: SmtpServer
) -> None:
    survey_id = make_survey(rt, ws_id, "csat")
    make_trigger(rt, ws_id, survey_id, fatigue_days=0)
    for i in range(12):
        customer(rt, ws_id, f"u{i}", email=f"u{i}@example.com")
        send_event(rt, ws_id, type="track", event="order_delivered", userId=f"u{i}")
    other = Scheduler(rt.db, channels=rt.scheduler.channels, actions=rt.scheduler.actions)
    claimed: list[int] = []
    barrier = threading.Barrier(2)

    def run(s: Scheduler) -> None:
        barrier.wait()
        claimed.append(s.run_due())

    threads = [threading.Thread(target=run, args=(s,)) for s in (rt.scheduler, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(claimed) == 12
    # Each send finished inside run_due, so every mail is in; another pass claims nothing.
    assert len(smtp.mailbox.messages) == 12
    assert rt.scheduler.run_due() == 0 and other.run_due() == 0
    assert len(smtp.mailbox.messages) == 12
    assert sorted({m["To"] for m in smtp.mailbox.messages}) == sorted(
        f"u{i}@example.com" for i in range(12)
    )
    assert statuses(rt) == ["done"] * 12


def test_quiet_hours_postpone_to_the_morning(rt: Runtime, ws_id: str, smtp: SmtpServer) -> None:
    night = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # 23:30 in Tehran
    rt.scheduler.clock = lambda: night
    survey_id = make_survey(rt, ws_id, "nps")
    make_trigger(rt, ws_id, survey_id, quiet_start=22, quiet_end=8)
    customer(rt, ws_id, "u1", email="u1@example.com")
    send_event(
        rt, ws_id, type="track", event="order_delivered", userId="u1", timestamp=night.isoformat()
    )
    rt.scheduler.run_due()
    assert smtp.mailbox.messages == []  # sends happen inside run_due: none did
    with rt.db.session() as s:
        job = s.scalar(select(ScheduledJob))
        assert job is not None and job.status == "pending"
        assert job.due_at == datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # 08:00 Tehran
    rt.scheduler.clock = lambda: datetime(2026, 11, 24, 4, 31, tzinfo=UTC)
    assert rt.scheduler.run_due() == 1
    assert len(smtp.mailbox.wait(1)) == 1


def test_sampling_is_deterministic_and_replays_schedule_nothing(rt: Runtime, ws_id: str) -> None:
    survey_id = make_survey(rt, ws_id, "nps")
    tid = make_trigger(rt, ws_id, survey_id, sample_rate=0.3)
    now = datetime.now(UTC)
    rows = [
        {
            "workspace_id": ws_id,
            "type": "track",
            "event": "order_delivered",
            "message_id": f"m{i}",
            "timestamp": int(now.timestamp() * 1e6),
            "user_id": f"u{i}",
        }
        for i in range(1000)
    ]
    with rt.db.session() as s:
        triggers = orch.active_triggers(s)
        created = orch.schedule_for_rows(s, triggers, rows, now=now)
    assert 240 <= len(created) <= 360
    with rt.db.session() as s:
        again = orch.schedule_for_rows(s, orch.active_triggers(s), rows, now=now)
    assert again == []
    assert {orch.sampled(tid, r["message_id"], 0.3) for r in rows[:50]} == {True, False}


def test_old_events_from_imports_schedule_nothing(rt: Runtime, ws_id: str) -> None:
    survey_id = make_survey(rt, ws_id, "nps")
    make_trigger(rt, ws_id, survey_id)
    customer(rt, ws_id, "u1", email="u1@example.com")
    old = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    send_event(rt, ws_id, type="track", event="order_delivered", userId="u1", timestamp=old)
    assert jobs(rt) == []


def test_recovery_after_a_crash_never_resends(rt: Runtime, ws_id: str, smtp: SmtpServer) -> None:
    survey_id = make_survey(rt, ws_id, "nps")
    make_trigger(rt, ws_id, survey_id, fatigue_days=0)
    for i in range(2):
        customer(rt, ws_id, f"u{i}", email=f"u{i}@example.com")
        send_event(rt, ws_id, type="track", event="order_delivered", userId=f"u{i}")
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with rt.db.session() as s:
        first, second = s.scalars(select(ScheduledJob).order_by(ScheduledJob.id)).all()
        first.status, first.claimed_at = "claimed", long_ago  # crashed before composing
        second.status, second.claimed_at = "sending", long_ago  # crashed around the send
    rt.scheduler.recover()
    assert statuses(rt) == ["pending", "uncertain"]
    assert rt.scheduler.run_due() == 1
    assert len(smtp.mailbox.messages) == 1
    assert rt.scheduler.run_due() == 0  # the uncertain one is never sent again
    assert len(smtp.mailbox.messages) == 1
    assert statuses(rt) == ["done", "uncertain"]


def test_required_consent(rt: Runtime, ws_id: str, smtp: SmtpServer) -> None:
    survey_id = make_survey(rt, ws_id, "nps")
    make_trigger(rt, ws_id, survey_id, consent_purpose="surveys", require_consent=True)
    customer(rt, ws_id, "silent", email="silent@example.com")
    send_event(
        rt,
        ws_id,
        type="identify",
        userId="yes",
        traits={"email": "yes@example.com"},
        context={
            "consent": {
                "preferences": [{"purpose": "surveys", "channel": "email", "granted": True}]
            }
        },
    )
    for user in ("silent", "yes"):
        send_event(rt, ws_id, type="track", event="order_delivered", userId=user)
    rt.scheduler.run_due()
    assert [m["To"] for m in smtp.mailbox.wait(1)] == ["yes@example.com"]
    assert sorted(jobs(rt)) == [("done", "sent"), ("skipped", "no consent")]
