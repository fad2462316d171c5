"""Orchestration tables: triggers (rules), scheduled jobs (durable queue) and the contact log.

A trigger says "when event X happens, do action A via channel C after delay D". Each match
becomes one ``scheduled_jobs`` row (unique per trigger and triggering message, so a replayed
event never schedules twice). Jobs live in the state store, so a restart loses nothing; a job is
claimed by a conditional status update, so it runs once even with several schedulers.
The contact log records every message actually sent, per profile, for fatigue rules shared by
every action of the same topic and for the contact budget shared by every action.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from safar.kit.db import Base, BigId, utcnow


class Trigger(Base):
    __tablename__ = "orchestration_triggers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(200))
    #: Optional equality filters on the triggering event's properties.
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    action: Mapped[str] = mapped_column(String(40))
    #: What the action needs (e.g. ``{"survey_id": ...}``); validated by the action.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    channel: Mapped[str] = mapped_column(String(20))
    delay_seconds: Mapped[int] = mapped_column(Integer, default=0)
    sample_rate: Mapped[float] = mapped_column(Float, default=1.0)
    #: Fatigue: at most one message of ``topic`` per profile within this many days.
    fatigue_days: Mapped[float] = mapped_column(Float, default=0.0)
    topic: Mapped[str] = mapped_column(String(40), default="survey")
    consent_purpose: Mapped[str | None] = mapped_column(String(80), default=None)
    require_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    quiet_start: Mapped[int | None] = mapped_column(Integer, default=None)
    quiet_end: Mapped[int | None] = mapped_column(Integer, default=None)
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Tehran")
    #: Events older than this when they arrive (imports, backfills) schedule nothing.
    max_event_age_hours: Mapped[float] = mapped_column(Float, default=48.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ScheduledJob(Base):
    __tablename__ = "scheduled_jobs"
    __table_args__ = (
        UniqueConstraint("workspace_id", "dedupe_key", name="uq_job_dedupe"),
        Index("ix_job_due", "status", "due_at"),
        Index("ix_job_reason", "workspace_id", "reason"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    #: ``task`` (internal, idempotent, retried) or ``message`` (contacts a person once).
    kind: Mapped[str] = mapped_column(String(10), default="task", server_default="task")
    trigger_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    action: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str | None] = mapped_column(String(20), default=None)
    #: The triggering event: message id, user/anonymous id, name, properties, context.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime] = mapped_column()
    #: A message job's ``policy.SendPolicy`` (``to_dict``); trigger jobs read their trigger's.
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: pending -> claimed -> sending -> done | skipped | failed; ``uncertain`` when a crash or
    #: a timeout hit after the message was handed to the channel (never resent).
    status: Mapped[str] = mapped_column(String(20), default="pending")
    #: Why the job was last skipped, held or failed: one of ``policy.REASONS`` (None when sent).
    reason: Mapped[str | None] = mapped_column(String(20), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    profile_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    outcome: Mapped[str | None] = mapped_column(String(300), default=None)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactLog(Base):
    __tablename__ = "contact_log"
    __table_args__ = (
        Index("ix_contact_fatigue", "workspace_id", "profile_id", "topic", "at"),
        Index("ix_contact_budget", "workspace_id", "profile_id", "at"),
        Index("ix_contact_job", "job_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    profile_id: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    job_id: Mapped[int | None] = mapped_column(BigId, default=None)
    #: sending | sent | failed; failed contacts count towards neither fatigue nor the budget.
    status: Mapped[str] = mapped_column(String(20), default="sending")
    #: Transactional messages (receipts, one-time codes) are outside the contact budget.
    transactional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    at: Mapped[datetime] = mapped_column(default=utcnow)
