"""Ingest tables of the state store: the per-workspace record of refused messages, and the
imports run by the server (``ImportRun``).

One row per workspace and field (``event``, ``timestamp``, ``message``...), with a count and
the latest example, so a developer can see why a site's events are missing without the
server's log, as Segment's and PostHog's debuggers show it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from safar.db import Base, utcnow


class IngestRejection(Base):
    __tablename__ = "ingest_rejections"
    __table_args__ = (UniqueConstraint("workspace_id", "field", name="uq_ingest_rejection"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    #: The refused field without the message's position (``properties.total``, not
    #: ``batch[3].properties.total``); ``message`` when the message as a whole was refused.
    field: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_reason: Mapped[str] = mapped_column(String(500))
    #: The latest refused message, as JSON cut to a few KB.
    last_sample: Mapped[str] = mapped_column(Text, default="")
    #: Id of the write key it came with.
    last_source: Mapped[str] = mapped_column(String(40), default="")


class ImportRun(Base):
    """One bulk import sent to the server (dashboard or ``POST /api/imports``) and its outcome.

    The uploaded file stays in ``DATA_DIR/imports/<id>/`` so a failed run can be run again; a
    run the server was doing when it stopped is marked failed at the next start.
    """

    __tablename__ = "import_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    #: uploaded (waiting for its column mapping), queued, running, done, failed.
    state: Mapped[str] = mapped_column(String(20), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    format: Mapped[str] = mapped_column(String(10))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The ImportSpec options: map, events, event, type, channel, unmapped, drop.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    bad_rows: Mapped[int] = mapped_column(Integer, default=0)
    skipped_events: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    #: The first bad rows: [{"line", "field", "error"}]; the whole report is a file.
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: Why a failed run failed.
    error: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    rerun_of: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
