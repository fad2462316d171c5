"""API shapes of users and the signed-in caller."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Role = Literal["admin", "analyst", "agent", "viewer"]


class UserRead(BaseModel):
    id: str
    email: str
    name: str
    role: str
    locale: str
    created_at: datetime
    disabled: bool


class UserCreate(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(min_length=1, max_length=1000)
    role: Role
    name: str = Field(default="", max_length=200)


class Me(BaseModel):
    user: UserRead
    workspace_id: str | None
    permissions: list[str]
