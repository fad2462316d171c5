"""Saved segments (audiences) and who is in them since when.

A segment's conditions are stored as the JSON of ``kit.conditions.AudienceCondition`` and
validated on the way in. A *listed* segment also has a fixed list of profiles (saved from a
chart's drill-down); its members are the listed profiles that meet its conditions. ``refreshes`` counts refreshes: the first sets the baseline
membership, and each later one's number goes into the messageIds of the events it emits, so a
replayed refresh stores nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safar.db import Base, utcnow


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    match: Mapped[str] = mapped_column(String(3), default="all")
    conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    refreshes: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime | None] = mapped_column(default=None)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Members are drawn from a fixed list of profiles (``SegmentListedProfile``), e.g. the
    #: customers behind a number of a chart, which no condition describes.
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SegmentMember(Base):
    """A profile in a segment at its last refresh, since the refresh that found it there."""

    __tablename__ = "segment_members"

    segment_id: Mapped[str] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    profile_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    since: Mapped[datetime] = mapped_column()


class SegmentListedProfile(Base):
    """A profile on a listed segment's fixed list (as saved; merges are followed on reading)."""

    __tablename__ = "segment_listed_profiles"

    segment_id: Mapped[str] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    profile_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
