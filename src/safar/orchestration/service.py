"""Triggers, message jobs and policies: turn stored events (and journeys' steps) into scheduled
jobs, and decide whether a due job may contact its profile (consent, fatigue, the budget).

Nothing here sends anything; ``scheduler.Scheduler`` runs due jobs. Services never commit.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safar.db import utcnow
from safar.errors import Conflict, NotFound, ValidationFailed
from safar.orchestration.models import ScheduledJob, Trigger
from safar.orchestration.policy import REASONS, SendPolicy
from safar.orchestration.recipients import Recipient as Recipient
from safar.orchestration.recipients import consent_allows as consent_allows
from safar.orchestration.recipients import resolve_recipient as resolve_recipient
from safar.orchestration.recipients import resolve_recipients as resolve_recipients
from safar.orchestration.repository import (
    ContactRepository,
    JobQueue,
    JobRepository,
    TriggerRepository,
)
from safar.orchestration.schemas import TriggerCreate, TriggerUpdate

PAYLOAD_KEYS = ("message_id", "event", "user_id", "anonymous_id", "channel", "timestamp")
JOB_STATUSES = ("pending", "claimed", "sending", "done", "skipped", "failed", "uncertain")
JOB_REASONS = REASONS
#: Channels a message job may name (``default_channels`` decides which are configured).
MESSAGE_CHANNELS = ("email", "sms", "app", "telegram", "webhook", "push")


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
    reason: str | None = None,
    limit: int = 100,
) -> list[ScheduledJob]:
    return JobRepository(session).recent(
        workspace_id, status=status, trigger_id=trigger_id, reason=reason, limit=limit
    )


def outcome_counts(
    session: Session, workspace_id: str, key_prefix: str | None = None
) -> dict[tuple[str, str | None], int]:
    """How many jobs ended (or wait) in each (status, reason), e.g. ``("skipped", "cap")``;
    ``key_prefix`` narrows to one journey's jobs (``"flow:<id>:"``)."""
    return JobRepository(session).outcome_counts(workspace_id, key_prefix)


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
                kind="message",
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
        kind="task",
        action=action,
        payload=payload,
        dedupe_key=dedupe_key,
        due_at=due_at or utcnow(),
    )
    session.add(job)
    session.flush()
    return job


def enqueue_message(
    session: Session,
    *,
    workspace_id: str,
    action: str,
    channel: str,
    payload: dict[str, Any],
    policy: SendPolicy,
    key: str,
    due_at: datetime,
    profile_id: str | None = None,
) -> ScheduledJob:
    """Schedule one message not bound to a trigger (a journey's step), idempotent per ``key``.

    ``key`` is the idempotency key (``"flow:<instance>:<step>"``): the same key gives back the
    job already there, whatever else differs. ``payload["params"]`` is what the action composes
    from; without ``profile_id`` the profile is found from ``payload``'s user or anonymous id
    when the job runs. The scheduler applies ``policy`` as it would a trigger's.
    """
    _check_message(action, channel, payload, key, due_at, profile_id)
    if not isinstance(policy, SendPolicy):
        raise ValidationFailed("policy: a SendPolicy", field="policy")
    repo = JobRepository(session)
    existing = repo.by_key(workspace_id, key)
    if existing is not None:
        return existing
    job = ScheduledJob(
        workspace_id=workspace_id,
        kind="message",
        action=action,
        channel=channel,
        payload=payload,
        policy=policy.to_dict(),
        dedupe_key=key,
        due_at=due_at,
        profile_id=profile_id,
        status="pending",
        attempts=0,
        result={},
    )
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        raced = repo.by_key(workspace_id, key)  # another process enqueued the same key first
        if raced is None:
            raise
        return raced
    return job


def enqueue_messages(session: Session, requests: Sequence[Mapping[str, Any]]) -> list[int]:
    """``enqueue_message`` for many messages in a few statements (a journey worker's batch):
    each request has ``enqueue_message``'s keyword arguments, its policy a ``SendPolicy`` or
    its dict; one job id per request, in order, the job already there for a key taken."""
    rows: list[dict[str, Any]] = []
    for r in requests:
        policy = r["policy"]
        policy = policy if isinstance(policy, SendPolicy) else SendPolicy.from_dict(policy)
        _check_message(
            r["action"], r["channel"], r["payload"], r["key"], r["due_at"], r.get("profile_id")
        )
        rows.append(
            {
                "workspace_id": r["workspace_id"],
                "kind": "message",
                "action": r["action"],
                "channel": r["channel"],
                "payload": r["payload"],
                "policy": policy.to_dict(),
                "dedupe_key": r["key"],
                "due_at": r["due_at"],
                "profile_id": r.get("profile_id"),
                "status": "pending",
                "attempts": 0,
                "result": {},
            }
        )
    repo = JobRepository(session)
    by_ws: dict[str, list[str]] = {}
    for row in rows:
        by_ws.setdefault(row["workspace_id"], []).append(row["dedupe_key"])
    found = {(ws, k): i for ws, keys in by_ws.items() for k, i in repo.ids_by_key(ws, keys).items()}
    repo.insert_new([r for r in rows if (r["workspace_id"], r["dedupe_key"]) not in found])
    missing = {ws: [k for k in keys if (ws, k) not in found] for ws, keys in by_ws.items()}
    for ws, keys in missing.items():
        if keys:
            found |= {(ws, k): i for k, i in repo.ids_by_key(ws, keys).items()}
    return [found[(r["workspace_id"], r["dedupe_key"])] for r in rows]


