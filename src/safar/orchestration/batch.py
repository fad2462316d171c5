"""The scheduler's message batches: claimed jobs decided, composed and recorded set-based.

Checked one by one, a message costs about ten statements: its job read, its trigger, the
profile lock, two contact-log counts, the journey instance, a savepoint and its release, the
contact-log insert, and again the job read and the contact-log update when it is recorded.
``prepare`` reads all of that for the batch ahead (``Ledger``, the actions' ``preload``) and
writes the contact log in one statement, with no savepoint per job; ``record`` reads the
batch's jobs in one query and updates their contact-log entries in one statement per outcome.

The checks are the same calls (``sending.decide``, ``sending.compose``), in the same order, so
a batch decides exactly as its jobs would one by one. When anything in a batch raises, its
unit of work rolls back as a whole and ``prepare_each`` decides its jobs again one by one,
each in a savepoint, so one bad job fails alone (a token the first try took from a channel's
rate limiter is not given back: at worst a message is held a moment longer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from safar.errors import is_transient
from safar.orchestration import sending, service
from safar.orchestration.channels import Channel, OutboundMessage
from safar.orchestration.ledger import Ledger
from safar.orchestration.limits import Guards
from safar.orchestration.models import ScheduledJob
from safar.orchestration.repository import JobQueue

#: A delivery's outcome: (job id, verdict, outcome, result, retry after).
Outcome = tuple[int, str, str, dict[str, Any], float | None]


@dataclass(frozen=True, slots=True)
class Rules:
    """What the checks apply, as the scheduler holds it at the time of the batch."""

    actions: dict[str, sending.MessageAction]
    channels: dict[str, Channel]
    guards: Guards


def recipients(s: Session, jobs: list[ScheduledJob]) -> dict[str, service.Recipient]:
    """The profiles the jobs name, read ahead in a few queries per workspace."""
    by_ws: dict[str, list[str]] = {}
    for job in jobs:
        if job.profile_id:
            by_ws.setdefault(job.workspace_id, []).append(job.profile_id)
    out: dict[str, service.Recipient] = {}
    for ws, pids in by_ws.items():
        out |= service.resolve_recipients(s, workspace_id=ws, profile_ids=pids)
    return out


def check(
    s: Session,
    job: ScheduledJob,
    now: datetime,
    rules: Rules,
    recipients: dict[str, service.Recipient] | None = None,
    ledger: Ledger | None = None,
) -> OutboundMessage | None:
    """Decide and compose in the caller's unit of work: the message to send (the job is
    then ``sending``), or None (held for later, or skipped with its reason)."""
    verdict = sending.decide(
        s,
        job,
        now,
        actions=rules.actions,
        channels=rules.channels,
        guards=rules.guards,
        recipients=recipients,
        ledger=ledger,
    )
    if isinstance(verdict, sending.Hold):
        sending.note_hold(job, verdict, now)
        return None
    message: OutboundMessage | sending.Refuse
    if isinstance(verdict, sending.Go):
        message = sending.compose(s, job, now, verdict, rules.actions[job.action], ledger)
    else:
        message = verdict
    if isinstance(message, sending.Refuse):
        job.status, job.reason, job.finished_at = "skipped", message.reason, now
        job.outcome = message.outcome[:300]
        return None
    job.status, job.reason = "sending", None
    return message


def prepare(
    s: Session, job_ids: list[int], now: datetime, rules: Rules
) -> list[tuple[int, OutboundMessage]]:
    """(job id, message) of the batch's jobs to send now, ``sending`` once the caller
    commits; raises when any job's checks did (the caller then runs ``prepare_each``)."""
    queue = JobQueue(s)
    # Write first, so SQLite takes its write lock before any read of this transaction; one
    # row does it (the batch was claimed a moment ago, its lease needs no renewal).
    queue.touch_many(job_ids[:1], now)
    # Held here: the session's identity map keeps what it loaded only weakly.
    jobs = {j.id: j for j in queue.jobs(job_ids)}
    found = recipients(s, list(jobs.values()))
    ledger = Ledger(s, rules.guards, now)
    ledger.read_ahead(list(jobs.values()), found)
    by_action: dict[str, list[ScheduledJob]] = {}
    for job in jobs.values():
        by_action.setdefault(job.action, []).append(job)
    for name, some in by_action.items():
        preload = getattr(rules.actions.get(name), "preload", None)
        if preload is not None:
            preload(s, some)
    prepared: list[tuple[int, OutboundMessage]] = []
    for job_id in job_ids:
        message = check(s, jobs[job_id], now, rules, found, ledger)
        if message is not None:
            prepared.append((job_id, message))
    ledger.write()
    s.flush()
    return prepared


