"""Case shapes: what the API takes (create, update, note) and returns (a case, its log, a page)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")
STATUSES: tuple[Status, ...] = ("new", "open", "pending", "on_hold", "solved", "closed")
#: Statuses in which someone still owes the customer something.
OPEN_STATUSES: tuple[Status, ...] = ("new", "open", "pending", "on_hold")
#: Where a case may go from each status. ``closed`` is final; ``solved`` reopens to ``open``;
#: nothing goes back to ``new``.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "pending", "on_hold", "solved", "closed"}),
    "open": frozenset({"pending", "on_hold", "solved", "closed"}),
    "pending": frozenset({"open", "on_hold", "solved", "closed"}),
    "on_hold": frozenset({"open", "pending", "solved", "closed"}),
    "solved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}
MAX_TAGS = 20
MAX_PAGE = 200

Tag = Annotated[str, Field(min_length=1, max_length=40)]


class CaseCreate(BaseModel):
    """A case opened by hand or by API."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=300)
    profile_id: str | None = Field(default=None, max_length=40)
    channel: str | None = Field(default=None, max_length=40)
    category: str | None = Field(default=None, max_length=60)
    priority: Priority = "normal"
    assignee: str | None = Field(default=None, max_length=40)
    team: str | None = Field(default=None, max_length=60)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    source_message_ids: list[Annotated[str, Field(max_length=255)]] = Field(
        default_factory=list, max_length=50
    )


class CaseUpdate(BaseModel):
    """The fields a PATCH may change; those left out stay as they are (``assignee: null``
    unassigns)."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    assignee: str | None = Field(default=None, max_length=40)
    priority: Priority | None = None
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=10_000)


class CaseFilter(BaseModel):
    """What the inbox narrows the list by; every given filter must hold."""

    status: list[Status] = Field(default_factory=list)
    assignee: str | None = None
    priority: list[Priority] = Field(default_factory=list)
    profile_id: str | None = None
    #: Words the subject contains (case-insensitive).
    q: str | None = Field(default=None, max_length=200)


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    subject: str
    profile_id: str | None
    channel: str | None
    category: str | None
    priority: str
    status: str
    assignee: str | None
    team: str | None
    tags: list[str]
    source_message_ids: list[str]
    origin: str
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None


class CaseEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    kind: str
    actor: str
    at: datetime
    data: dict[str, Any]


class CaseDetail(CaseRead):
    """A case with its whole event log, oldest first."""

    log: list[CaseEventRead]


class CasePage(BaseModel):
    cases: list[CaseRead]
    total: int
    limit: int
    offset: int
    next_offset: int | None
