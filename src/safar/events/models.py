"""Ingest tables of the state store: the per-workspace record of refused messages.

One row per workspace and field (``event``, ``timestamp``, ``message``...), with a count and
the latest example, so a developer can see why a site's events are missing without the
server's log, as Segment's and PostHog's debuggers show it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
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
