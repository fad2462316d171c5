"""Pydantic shapes of triggers and jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ChannelName = Literal["email", "sms", "app", "telegram", "push"]


class TriggerBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=200)
    conditions: dict[str, Any] = Field(default_factory=dict)
    channel: ChannelName = "email"
    delay_seconds: int = Field(default=0, ge=0, le=90 * 86400)
    sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    fatigue_days: float = Field(default=0.0, ge=0.0, le=3650)
    topic: str = Field(default="survey", min_length=1, max_length=40)
    consent_purpose: str | None = Field(default=None, max_length=80)
    require_consent: bool = False
    quiet_start: int | None = Field(default=None, ge=0, le=23)
    quiet_end: int | None = Field(default=None, ge=0, le=23)
    timezone: str = "Asia/Tehran"
    max_event_age_hours: float = Field(default=48.0, gt=0)
    active: bool = True

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value[:60]!r}") from None
        return value


class TriggerCreate(TriggerBase):
    name: str = Field(min_length=1, max_length=200)
    action: str = Field(min_length=1, max_length=40)
    params: dict[str, Any] = Field(default_factory=dict)


class TriggerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    conditions: dict[str, Any] | None = None
    delay_seconds: int | None = Field(default=None, ge=0, le=90 * 86400)
    sample_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    fatigue_days: float | None = Field(default=None, ge=0.0, le=3650)
    quiet_start: int | None = Field(default=None, ge=0, le=23)
    quiet_end: int | None = Field(default=None, ge=0, le=23)
    active: bool | None = None


class TriggerRead(TriggerBase):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    action: str
    params: dict[str, Any]
    created_at: datetime


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    trigger_id: str | None
    dedupe_key: str
    action: str
    channel: str | None
    status: str
    reason: str | None
    due_at: datetime
    attempts: int
    profile_id: str | None
    outcome: str | None
    finished_at: datetime | None
