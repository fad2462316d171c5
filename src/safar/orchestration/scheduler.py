"""Run due jobs exactly once: claim, check policies, compose, send, record.

A job is claimed with one conditional ``UPDATE ... WHERE status = 'pending'``: of any number of
schedulers (threads or processes sharing the state store) exactly one sees a row count of 1.
Message jobs then commit the composed message, the contact-log entry and ``status='sending'``
together *before* handing the message to the channel, so a crash can never cause a second send;
a crash in that narrow window leaves the job ``uncertain`` for an operator instead.
Internal tasks (e.g. emitting response events) are idempotent and simply retried.
A store or disk error (a full disk) never fails or repeats a job: before the send the job goes
back to ``pending``; after the send its outcome is written again with backoff until it sticks.

``TriggerHook`` inserts jobs inside the ``Applier``'s identity transaction (fast, idempotent)
and, as a post-apply hook, wakes the scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from safar.db import Database, utcnow
from safar.errors import NotFound, SafarError, is_transient
from safar.events.rows import EventRow
from safar.identity.service import lock_profile
from safar.orchestration import service
from safar.orchestration.channels import Channel, DeliveryFailed, OutboundMessage
from safar.orchestration.models import ContactLog, ScheduledJob, Trigger
from safar.orchestration.repository import JobQueue, TriggerRepository

log = logging.getLogger("safar.orchestration")
TASK_RETRIES = 5
PASS_LIMIT = 200


class Skip(Exception):
    """Raised by an action to skip a job with a reason (e.g. the survey was archived)."""


class NotStarted(Exception):
    """A store error stopped the job before anything was sent: run it again later."""


class MessageAction(Protocol):
    def validate(self, session: Session, *, workspace_id: str, params: dict[str, Any]) -> None:
        """Raise ``ValidationFailed`` when a trigger's params cannot work."""
        ...

    def compose(
        self,
        session: Session,
        *,
        job: ScheduledJob,
        trigger: Trigger,
        recipient: service.Recipient,
        address: str,
    ) -> OutboundMessage:
        """Build the message (and the domain rows behind it) in the job's transaction."""
        ...

    def delivered(
        self, session: Session, *, job: ScheduledJob, ok: bool, result: dict[str, Any]
    ) -> None:
        """Record the outcome on the domain rows."""
        ...


TaskAction = Callable[[dict[str, Any]], dict[str, Any]]


