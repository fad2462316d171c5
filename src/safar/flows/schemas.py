"""Pydantic shapes of the journeys API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FlowRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    status: str
    version: int
    published_version: int | None
    trigger_type: str | None
    created_at: datetime
    updated_at: datetime


class FlowDetail(FlowRead):
    definition: dict[str, Any]


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    created_by: str | None
    created_at: datetime
    published_at: datetime | None


class InstanceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    flow_id: str
    version: int
    profile_id: str
    status: str
    node: str | None
    control: bool
    entered_at: datetime | None
    finished_at: datetime | None
    reason: str | None
    created_at: datetime


class PersonInstance(BaseModel):
    """One journey a person entered, as their profile page lists it."""

    id: str
    flow_id: str
    flow_name: str
    status: str
    node: str | None
    control: bool
    entered_at: datetime | None
    finished_at: datetime | None
    created_at: datetime

    @property
    def in_progress(self) -> bool:
        return self.status != "done"


class EnterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: str = Field(min_length=1, max_length=40)
    #: Idempotency: a second call with the same key enters nobody again.
    key: str = Field(min_length=1, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)


class EnterResult(BaseModel):
    instance_id: str | None
    entered: bool
    reason: str | None = None


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: str = Field(min_length=1, max_length=40)
    node: str = Field(min_length=1, max_length=40)
