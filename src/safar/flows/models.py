"""Journey tables: flows and their versions, instances, and what instances wait for.

A flow's definition is versioned: editing makes a new draft version, publishing freezes one,
and an instance keeps the version it started on. An instance is unique per (flow, entry key):
the triggering message id, the yearly date, the schedule tick or the API caller's key, so a
replayed event or a repeated sweep enters nobody twice. Its interpreter state is JSON in the
row; ``flow_timers`` and ``flow_waits`` are the indexes the runtime needs to find the instances
a clock tick or an event concerns. ``flow_actions`` holds one row per (instance, action key):
an action runs once whoever retries it. ``flow_steps`` is the step log the analytics count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from safar.kit.db import Base, BigId, utcnow


class Flow(Base):
    __tablename__ = "flows"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    #: draft (never published) | published | paused | archived
    status: Mapped[str] = mapped_column(String(20), default="draft")
    #: The newest version (what the builder edits).
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The version new instances start on; None until first published.
    published_version: Mapped[int | None] = mapped_column(Integer, default=None)
    #: The published trigger, denormalised so ingest finds candidate flows in one lookup.
    trigger_type: Mapped[str | None] = mapped_column(String(20), default=None)
    trigger_event: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FlowVersion(Base):
    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_id", "version", name="uq_flow_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)


class FlowInstance(Base):
    __tablename__ = "flow_instances"
    __table_args__ = (
        UniqueConstraint("flow_id", "entry_key", name="uq_flow_entry"),
        Index("ix_flow_instance_profile", "workspace_id", "profile_id", "flow_id", "status"),
        Index("ix_flow_instance_status", "status", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    #: The profile now (re-keyed to the survivor when the person's profiles merge).
    profile_id: Mapped[str] = mapped_column(String(40))
    entry_key: Mapped[str] = mapped_column(String(300))
    #: new (to start) | running | waiting | done
    status: Mapped[str] = mapped_column(String(20), default="new")
    #: The triggering event's properties (templates and the ``Start`` input read them).
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    control: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When the trigger happened (the event's time; the entry time for sweeps and API calls):
    #: the journey's clock starts here, so an hour's absence window is an hour after the cart.
    trigger_at: Mapped[datetime | None] = mapped_column(default=None)
    entered_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    #: The node the instance waits at (live counts per step).
    node: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FlowTimer(Base):
    """A due time of one instance (``Sleep``); fired timers are deleted."""

    __tablename__ = "flow_timers"
    __table_args__ = (Index("ix_flow_timer_due", "due_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("flow_instances.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column()
    #: Set while one worker fires it, so several workers never fire it twice.
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)


class FlowWait(Base):
    """An event an instance listens for (a wait step, the goal, an absence)."""

    __tablename__ = "flow_waits"
    __table_args__ = (Index("ix_flow_wait_event", "workspace_id", "event", "profile_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("flow_instances.id", ondelete="CASCADE"), index=True
    )
    profile_id: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(200))
    until: Mapped[datetime] = mapped_column()


class FlowInbox(Base):
    """An event for an instance, written in the identity transaction of its ingest (so a crash
    before the runtime saw it replays nothing and loses nothing); deleted once handed in."""

    __tablename__ = "flow_inbox"
    __table_args__ = (UniqueConstraint("instance_id", "message_id", name="uq_flow_inbox"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("flow_instances.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(255))
    event: Mapped[str] = mapped_column(String(200))
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column()


class FlowAction(Base):
    """One action of one instance, run once per key; its outcome (job id, would-have-sent)."""

    __tablename__ = "flow_actions"
    __table_args__ = (UniqueConstraint("instance_id", "key", name="uq_flow_action"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    flow_id: Mapped[str] = mapped_column(String(40), index=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("flow_instances.id", ondelete="CASCADE"))
    profile_id: Mapped[str] = mapped_column(String(40), index=True)
    node: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    control: Mapped[bool] = mapped_column(Boolean, default=False)
    #: queued (a message job) | done | would_send (holdout) | skipped
    status: Mapped[str] = mapped_column(String(20))
    job_id: Mapped[int | None] = mapped_column(BigId, default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class FlowStep(Base):
    """The step log: entered, reached a node, finished with a reason.

    ``mark`` names the step within its instance (``reached`` at ``node:visit``), unique with the
    instance and kind: a record retried (a Temporal activity) logs nothing twice."""

    __tablename__ = "flow_steps"
    __table_args__ = (
        Index("ix_flow_step_flow", "workspace_id", "flow_id", "kind", "node"),
        UniqueConstraint("instance_id", "kind", "mark", name="uq_flow_step"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    flow_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    instance_id: Mapped[str] = mapped_column(String(40), index=True)
    profile_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    node: Mapped[str | None] = mapped_column(String(40), default=None)
    detail: Mapped[str | None] = mapped_column(String(200), default=None)
    mark: Mapped[str] = mapped_column(String(60), default="")
    control: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
