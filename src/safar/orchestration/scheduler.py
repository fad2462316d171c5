"""Run due jobs exactly once: claim, check policies, compose, send, record.

A job is claimed with one conditional ``UPDATE ... WHERE status = 'pending'``: of any number of
schedulers (threads or processes sharing the state store) exactly one sees a row count of 1.
Message jobs (``kind='message'``: a trigger's, or a journey's from ``service.enqueue_message``)
pass the checks of ``sending.decide`` and then commit the composed message, the contact-log
entry and ``status='sending'`` together *before* handing the message to the channel, so a crash
can never cause a second send; a crash or a timeout in that narrow window leaves the job
``uncertain`` for an operator instead. A channel failure that is safe to repeat (nothing reached
the provider, or it said "later") puts the job back with exponential backoff, up to
``Guards.max_attempts``; then it is ``failed``, the dead letters ``safar jobs retry`` re-queues.
Internal tasks (``kind='task'``, e.g. emitting response events) are idempotent and retried.
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
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from safar.db import Database, utcnow
from safar.errors import is_transient
from safar.events.rows import EventRow
from safar.orchestration import batch, service
from safar.orchestration.channels import Channel, DeliveryFailed, DeliveryUncertain, OutboundMessage
from safar.orchestration.limits import Guards
from safar.orchestration.models import Trigger
from safar.orchestration.repository import JobQueue
from safar.orchestration.sending import MessageAction as MessageAction
from safar.orchestration.sending import Skip as Skip

log = logging.getLogger("safar.orchestration")
TASK_RETRIES = 5
PASS_LIMIT = 200
#: Jobs claimed, decided and recorded per unit of work.
BATCH = 50


class NotStarted(Exception):
    """A store error stopped the job before anything was sent: run it again later."""


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
        guards: Guards | None = None,
        send_concurrency: int = 8,
    ) -> None:
        self.db = db
        #: Messages of one batch handed to their channels at once (each waits on its provider).
        self.send_concurrency = max(1, send_concurrency)
        self.guards = guards or Guards()
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
        """Run every due job once; return how many this scheduler claimed.

        Jobs are claimed ``BATCH`` at a time in one statement; the batch's messages are
        decided and composed in one unit of work, sent side by side (``send_concurrency``
        at once), and their outcomes recorded in one more; tasks run one by one.
        """
        if self._stop.is_set():
            return 0
        now = self.clock()
        with self.db.session() as s:
            ids = JobQueue(s).due_ids(now, limit)
        ran = 0
        for i in range(0, len(ids), BATCH):
            if self._stop.is_set():
                break
            try:
                with self.db.session() as s:
                    claimed = JobQueue(s).claim_many(ids[i : i + BATCH], self.clock())
            except Exception as exc:
                if not is_transient(exc):
                    raise
                # Nothing happened to the jobs (the claim rolled back); the next pass retries.
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]
                log.error("scheduler: store error while claiming jobs (%s)", exc)
                break
            messages = [job_id for job_id, _, kind, _ in claimed if kind != "task"]
            for job_id, action, kind, payload in claimed:
                if kind == "task":
                    self._run_claimed(job_id, action, True, dict(payload or {}))
            if messages:
                self._run_messages(messages)
            ran += len(claimed)
        return ran

    def claim(self, job_id: int) -> tuple[str, bool, dict[str, Any]] | None:
        """Take the job if it is still pending and due: (action, is task, payload), else None."""
        now = self.clock()
        with self.db.session() as s:
            row = JobQueue(s).claim(job_id, now)
            if row is None:
                return None
            return row.action, row.kind == "task", dict(row.payload or {})

    def run_job(self, job_id: int) -> bool:
        """Claim and run one job; False when someone else has it (or it is not due)."""
        claimed = self.claim(job_id)
        if claimed is None:
            return False
        self._run_claimed(job_id, *claimed)
        return True

    def _run_claimed(
        self, job_id: int, action: str, is_task: bool, payload: dict[str, Any]
    ) -> None:
        try:
            if is_task:
                self._run_task(job_id, action, payload)
            else:
                self._run_message(job_id)
        except Exception as exc:
            self._failed(job_id, exc, is_task)

    def _failed(self, job_id: int, exc: Exception, is_task: bool) -> None:
        """A job that raised: again later when nothing happened (a store error), else failed."""
        if isinstance(exc, NotStarted) or (is_task and is_transient(exc)):
            cause = exc.__cause__ or exc
            log.warning("job %s: store error (%s); it will run again", job_id, cause)
            self.retry_store(lambda: self._release(job_id))
            return
        log.error("job %s failed", job_id, exc_info=exc)
        failure = f"error: {type(exc).__name__}"
        self.retry_store(lambda: self._finish(job_id, "failed", failure, reason="error"))

    def _run_messages(self, job_ids: list[int]) -> None:
        """Claimed message jobs as a batch: decide and compose all in one unit of work (each
        in a savepoint), send side by side, record every outcome in one unit of work."""
        try:
            prepared, failed = self._prepare_messages(job_ids)
        except Exception as exc:
            if not is_transient(exc):
                raise
            for job_id in job_ids:
                self._failed(job_id, NotStarted(str(exc)), False)
            return
        for job_id, error in failed:
            self._failed(job_id, error, False)
        if not prepared:
            return
        workers = min(self.send_concurrency, len(prepared))
        if workers > 1:
            with ThreadPoolExecutor(workers, thread_name_prefix="safar-send") as pool:
                outcomes = list(pool.map(self._deliver, prepared))
        else:
            outcomes = [self._deliver(p) for p in prepared]
        self.retry_store(lambda: self._record_deliveries(outcomes))

    def _rules(self) -> batch.Rules:
        return batch.Rules(self.actions, self.channels, self.guards)

    def _prepare_messages(
        self, job_ids: list[int]
    ) -> tuple[list[tuple[int, OutboundMessage]], list[tuple[int, Exception]]]:
        """(job id, message) of the jobs to send now, committed as ``sending`` together, and
        (job id, error) of those whose checks raised: the batch set-based, and when it
        raises, again one job at a time so only the bad job fails."""
        try:
            with self.db.session() as s:
                return batch.prepare(s, job_ids, self.clock(), self._rules()), []
        except Exception as exc:
            if is_transient(exc):
                raise
            log.warning("scheduler: a batch raised (%s); deciding its jobs one by one", exc)
        with self.db.session() as s:
            return batch.prepare_each(s, job_ids, self.clock(), self._rules())

    def _deliver(self, item: tuple[int, OutboundMessage]) -> batch.Outcome:
        """Hand one message to its channel: (job id, verdict, outcome, result, retry after)."""
        job_id, message = item
        channel = self.channels[message.channel]
        retry_after: float | None = None
        try:
            result, verdict, outcome = channel.send(message), "done", "sent"
        except DeliveryUncertain as exc:
            result, verdict, outcome = {"error": exc.message}, "uncertain", exc.message
        except DeliveryFailed as exc:
            result, outcome = {"error": exc.message}, exc.message
            verdict, retry_after = ("retry" if exc.retryable else "failed"), exc.retry_after
        except Exception as exc:  # a channel bug: the message may have left, never resend it
            log.error("job %s: the %s channel raised", job_id, message.channel, exc_info=exc)
            result, verdict = {"error": type(exc).__name__}, "uncertain"
            outcome = f"error: {type(exc).__name__}"
        return job_id, verdict, outcome, result, retry_after

    def _record_deliveries(self, outcomes: list[batch.Outcome]) -> None:
        with self.db.session() as s:
            batch.record(s, outcomes, self.clock(), self._rules())

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
        self,
        job_id: int,
        status: str,
        outcome: str,
        result: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        with self.db.session() as s:
            job = JobQueue(s).job(job_id)
            assert job is not None
            job.status, job.reason = status, reason
            job.outcome = outcome[:300]
            job.finished_at = self.clock()
            if result is not None:
                job.result = result

    def _run_task(self, job_id: int, action: str, payload: dict[str, Any]) -> None:
        task = self.tasks.get(action)
        if task is None:
            self._finish(job_id, "failed", f"no task named {action!r}", reason="error")
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
                    job.reason = "error"
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
        outcome = self._deliver((job_id, message))
        # Sent: the outcome must be recorded, however long the store takes to take it.
        self.retry_store(lambda: self._record_deliveries([outcome]))

    def _prepare_message(self, job_id: int) -> OutboundMessage | None:
        """Check, compose and commit ``status='sending'``; None when the job is not sent."""
        now = self.clock()
        with self.db.session() as s:
            # Write first, so SQLite takes its write lock before any read of this transaction.
            queue = JobQueue(s)
            queue.touch(job_id, now)
            job = queue.job(job_id)
            assert job is not None
            return batch.check(s, job, now, self._rules())


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