class Scheduler:
    def __init__(
        self,
        db: Database,
        *,
        channels: dict[str, Channel],
        actions: dict[str, MessageAction] | None = None,
        tasks: dict[str, TaskAction] | None = None,
        interval_s: float = 1.0,
        lease_s: float = 300.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.channels = channels
        self.actions: dict[str, MessageAction] = dict(actions or {})
        self.tasks: dict[str, TaskAction] = dict(tasks or {})
        self.interval_s = interval_s
        self.lease_s = lease_s
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.max_backoff_s = 30.0

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        try:
            self.recover()
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.error("scheduler: recovery postponed by a store error (%s)", exc)
        self._thread = threading.Thread(target=self._run, name="safar-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=30)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                # A full pass means more are due: go on at once instead of sleeping.
                while self.run_due(limit=PASS_LIMIT) >= PASS_LIMIT:
                    pass
            except Exception:
                log.exception("scheduler pass failed")
            self._wake.wait(self.interval_s)
            self._wake.clear()

    def recover(self) -> None:
        """After a crash: unclaim what never started; mark interrupted sends as uncertain."""
        stale = self.clock() - timedelta(seconds=self.lease_s)
        with self.db.session() as s:
            JobQueue(s).recover(stale)

    # -- running ---------------------------------------------------------------------------------
    def run_due(self, limit: int = PASS_LIMIT) -> int:
        """Run every due job once; return how many this scheduler claimed."""
        if self._stop.is_set():
            return 0
        now = self.clock()
        with self.db.session() as s:
            ids = JobQueue(s).due_ids(now, limit)
        ran = 0
        for job_id in ids:
            if self._stop.is_set():
                break
            try:
                claimed = self.run_job(job_id)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                # Nothing happened to the job (the claim rolled back); the next pass retries.
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]
                log.error("scheduler: store error while claiming job %s (%s)", job_id, exc)
                break
            ran += claimed
        return ran

    def claim(self, job_id: int) -> tuple[str, bool, dict[str, Any]] | None:
        """Take the job if it is still pending and due: (action, is task, payload), else None."""
        now = self.clock()
        with self.db.session() as s:
            row = JobQueue(s).claim(job_id, now)
            if row is None:
                return None
            return row.action, row.trigger_id is None, dict(row.payload or {})

    def run_job(self, job_id: int) -> bool:
        """Claim and run one job; False when someone else has it (or it is not due)."""
        claimed = self.claim(job_id)
        if claimed is None:
            return False
        action, is_task, payload = claimed
        try:
            if is_task:
                self._run_task(job_id, action, payload)
            else:
                self._run_message(job_id)
        except Exception as exc:
            if isinstance(exc, NotStarted) or (is_task and is_transient(exc)):
                cause = exc.__cause__ or exc
                log.warning("job %s: store error (%s); it will run again", job_id, cause)
                self.retry_store(lambda: self._release(job_id))
                return True
            log.exception("job %s failed", job_id)
            failure = f"error: {type(exc).__name__}"
            self.retry_store(lambda: self._finish(job_id, "failed", failure))
        return True

    def retry_store(self, write: Callable[[], None]) -> bool:
        """Run a state-store write until it succeeds, backing off on store errors.

        False when the scheduler stops first; what was not written is then left to
        ``recover`` at the next start (a claimed job is unclaimed, a sent one is never resent).
        """
        delay = max(self.interval_s, 0.05)
        while True:
            try:
                write()
                if self.last_error is not None:
                    log.warning("scheduler: the state store is writable again")
                    self.last_error = None
                return True
            except Exception as exc:
                if not is_transient(exc):
                    raise
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]
                log.error("scheduler: store error (%s); retrying in %.1f s", exc, delay)
            if self._stop.wait(delay):
                return False
            delay = min(delay * 2, self.max_backoff_s)

    def _release(self, job_id: int) -> None:
        """Back to pending, due again shortly: nothing of the job has happened."""
        with self.db.session() as s:
            JobQueue(s).release(job_id, self.clock() + timedelta(seconds=self.interval_s))

    def _finish(
        self, job_id: int, status: str, outcome: str, result: dict[str, Any] | None = None
    ) -> None:
        with self.db.session() as s:
            job = JobQueue(s).job(job_id)
            assert job is not None
            job.status = status
            job.outcome = outcome[:300]
            job.finished_at = self.clock()
            if result is not None:
                job.result = result

    def _run_task(self, job_id: int, action: str, payload: dict[str, Any]) -> None:
        task = self.tasks.get(action)
        if task is None:
            self._finish(job_id, "failed", f"no task named {action!r}")
            return
        try:
            result = task(payload)
        except Exception as exc:
            if is_transient(exc):
                raise
            log.exception("task %s (%s) failed", job_id, action)
            with self.db.session() as s:
                job = JobQueue(s).job(job_id)
                assert job is not None
                if job.attempts >= TASK_RETRIES:
                    job.status, job.outcome = "failed", f"error: {type(exc).__name__}"
                    job.finished_at = self.clock()
                else:
                    job.status = "pending"
                    job.due_at = self.clock() + timedelta(seconds=2**job.attempts)
            return
        self._finish(job_id, "done", "ok", result)

    def _run_message(self, job_id: int) -> None:
        try:
            message = self._prepare_message(job_id)
        except Exception as exc:
            if is_transient(exc):
                raise NotStarted(str(exc)) from exc
            raise
        if message is None:
            return
        channel = self.channels[message.channel]
        try:
            result = channel.send(message)
            ok, outcome = True, "sent"
        except DeliveryFailed as exc:
            result, ok, outcome = {"error": exc.message}, False, exc.message
        # Sent: the outcome must be recorded, however long the store takes to take it.
        self.retry_store(lambda: self._record_delivery(job_id, ok, outcome, result))

    def _prepare_message(self, job_id: int) -> OutboundMessage | None:
        """Check, compose and commit ``status='sending'``; None when the job is not sent."""
        now = self.clock()
        message: OutboundMessage | None = None
        with self.db.session() as s:
            # Write first, so SQLite takes its write lock before any read of this transaction.
            queue = JobQueue(s)
            queue.touch(job_id, now)
            job = queue.job(job_id)
            assert job is not None
            verdict = self._prepare(s, job, now)
            if verdict == "reschedule":
                return None
            if isinstance(verdict, str):
                job.status, job.outcome, job.finished_at = "skipped", verdict, now
                return None
            message = self._compose(s, job, now, *verdict)
        return message

    def _record_delivery(self, job_id: int, ok: bool, outcome: str, result: dict[str, Any]) -> None:
        with self.db.session() as s:
            job = JobQueue(s).job(job_id)
            assert job is not None
            job.status = "done" if ok else "failed"
            job.outcome = outcome[:300]
            job.result = result
            job.finished_at = self.clock()
            JobQueue(s).contacted(job_id, "sent" if ok else "failed")
            self.actions[job.action].delivered(s, job=job, ok=ok, result=result)

    def _prepare(
        self, s: Session, job: ScheduledJob, now: datetime
    ) -> str | tuple[service.Recipient, Trigger]:
        """Whom to contact when the job may contact its profile now; otherwise why not."""
        triggers = TriggerRepository(s)
        trigger = triggers.get(job.workspace_id, job.trigger_id) if job.trigger_id else None
        if trigger is None or not trigger.active:
            return "trigger deleted or paused"
        if job.action not in self.actions:
            return f"no action named {job.action!r}"
        if job.channel not in self.channels:
            return f"channel {job.channel!r} is not configured"
        try:
            recipient = service.resolve_recipient(
                s, workspace_id=job.workspace_id, payload=job.payload
            )
        except NotFound:
            return "no profile for the triggering event"
        job.profile_id = recipient.profile_id
        # Serialise decisions about one profile (PostgreSQL; SQLite already has one writer).
        lock_profile(s, recipient.profile_id)
        if not service.consent_allows(trigger, recipient, job.channel or ""):
            return "no consent"
        resume = service.quiet_until(trigger, now)
        if resume is not None:
            job.status, job.due_at, job.outcome = "pending", resume, "quiet hours; rescheduled"
            return "reschedule"
        if service.recently_contacted(
            s,
            workspace_id=job.workspace_id,
            profile_id=recipient.profile_id,
            topic=trigger.topic,
            days=trigger.fatigue_days,
            now=now,
        ):
            return f"fatigue: contacted about {trigger.topic} within {trigger.fatigue_days:g} days"
        if not recipient.address(job.channel or ""):
            return f"no {job.channel} address for the profile"
        return recipient, trigger

    def _compose(
        self,
        s: Session,
        job: ScheduledJob,
        now: datetime,
        recipient: service.Recipient,
        trigger: Trigger,
    ) -> OutboundMessage | None:
        address = recipient.address(job.channel or "")
        assert address is not None
        try:
            message = self.actions[job.action].compose(
                s, job=job, trigger=trigger, recipient=recipient, address=address
            )
        except (Skip, SafarError) as exc:
            job.status, job.finished_at = "skipped", now
            job.outcome = str(exc.message if isinstance(exc, SafarError) else exc)[:300]
            return None
        s.add(
            ContactLog(
                workspace_id=job.workspace_id,
                profile_id=recipient.profile_id,
                topic=trigger.topic,
                channel=job.channel or "",
                job_id=job.id,
                status="sending",
                at=now,
            )
        )
        job.status = "sending"
        return message