def prepare_each(
    s: Session, job_ids: list[int], now: datetime, rules: Rules
) -> tuple[list[tuple[int, OutboundMessage]], list[tuple[int, Exception]]]:
    """``prepare`` one job at a time, each in a savepoint: also (job id, error) of the jobs
    whose checks raised (their savepoint rolled back)."""
    queue = JobQueue(s)
    queue.touch_many(job_ids, now)
    jobs = {j.id: j for j in queue.jobs(job_ids)}
    found = recipients(s, list(jobs.values()))
    prepared: list[tuple[int, OutboundMessage]] = []
    failed: list[tuple[int, Exception]] = []
    for job_id in job_ids:
        try:
            with s.begin_nested():
                message = check(s, jobs[job_id], now, rules, found)
        except Exception as exc:
            if is_transient(exc):
                raise
            failed.append((job_id, exc))
            continue
        if message is not None:
            prepared.append((job_id, message))
    return prepared, failed


def record(s: Session, outcomes: list[Outcome], now: datetime, rules: Rules) -> None:
    """Each delivery's outcome: done, failed, uncertain, or (``retry``) pending again after a
    backoff; the jobs and their contact-log entries in one statement per kind of change."""
    queue = JobQueue(s)
    known = queue.to_record([o[0] for o in outcomes])
    rows: list[dict[str, Any]] = []
    contacted: dict[str, list[int]] = {"sent": [], "failed": []}
    delivered: list[tuple[int, str, bool, dict[str, Any]]] = []
    limit = rules.guards.max_attempts
    for job_id, verdict, outcome, result, retry_after in outcomes:
        action, attempts, stored = known[job_id]
        if verdict == "retry" and attempts < limit:
            delay = rules.guards.retry_delay(attempts, retry_after)
            text = f"{outcome}; attempt {attempts} of {limit}, next in {delay:g} s"
            rows.append(
                {
                    "job_id": job_id,
                    "status": "pending",
                    "reason": "error",
                    "due_at": now + timedelta(seconds=delay),
                    "outcome": text[:300],
                }
            )
            contacted["failed"].append(job_id)  # a failed attempt uses up no budget
            continue
        if verdict == "retry":
            verdict, outcome = "failed", f"{outcome}; gave up after {attempts} attempts"
        holds = stored.get("holds")
        rows.append(
            {
                "job_id": job_id,
                "status": verdict,
                "reason": None if verdict == "done" else "error",
                "outcome": outcome[:300],
                "finished_at": now,
                "result": {**result, "holds": holds} if holds else result,
            }
        )
        if verdict == "uncertain":
            continue  # it may have reached them: its contact keeps counting, nothing resends
        contacted["sent" if verdict == "done" else "failed"].append(job_id)
        delivered.append((job_id, action, verdict == "done", result))
    queue.write_outcomes(rows)
    for status, ids in contacted.items():
        queue.contacted_many(ids, status)
    # Actions that keep no state of their own about a delivery skip loading the jobs.
    wanted = [d for d in delivered if getattr(rules.actions[d[1]], "records_delivery", True)]
    jobs = {j.id: j for j in queue.jobs([d[0] for d in wanted])} if wanted else {}
    for job_id, action, ok, result in wanted:
        rules.actions[action].delivered(s, job=jobs[job_id], ok=ok, result=result)
