"""``kit.jobs.Jobs`` on the state store: the scheduled-jobs table the ``Scheduler`` runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from safar.kit.container import Clock
from safar.kit.db import utcnow
from safar.kit.jobs import JobRef
from safar.orchestration import service
from safar.orchestration.models import ScheduledJob
from safar.orchestration.repository import JobRepository


def _ref(job: ScheduledJob) -> JobRef:
    return JobRef(job.id, job.dedupe_key, job.action, job.status, job.due_at)


class ScheduledJobs:
    """Enqueue, cancel and reschedule internal tasks by key, in the caller's unit of work.

    ``wake`` (the scheduler's) runs after the caller's commit, so a job due now starts without
    waiting for the next poll and never before its row is visible.
    """

    def __init__(self, wake: Callable[[], None] | None = None, clock: Clock = utcnow) -> None:
        self.wake = wake
        self.clock = clock

    def _wake_after_commit(self, session: Session) -> None:
        if self.wake is not None:
            wake = self.wake
            event.listen(session, "after_commit", lambda _s: wake(), once=True)

    def enqueue(
        self,
        session: Session,
        *,
        workspace_id: str,
        action: str,
        payload: dict[str, Any],
        key: str,
        due_at: datetime | None = None,
    ) -> JobRef:
        job = service.enqueue_task(
            session,
            workspace_id=workspace_id,
            action=action,
            payload=payload,
            dedupe_key=key,
            due_at=due_at or self.clock(),
        )
        self._wake_after_commit(session)
        return _ref(job)

    def cancel(self, session: Session, *, workspace_id: str, key: str) -> bool:
        job = JobRepository(session).pending(workspace_id, key)
        if job is None:
            return False
        job.status, job.outcome, job.reason = "skipped", "cancelled", "paused"
        session.flush()
        return True

    def reschedule(
        self, session: Session, *, workspace_id: str, key: str, due_at: datetime
    ) -> JobRef | None:
        job = JobRepository(session).pending(workspace_id, key)
        if job is None:
            return None
        job.due_at = due_at
        session.flush()
        self._wake_after_commit(session)
        return _ref(job)