class TriggerHook:
    """Schedule jobs for applied events that match an active trigger."""

    def __init__(self, db: Database, scheduler: Scheduler, refresh_s: float = 5.0) -> None:
        self.db = db
        self.scheduler = scheduler
        self.refresh_s = refresh_s
        self._cached: tuple[float, list[Trigger]] | None = None
        self._lock = threading.Lock()
        self._wake_pending = False

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def _triggers(self) -> list[Trigger]:
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < self.refresh_s:
                return self._cached[1]
        with self.db.session() as s:
            triggers = service.active_triggers(s)
            s.expunge_all()
        with self._lock:
            self._cached = (time.monotonic(), triggers)
        return triggers

    def schedule(self, session: Session, rows: list[EventRow]) -> None:
        """Insert the jobs in the Applier's identity transaction.

        Committed with the identities, before the events are stored: a crash or a full disk
        in between replays the rows, and re-scheduling them adds nothing, so no job is lost.
        """
        triggers = self._triggers()
        if not triggers:
            return
        names = {t.event for t in triggers}
        hits = [r for r in rows if r.get("type") == "track" and r.get("event") in names]
        if hits and service.schedule_for_rows(session, triggers, hits, now=self.scheduler.clock()):
            self._wake_pending = True

    def __call__(self, rows: list[EventRow]) -> None:
        """After the apply: wake the scheduler for the jobs committed by ``schedule``."""
        if self._wake_pending:
            self._wake_pending = False
            self.scheduler.wake()
