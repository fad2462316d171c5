"""API shapes of profiles, identities, merges, households and timelines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class IdentityRead(BaseModel):
    type: str
    value: str
    first_seen: datetime
    source: str


class TraitObservation(BaseModel):
    key: str
    value: Any
    source: str
    observed_at: datetime


class ConsentRead(BaseModel):
    purpose: str
    channel: str
    granted: bool
    source: str
    observed_at: datetime


class GroupMemberRead(BaseModel):
    profile_id: str
    role: str | None
    name: str | None = None


class GroupRead(BaseModel):
    group_id: str
    type: str
    name: str | None
    traits: dict[str, Any]
    role: str | None = None
    members: list[GroupMemberRead] = Field(default_factory=list)


class MergeRead(BaseModel):
    id: str
    into_profile_id: str
    from_profile_id: str
    cause: str
    evidence: list[str]
    message_id: str | None
    created_at: datetime
    undone_at: datetime | None
    undone_by: str | None


class ProfileRead(BaseModel):
    id: str
    workspace_id: str
    created_at: datetime
    updated_at: datetime
    #: Set when the requested id was merged away: the profile shown is where it lives now.
    requested_id: str | None = None
    traits: dict[str, Any]
    identities: list[IdentityRead]
    consent: list[ConsentRead]
    groups: list[GroupRead]
    merges: list[MergeRead]


class TimelineEvent(BaseModel):
    message_id: str
    type: str
    event: str | None
    name: str | None
    channel: str
    user_id: str | None
    anonymous_id: str | None
    timestamp: datetime
    received_at: datetime
    properties: dict[str, Any]
    context: dict[str, Any]
    traits: dict[str, Any]


class TimelinePage(BaseModel):
    profile_id: str
    events: list[TimelineEvent]
    next_cursor: str | None


class UnmergeRequest(BaseModel):
    merge_id: str | None = Field(
        default=None,
        description="the merge to undo; default the newest active merge into this profile",
    )


class UnmergeResult(BaseModel):
    merge_id: str
    profile_id: str
    restored_profile_id: str
    moved_identities: list[IdentityRead]
