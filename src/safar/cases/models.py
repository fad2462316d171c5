"""Case tables: the case as it is now, and the append-only log of every change to it.

``cases`` holds the current state so the inbox filters by index; ``case_events`` is the
history (created, status_changed, assigned, ...), one row per change numbered per case, which
the timeline events and, later, SLA state are derived from. ``source_key`` names what opened a
case by rule (the requesting event, the survey response), unique per workspace, so a replayed
event opens nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from safar.kit.db import Base


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source_key", name="uq_case_source"),
        Index("ix_case_inbox", "workspace_id", "status", "created_at"),
        Index("ix_case_profile", "workspace_id", "profile_id"),
        Index("ix_case_assignee", "workspace_id", "assignee"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(300))
    #: The profile when the case was opened (a later merge is followed on reading).
    profile_id: Mapped[str | None] = mapped_column(String(40), default=None)
    channel: Mapped[str | None] = mapped_column(String(40), default=None)
    category: Mapped[str | None] = mapped_column(String(60), default=None)
    #: low | normal | high | urgent
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    #: new | open | pending | on_hold | solved | closed
    status: Mapped[str] = mapped_column(String(10), default="new")
    #: A dashboard user's id.
    assignee: Mapped[str | None] = mapped_column(String(40), default=None)
    team: Mapped[str | None] = mapped_column(String(60), default=None)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: messageIds of the events the case is about.
    source_message_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: What opened it by rule (``event:<messageId>``, ``survey:<response id>``); None by hand.
    source_key: Mapped[str | None] = mapped_column(String(300), default=None)
    #: api | rule:survey | flow
    origin: Mapped[str] = mapped_column(String(20))
    #: How many events the log holds (the next one's number is this plus one).
    events: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    solved_at: Mapped[datetime | None] = mapped_column(default=None)


class CaseEvent(Base):
    """One change of a case, never updated: who did what, when, with what data."""

    __tablename__ = "case_events"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    #: created | status_changed | assigned | priority_changed | tagged | note | reply
    kind: Mapped[str] = mapped_column(String(20))
    #: ``key:<api key id>``, ``rule:survey``, ``flow:<flow id>``, ``user:<user id>``
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