def _check_message(
    action: str,
    channel: str,
    payload: dict[str, Any],
    key: str,
    due_at: datetime,
    profile_id: str | None,
) -> None:
    if not isinstance(action, str) or not 1 <= len(action) <= 40:
        raise ValidationFailed("action: 1 to 40 characters", field="action")
    if channel not in MESSAGE_CHANNELS:
        raise ValidationFailed(
            f"channel: use one of {', '.join(MESSAGE_CHANNELS)}", field="channel"
        )
    if not isinstance(key, str) or not 1 <= len(key) <= 300:
        raise ValidationFailed("key: 1 to 300 characters", field="key")
    if not isinstance(payload, dict):
        raise ValidationFailed("payload: an object", field="payload")
    params = payload.get("params", {})
    if not isinstance(params, dict):
        raise ValidationFailed("payload.params: an object", field="payload.params")
    if channel == "webhook":
        url = params.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValidationFailed(
                "payload.params.url: an http(s) URL for the webhook", field="payload.params.url"
            )
    if not isinstance(due_at, datetime) or due_at.tzinfo is None:
        raise ValidationFailed("due_at: a time with a time zone", field="due_at")
    if profile_id is not None and (not isinstance(profile_id, str) or len(profile_id) > 40):
        raise ValidationFailed("profile_id: at most 40 characters", field="profile_id")
    if profile_id is None and not (payload.get("user_id") or payload.get("anonymous_id")):
        raise ValidationFailed(
            "profile_id: required without payload.user_id or anonymous_id", field="profile_id"
        )


def retry_job(
    session: Session, *, job_id: int, now: datetime, workspace_id: str | None = None
) -> ScheduledJob:
    """Queue a dead-lettered (``failed``) job again, its attempts counted afresh.

    An ``uncertain`` job may have reached the customer and is never resent; a finished one
    has nothing left to do.
    """
    job = JobQueue(session).job(job_id)
    if job is None or (workspace_id is not None and job.workspace_id != workspace_id):
        raise NotFound(f"job {job_id} not found", field="job_id")
    if job.status == "uncertain":
        raise Conflict(
            f"job {job_id} is uncertain: it may have been delivered, so it is never resent",
            field="job_id",
        )
    if job.status != "failed":
        raise Conflict(
            f"job {job_id} is {job.status}; only failed jobs can be retried", field="job_id"
        )
    job.status, job.due_at, job.attempts = "pending", now, 0
    job.reason, job.finished_at = None, None
    job.outcome = "re-queued by an operator"
    session.flush()
    return job


def all_jobs(
    session: Session,
    *,
    status: str | None = None,
    workspace_id: str | None = None,
    limit: int = 100,
) -> list[ScheduledJob]:
    """Jobs of every workspace (an operator's view), newest first; ``failed`` ones are the
    dead letters."""
    if status is not None and status not in JOB_STATUSES:
        raise ValidationFailed(f"status: use one of {', '.join(JOB_STATUSES)}", field="status")
    return JobQueue(session).listed(status=status, workspace_id=workspace_id, limit=limit)


# -- contact policies ----------------------------------------------------------------------------
def recently_contacted(
    session: Session, *, workspace_id: str, profile_id: str, topic: str, days: float, now: datetime
) -> bool:
    """Fatigue shared across every trigger of the topic (all surveys count together)."""
    if days <= 0:
        return False
    since = now - timedelta(days=days)
    return ContactRepository(session).count(workspace_id, profile_id, since, topic=topic) > 0


def contacts_since(session: Session, *, workspace_id: str, profile_id: str, since: datetime) -> int:
    """Non-transactional messages made (or being made) to the profile since ``since``."""
    return ContactRepository(session).count(workspace_id, profile_id, since, transactional=False)


def job_status(session: Session, job_id: int) -> str | None:
    """The status of one scheduled job (pending, running, done, failed, cancelled)."""
    return JobRepository(session).status(job_id)
