"""Survey tables: definitions, invitations (one per personal link) and responses.

A response belongs to exactly one invitation (unique), so a replayed or double-submitted link
can never create a second response. Scores of the standard questions are kept in their own
columns (``nps``, ``csat``, ``ces``) with the day of the answer in local time, so every metric is
one set-based query.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from safar.db import Base, utcnow


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    touchpoint: Mapped[str | None] = mapped_column(String(80), default=None)
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    default_language: Mapped[str] = mapped_column(String(5), default="fa")
    status: Mapped[str] = mapped_column(String(20), default="active")
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    link_ttl_hours: Mapped[float] = mapped_column(Float, default=168.0)
    segment_trait: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Invitation(Base):
    __tablename__ = "survey_invitations"
    __table_args__ = (Index("ix_invitation_profile", "workspace_id", "profile_id", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    profile_id: Mapped[str | None] = mapped_column(String(40), default=None)
    user_id: Mapped[str | None] = mapped_column(String(255), default=None)
    anonymous_id: Mapped[str | None] = mapped_column(String(255), default=None)
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    touchpoint: Mapped[str | None] = mapped_column(String(80), default=None)
    segment: Mapped[str | None] = mapped_column(String(200), default=None)
    trigger_message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    trigger_event: Mapped[str | None] = mapped_column(String(200), default=None)
    job_id: Mapped[int | None] = mapped_column(Integer, default=None)
    #: created -> sent -> opened -> completed; failed when the channel refused it.
    status: Mapped[str] = mapped_column(String(20), default="created")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    opened_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime] = mapped_column()
    #: Local calendar day the invitation was made (response-rate periods group by it).
    day: Mapped[date] = mapped_column(Date)


class SurveyResponse(Base):
    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_response_survey_day", "workspace_id", "survey_id", "day"),
        Index("ix_response_profile", "workspace_id", "profile_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    invitation_id: Mapped[str] = mapped_column(
        ForeignKey("survey_invitations.id", ondelete="CASCADE"), unique=True
    )
    profile_id: Mapped[str | None] = mapped_column(String(40), default=None)
    channel: Mapped[str] = mapped_column(String(20))
    touchpoint: Mapped[str | None] = mapped_column(String(80), default=None)
    language: Mapped[str] = mapped_column(String(5))
    segment: Mapped[str | None] = mapped_column(String(200), default=None)
    trigger_message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Question ids already put to the respondent (shown once; skipped optional ones stay so).
    shown: Mapped[list[Any]] = mapped_column(JSON, default=list)
    step: Mapped[int] = mapped_column(Integer, default=0)
    nps: Mapped[int | None] = mapped_column(Integer, default=None)
    csat: Mapped[int | None] = mapped_column(Integer, default=None)
    ces: Mapped[int | None] = mapped_column(Integer, default=None)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Local (``Settings.timezone``) calendar day of the last answer: metrics group by it.
    day: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
