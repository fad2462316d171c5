"""Profile API (Bearer secret key): lookup, profile, timeline, traits, merges, unmerge, household."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse

from safar.errors import ValidationFailed
from safar.events.channels import CHANNELS
from safar.events.deps import EventsDep
from safar.events.messages import MESSAGE_TYPES
from safar.identity import service
from safar.identity.schemas import (
    GroupRead,
    MergeRead,
    ProfileRead,
    TimelineEvent,
    TimelinePage,
    TraitObservation,
    UnmergeRequest,
    UnmergeResult,
)
from safar.workspaces.deps import SecretKey, SessionDep, run_read

router = APIRouter(prefix="/api/profiles", tags=["profiles"])


class JSONBytes(JSONResponse):
    """A JSON body that is already encoded (a JSONResponse, so the docs show its schema)."""

    def render(self, content: Any) -> bytes:
        assert isinstance(content, bytes)
        return content


# The two profile reads answer with bytes the service already wrote as ``ProfileRead`` JSON:
# FastAPI would otherwise validate the model again and re-encode it (and do the validation on
# another trip through the thread pool). ``response_model`` still documents the shape. They
# read through a plain connection rather than the request's session (see ``run_read``).
@router.get("/lookup", response_model=ProfileRead, response_class=JSONBytes)
async def lookup_profile(
    key: SecretKey,
    runtime: EventsDep,
    type: Annotated[
        str, Query(max_length=40, description="user_id, email, phone, anonymous_id, ...")
    ],
    value: Annotated[str, Query(min_length=1, max_length=320)],
) -> JSONBytes:
    def read() -> bytes:
        with runtime.db.read() as conn:
            return service.lookup_profile_json(
                conn, workspace_id=key.workspace_id, type_=type, value=value
            )

    return JSONBytes(await run_read(runtime, read))


@router.get("/{profile_id}", response_model=ProfileRead, response_class=JSONBytes)
async def get_profile(profile_id: str, key: SecretKey, runtime: EventsDep) -> JSONBytes:
    def read() -> bytes:
        with runtime.db.read() as conn:
            return service.profile_json(conn, workspace_id=key.workspace_id, profile_id=profile_id)

    return JSONBytes(await run_read(runtime, read))


@router.get("/{profile_id}/traits/history", response_model=list[TraitObservation])
def trait_history(profile_id: str, key: SecretKey, session: SessionDep) -> list[TraitObservation]:
    return service.trait_history(session, workspace_id=key.workspace_id, profile_id=profile_id)


def _split(values: list[str] | None, allowed: tuple[str, ...] | None, field: str) -> list[str]:
    out = [v.strip() for raw in values or [] for v in raw.split(",") if v.strip()]
    if allowed is not None:
        for v in out:
            if v not in allowed:
                raise ValidationFailed(
                    f"{field}: unknown value {v[:40]!r}; one of {', '.join(allowed)}", field=field
                )
    return out


@router.get("/{profile_id}/timeline", response_model=TimelinePage)
def timeline(
    profile_id: str,
    key: SecretKey,
    session: SessionDep,
    runtime: EventsDep,
    channel: Annotated[
        list[str] | None, Query(description="filter; repeat or comma-separate")
    ] = None,
    type: Annotated[list[str] | None, Query(description="message types: track, page, ...")] = None,
    event: Annotated[
        list[str] | None,
        Query(description="track event names; repeat for several (names may contain commas)"),
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> TimelinePage:
    pid, rows, next_cursor = service.timeline(
        session, runtime.store, workspace_id=key.workspace_id, profile_id=profile_id,
        channels=_split(channel, CHANNELS, "channel"), types=_split(type, MESSAGE_TYPES, "type"),
        events=[e for e in event or [] if e.strip()], since=_utc(since), until=_utc(until),
        limit=limit, cursor=cursor,
    )  # fmt: skip
    events = [
        TimelineEvent(
            message_id=r["message_id"],
            type=r["type"],
            event=r["event"],
            name=r["name"],
            channel=r["channel"],
            user_id=r["user_id"],
            anonymous_id=r["anonymous_id"],
            timestamp=datetime.fromtimestamp(r["timestamp"] / 1e6, tz=UTC),
            received_at=datetime.fromtimestamp(r["received_at"] / 1e6, tz=UTC),
            properties=r["properties"],
            context=r["context"],
            traits=r["traits"],
        )
        for r in rows
    ]
    return TimelinePage(profile_id=pid, events=events, next_cursor=next_cursor)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get("/{profile_id}/merges", response_model=list[MergeRead])
def merges(profile_id: str, key: SecretKey, session: SessionDep) -> list[MergeRead]:
    pid = service.resolve_profile_id(session, workspace_id=key.workspace_id, profile_id=profile_id)
    return service.merges_of(session, pid)


@router.post("/{profile_id}/unmerge", response_model=UnmergeResult)
def unmerge(
    profile_id: str,
    key: SecretKey,
    session: SessionDep,
    body: Annotated[UnmergeRequest | None, Body()] = None,
) -> UnmergeResult:
    return service.unmerge(
        session,
        workspace_id=key.workspace_id,
        profile_id=profile_id,
        merge_id=body.merge_id if body else None,
        actor=f"api:{key.key_id}",
    )


@router.get("/{profile_id}/household", response_model=list[GroupRead])
def household(profile_id: str, key: SecretKey, session: SessionDep) -> list[GroupRead]:
    return service.household(session, workspace_id=key.workspace_id, profile_id=profile_id)
