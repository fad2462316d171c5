"""What a due message job may do now: go, wait (a hold), or not at all (a skip), and why.

One path for every message, whoever scheduled it: a trigger job reads its trigger's policy and
params, a journey's job (``service.enqueue_message``) carries its own. The checks run in the
job's transaction with the profile locked, so two schedulers deciding about one person queue
and the budget is never overspent. Every outcome that is not a send names a reason code
(``policy.REASONS``); holds never drop a message, they make it due again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from safar.errors import NotFound, SafarError
from safar.identity.service import lock_profile
from safar.kit.calendar import period_start, week_start
from safar.orchestration import service
from safar.orchestration.channels import Channel, OutboundMessage
from safar.orchestration.ledger import Ledger
from safar.orchestration.limits import Guards
from safar.orchestration.models import ContactLog, ScheduledJob
from safar.orchestration.policy import SendPolicy
from safar.orchestration.repository import TriggerRepository


class Skip(Exception):
    """Raised by an action to skip a job with a reason (e.g. the survey was archived)."""

    def __init__(self, message: str, *, reason: str = "error") -> None:
        super().__init__(message)
        self.reason = reason


class MessageAction(Protocol):
    """What the scheduler runs a message job with.

    Optional, for batches: ``preload(session, jobs)`` reads what ``compose`` will need for a
    batch's jobs in a few queries (kept for that unit of work only); ``records_delivery =
    False`` says ``delivered`` does nothing, so recording a batch need not load its jobs.
    """

    def validate(
        self, session: Session, *, workspace_id: str, params: dict[str, Any], policy: SendPolicy
    ) -> None:
        """Raise ``ValidationFailed`` when the params (or the policy) cannot work."""
        ...

    def compose(
        self,
        session: Session,
        *,
        job: ScheduledJob,
        params: dict[str, Any],
        policy: SendPolicy,
        recipient: service.Recipient,
        address: str,
    ) -> OutboundMessage:
        """Build the message (and the domain rows behind it) in the job's transaction.

        Called again for each retry of the job: reuse what the first attempt created.
        """
        ...

    def delivered(
        self, session: Session, *, job: ScheduledJob, ok: bool, result: dict[str, Any]
    ) -> None:
        """Record the final outcome on the domain rows."""
        ...


@dataclass(frozen=True, slots=True)
class Refuse:
    """Do not send: the job is skipped."""

    reason: str
    outcome: str


@dataclass(frozen=True, slots=True)
class Hold:
    """Not now: the job is pending again, due at ``until``."""

    reason: str
    until: datetime
    outcome: str


@dataclass(frozen=True, slots=True)
class Go:
    recipient: service.Recipient
    policy: SendPolicy
    params: dict[str, Any]
    address: str


def _policy_and_params(
    s: Session, job: ScheduledJob, ledger: Ledger | None
) -> tuple[SendPolicy, dict[str, Any]] | Refuse:
    if job.trigger_id:
        if ledger is not None:
            trigger = ledger.trigger(job.workspace_id, job.trigger_id)
        else:
            trigger = TriggerRepository(s).get(job.workspace_id, job.trigger_id)
        if trigger is None or not trigger.active:
            return Refuse("paused", "trigger deleted or paused")
        return SendPolicy.from_trigger(trigger), dict(trigger.params or {})
    try:
        policy = SendPolicy.from_dict(job.policy)
    except SafarError as exc:
        return Refuse("error", exc.message)
    return policy, dict((job.payload or {}).get("params") or {})


def decide(
    s: Session,
    job: ScheduledJob,
    now: datetime,
    *,
    actions: dict[str, MessageAction],
    channels: dict[str, Channel],
    guards: Guards,
    recipients: dict[str, service.Recipient] | None = None,
    ledger: Ledger | None = None,
) -> Go | Hold | Refuse:
    """Whom to contact, at which address, when the job may contact its profile now.

    ``recipients``: the batch's profiles read ahead (``service.resolve_recipients``), by the
    profile id the jobs name; a job not among them is resolved here. ``ledger``: the batch's
    triggers, locks and contact counts read ahead (else each is queried here)."""
    found = _policy_and_params(s, job, ledger)
    if isinstance(found, Refuse):
        return found
    policy, params = found
    channel = job.channel or ""
    if job.action not in actions:
        return Refuse("error", f"no action named {job.action!r}")
    if channel not in channels:
        return Refuse("error", f"channel {channel!r} is not configured")
    try:
        recipient = (recipients or {}).get(job.profile_id or "") or service.resolve_recipient(
            s, workspace_id=job.workspace_id, payload=job.payload or {}, profile_id=job.profile_id
        )
    except NotFound:
        return Refuse("missing_address", "no profile for the triggering event")
    job.profile_id = recipient.profile_id
    ws, pid = job.workspace_id, recipient.profile_id
    # Serialise decisions about one profile (PostgreSQL; SQLite already has one writer).
    if ledger is not None:
        ledger.lock(ws, pid)
    else:
        lock_profile(s, pid)
    if not service.consent_allows(policy, recipient, channel):
        return Refuse("consent", "no consent")
    tz = policy.zone_for(recipient.traits, guards.timezone)
    quiet = policy.quiet_hours(tz)
    resume = quiet.until(now) if quiet is not None else None
    if resume is not None:
        return Hold(
            "quiet_hours", resume, f"quiet hours in {tz}; held until {resume:%Y-%m-%d %H:%M} UTC"
        )
    if (
        ledger.recent(ws, pid, policy.topic, policy.fatigue_days)
        if ledger is not None
        else service.recently_contacted(
            s,
            workspace_id=ws,
            profile_id=pid,
            topic=policy.topic,
            days=policy.fatigue_days,
            now=now,
        )
    ):
        return Refuse(
            "fatigue",
            f"fatigue: contacted about {policy.topic} within {policy.fatigue_days:g} days",
        )
    budget = guards.budget_for(job.workspace_id)
    if budget is not None and not policy.transactional:
        first = week_start(tz, guards.week_start)
        since = period_start(now, tz, budget.period, first_weekday=first)
        used = (
            ledger.used(ws, pid, since)
            if ledger is not None
            else service.contacts_since(s, workspace_id=ws, profile_id=pid, since=since)
        )
        if used >= budget.limit:
            return Refuse("cap", f"cap: {used} messages this {budget.period} (budget {budget})")
    address = recipient.address(channel, params)
    if not address:
        return Refuse("missing_address", f"no {channel} address for the profile")
    # Last, so a token is only spent on a message that goes out.
    wait = guards.limiter.take(channel, now.timestamp())
    if wait > 0:
        until = now + timedelta(seconds=wait)
        return Hold("rate_limit", until, f"rate limit of {channel}; held {wait:.2f} s")
    return Go(recipient, policy, params, address)


def compose(
    s: Session,
    job: ScheduledJob,
    now: datetime,
    go: Go,
    action: MessageAction,
    ledger: Ledger | None = None,
) -> OutboundMessage | Refuse:
    """The action's message, with its contact-log entry: both commit with ``sending`` (the
    entry noted in ``ledger``, when given, to be written with the rest of its batch)."""
    try:
        message = action.compose(
            s,
            job=job,
            params=go.params,
            policy=go.policy,
            recipient=go.recipient,
            address=go.address,
        )
    except Skip as exc:
        return Refuse(exc.reason, str(exc))
    except SafarError as exc:
        return Refuse("error", exc.message)
    if not message.key:
        message.key = job.dedupe_key
    row = {
        "workspace_id": job.workspace_id,
        "profile_id": go.recipient.profile_id,
        "topic": go.policy.topic,
        "channel": job.channel or "",
        "job_id": job.id,
        "status": "sending",
        "transactional": go.policy.transactional,
        "at": now,
    }
    if ledger is not None:
        ledger.note(row)
    else:
        s.add(ContactLog(**row))
    return message


def note_hold(job: ScheduledJob, hold: Hold, now: datetime) -> None:
    """Pending again at ``hold.until``, the hold recorded (reason, outcome, the last few)."""
    job.status, job.due_at, job.reason, job.outcome = (
        "pending",
        hold.until,
        hold.reason,
        hold.outcome,
    )
    job.attempts = max(0, job.attempts - 1)  # a hold is not an attempt
    holds = list((job.result or {}).get("holds") or [])[-9:]
    holds.append({"reason": hold.reason, "at": now.isoformat(), "until": hold.until.isoformat()})
    job.result = {**(job.result or {}), "holds": holds}
