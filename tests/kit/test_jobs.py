"""Durable jobs by key (kit.jobs on the orchestration scheduler's table)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from safar.kit.db import Database
from safar.kit.jobs import Jobs
from safar.orchestration.jobs import ScheduledJobs
from safar.orchestration.scheduler import Scheduler

DUE = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def woken() -> list[int]:
    return []


@pytest.fixture
def jobs(woken: list[int]) -> Jobs:
    return ScheduledJobs(lambda: woken.append(1))


def test_enqueue_is_once_per_key(db: Database, two_workspaces: tuple[str, str], jobs: Jobs) -> None:
    a, b = two_workspaces
    with db.session() as session:
        first = jobs.enqueue(
            session, workspace_id=a, action="noop", payload={"n": 1}, key="k1", due_at=DUE
        )
        again = jobs.enqueue(session, workspace_id=a, action="noop", payload={"n": 2}, key="k1")
        other = jobs.enqueue(session, workspace_id=b, action="noop", payload={}, key="k1")
    assert again.id == first.id and again.due_at == DUE
    assert other.id != first.id  # keys are per workspace
    assert first.status == "pending" and first.key == "k1"


def test_cancel_and_reschedule_by_key(
    db: Database, two_workspaces: tuple[str, str], jobs: Jobs
) -> None:
    a, b = two_workspaces
    with db.session() as session:
        jobs.enqueue(session, workspace_id=a, action="noop", payload={}, key="remind", due_at=DUE)
        jobs.enqueue(session, workspace_id=a, action="noop", payload={}, key="drop", due_at=DUE)
    later = DUE.replace(hour=18)
    with db.session() as session:
        moved = jobs.reschedule(session, workspace_id=a, key="remind", due_at=later)
        assert moved is not None and moved.due_at == later
        assert jobs.reschedule(session, workspace_id=b, key="remind", due_at=later) is None
        assert jobs.cancel(session, workspace_id=a, key="drop") is True
        assert jobs.cancel(session, workspace_id=a, key="drop") is False  # no longer pending
        assert jobs.cancel(session, workspace_id=a, key="never") is False


def test_a_cancelled_job_never_runs(db: Database, two_workspaces: tuple[str, str]) -> None:
    a, _ = two_workspaces
    ran: list[dict[str, object]] = []

    def task(payload: dict[str, object]) -> dict[str, object]:
        ran.append(payload)
        return {}

    scheduler = Scheduler(db, channels={}, tasks={"note": task}, clock=lambda: DUE)
    jobs = ScheduledJobs(scheduler.wake, clock=lambda: DUE)  # due "now" by the same clock
    with db.session() as session:
        for k in ("kept", "gone"):
            jobs.enqueue(session, workspace_id=a, action="note", payload={"k": k}, key=k)
    with db.session() as session:
        jobs.cancel(session, workspace_id=a, key="gone")
    assert scheduler.run_due() == 1
    assert ran == [{"k": "kept"}]


def test_the_scheduler_is_woken_only_after_the_commit(
    db: Database, two_workspaces: tuple[str, str], jobs: Jobs, woken: list[int]
) -> None:
    a, _ = two_workspaces
    with pytest.raises(RuntimeError), db.session() as session:
        jobs.enqueue(session, workspace_id=a, action="noop", payload={}, key="rolled-back")
        raise RuntimeError("the caller's unit of work fails")
    assert woken == []
    with db.session() as session:
        jobs.enqueue(session, workspace_id=a, action="noop", payload={}, key="kept")
        assert woken == []  # not before the row is visible to the scheduler
    assert woken == [1]
