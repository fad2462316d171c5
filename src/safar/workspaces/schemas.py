"""Read/create shapes of workspaces and keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from safar.kit.channels import Channel


class WorkspaceRead(BaseModel):
    id: str
    name: str
    created_at: datetime


class WorkspaceCreated(BaseModel):
    workspace_id: str
    write_key: str
    secret_key: str


class ApiKeyCreate(BaseModel):
    kind: Literal["write", "secret"]
    name: str = Field(default="", max_length=200)
    default_channel: Channel | None = None


class ApiKeyRead(BaseModel):
    id: str
    kind: str
    name: str
    prefix: str
    default_channel: str | None
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="shown once; only its hash is stored")
