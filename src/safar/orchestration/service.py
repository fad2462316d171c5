"""Triggers and policies: turn stored events into scheduled jobs, and decide whether a due job
may contact its profile (consent, fatigue, quiet hours).

Nothing here sends anything; ``scheduler.Scheduler`` runs due jobs. Services never commit.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safar.db import utcnow
from safar.errors import NotFound
from safar.identity.service import current_consent, current_traits, identities_of, profile_of
from safar.identity.service import resolve_profile_id as _resolve
from safar.kit.calendar import QuietHours
from safar.orchestration.models import ContactLog, ScheduledJob, Trigger
from safar.orchestration.repository import JobRepository, TriggerRepository
from safar.orchestration.schemas import TriggerCreate, TriggerUpdate

PAYLOAD_KEYS = ("message_id", "event", "user_id", "anonymous_id", "channel", "timestamp")


def create_trigger(session: Session, *, workspace_id: str, data: TriggerCreate) -> Trigger:
    trigger = Trigger(
        id="trg_" + uuid.uuid4().hex[:16],
        workspace_id=workspace_id,
        **data.model_dump(),
    )
    session.add(trigger)
    session.flush()
    return trigger


def get_trigger(session: Session, *, workspace_id: str, trigger_id: str) -> Trigger:
    trigger = TriggerRepository(session).get(workspace_id, trigger_id)
    if trigger is None:
        raise NotFound(f"trigger {trigger_id[:60]} not found", field="trigger_id")
    return trigger


def list_triggers(session: Session, *, workspace_id: str) -> list[Trigger]:
    return TriggerRepository(session).ordered(workspace_id)


def update_trigger(
    session: Session, *, workspace_id: str, trigger_id: str, data: TriggerUpdate
) -> Trigger:
    trigger = get_trigger(session, workspace_id=workspace_id, trigger_id=trigger_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(trigger, key, value)
    session.flush()
    return trigger


def list_jobs(
    session: Session,
    *,
    workspace_id: str,
    status: str | None = None,
    trigger_id: str | None = None,
    limit: int = 100,
) -> list[ScheduledJob]:
    return JobRepository(session).recent(
        workspace_id, status=status, trigger_id=trigger_id, limit=limit
    )


def active_triggers(session: Session) -> list[Trigger]:
    return TriggerRepository(session).active()


def sampled(trigger_id: str, message_id: str, rate: float) -> bool:
    """Deterministic sampling: the same event is in or out of the sample on every replay."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.blake2b(f"{trigger_id}\x00{message_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < rate


def matches(trigger: Trigger, row: Mapping[str, Any]) -> bool:
    if row.get("type") != "track" or row.get("event") != trigger.event:
        return False
    if row["workspace_id"] != trigger.workspace_id:
        return False
    props = row.get("properties") or {}
    return all(props.get(k) == v for k, v in (trigger.conditions or {}).items())


def schedule_for_rows(
    session: Session, triggers: list[Trigger], rows: Sequence[Mapping[str, Any]], *, now: datetime
) -> list[ScheduledJob]:
    """Create one job per (trigger, matching event); replays and duplicates add nothing.

    Set-based: one query finds the keys already scheduled, one bulk insert adds the rest. If
    another process inserted one of them meanwhile, fall back to row-by-row savepoints.
    """
    candidates: dict[tuple[str, str], ScheduledJob] = {}
    for row in rows:
        for trigger in triggers:
            if not matches(trigger, row):
                continue
            if not sampled(trigger.id, row["message_id"], trigger.sample_rate):
                continue
            event_at = datetime.fromtimestamp(row["timestamp"] / 1e6, UTC)
            if now - event_at > timedelta(hours=trigger.max_event_age_hours):
                continue
            key = (trigger.workspace_id, f"{trigger.id}:{row['message_id']}")
            if key in candidates:
                continue
            payload = {k: row.get(k) for k in PAYLOAD_KEYS}
            payload["properties"] = row.get("properties") or {}
            payload["locale"] = (row.get("context") or {}).get("locale")
            candidates[key] = ScheduledJob(
                workspace_id=trigger.workspace_id,
                trigger_id=trigger.id,
                action=trigger.action,
                channel=trigger.channel,
                payload=payload,
                dedupe_key=key[1],
                due_at=now + timedelta(seconds=trigger.delay_seconds),
                status="pending",
                attempts=0,
                result={},
                created_at=now,
            )
    if not candidates:
        return []
    existing = JobRepository(session).existing_keys(list(candidates))
    fresh = [job for key, job in candidates.items() if key not in existing]
    try:
        with session.begin_nested():
            session.add_all(fresh)
    except IntegrityError:
        added: list[ScheduledJob] = []
        for job in fresh:
            try:
                with session.begin_nested():
                    session.add(_copy(job))
                added.append(job)
            except IntegrityError:
                continue  # another process scheduled the same one first
        return added
    return fresh


def _copy(job: ScheduledJob) -> ScheduledJob:
    return ScheduledJob(
        **{c.key: getattr(job, c.key) for c in ScheduledJob.__table__.columns if c.key != "id"}
    )


def enqueue_task(
    session: Session,
    *,
    workspace_id: str,
    action: str,
    payload: dict[str, Any],
    dedupe_key: str,
    due_at: datetime | None = None,
) -> ScheduledJob:
    """Schedule an internal task (no contact policies), idempotent per ``dedupe_key``."""
    existing = JobRepository(session).by_key(workspace_id, dedupe_key)
    if existing is not None:
        return existing
    job = ScheduledJob(
        workspace_id=workspace_id,
        action=action,
        payload=payload,
        dedupe_key=dedupe_key,
        due_at=due_at or utcnow(),
    )
    session.add(job)
    session.flush()
    return job


# -- who a job is about --------------------------------------------------------------------------
@dataclass(slots=True)
class Recipient:
    profile_id: str
    identity_ids: list[int]
    traits: dict[str, Any] = field(default_factory=dict)
    email: str | None = None
    phone: str | None = None
    consent: list[Any] = field(default_factory=list)

    def address(self, channel: str) -> str | None:
        if channel == "email":
            return self.email
        if channel == "sms":
            return self.phone
        return self.profile_id


def resolve_recipient(session: Session, *, workspace_id: str, payload: dict[str, Any]) -> Recipient:
    """The profile that owns the triggering event's user id (or anonymous id), as of now."""
    for type_, key in (("user_id", "user_id"), ("anonymous_id", "anonymous_id")):
        value = payload.get(key)
        if not value:
            continue
        pid = profile_of(session, workspace_id=workspace_id, type_=type_, value=str(value))
        if pid is not None:
            break
    else:
        raise NotFound("the triggering event has no known profile", field="user_id")
    pid = _resolve(session, workspace_id=workspace_id, profile_id=pid)
    idents = identities_of(session, pid)
    ids = [i.id for i in idents]
    email = next((i.value for i in idents if i.type == "email"), None)
    phone = next((i.value for i in idents if i.type == "phone"), None)
    return Recipient(
        profile_id=pid,
        identity_ids=ids,
        traits=current_traits(session, ids),
        email=email,
        phone=phone,
        consent=current_consent(session, ids),
    )


# -- contact policies ----------------------------------------------------------------------------
def consent_allows(trigger: Trigger, recipient: Recipient, channel: str) -> bool:
    """The latest decision for the purpose on this channel (or 'all'); a channel-specific
    record beats 'all'. Without any record the trigger's ``require_consent`` decides."""
    if not trigger.consent_purpose:
        return True
    specific = [
        c
        for c in recipient.consent
        if c.purpose == trigger.consent_purpose and c.channel == channel
    ]
    general = [
        c for c in recipient.consent if c.purpose == trigger.consent_purpose and c.channel == "all"
    ]
    decision = specific or general
    if decision:
        return bool(decision[-1].granted)
    return not trigger.require_consent


def recently_contacted(
    session: Session, *, workspace_id: str, profile_id: str, topic: str, days: float, now: datetime
) -> bool:
    """Fatigue shared across every trigger of the topic (all surveys count together)."""
    if days <= 0:
        return False
    since = now - timedelta(days=days)
    count = session.scalar(
        select(func.count())
        .select_from(ContactLog)
        .where(
            ContactLog.workspace_id == workspace_id,
            ContactLog.profile_id == profile_id,
            ContactLog.topic == topic,
            ContactLog.status.in_(["sending", "sent"]),
            ContactLog.at >= since,
        )
    )
    return bool(count)


def quiet_until(trigger: Trigger, now: datetime) -> datetime | None:
    """End of the quiet period ``now`` falls in (the kit's calendar), or None when fine."""
    if trigger.quiet_start is None or trigger.quiet_end is None:
        return None
    return QuietHours(trigger.quiet_start, trigger.quiet_end, trigger.timezone).until(now)


def job_status(session: Session, job_id: int) -> str | None:
    """The status of one scheduled job (pending, running, done, failed, cancelled)."""
    return JobRepository(session).status(job_id)
