"""Saved segments under ``/api/segments`` (secret key): CRUD, members, CSV export, preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from safar.events.deps import EventsDep
from safar.segments import export, service
from safar.segments.models import Segment
from safar.segments.schemas import (
    MembersPage,
    Preview,
    SegmentCreate,
    SegmentDefinition,
    SegmentRead,
    SegmentUpdate,
)
from safar.workspaces.deps import SecretKey, SessionDep

router = APIRouter(prefix="/api/segments", tags=["segments"])


def _read(segment: Segment) -> SegmentRead:
    return SegmentRead.model_validate(segment)


@router.post("", response_model=SegmentRead, status_code=201)
def create_segment(
    data: SegmentCreate, key: SecretKey, session: SessionDep, runtime: EventsDep
) -> SegmentRead:
    segment = service.create_segment(session, workspace_id=key.workspace_id, data=data)
    # The periodic refresh of the workspace starts with its first segment (once per slot).
    service.schedule_refresh(
        session,
        runtime.jobs,
        workspace_id=key.workspace_id,
        due_at=runtime.clock(),
        interval_s=runtime.settings.segment_refresh_s,
    )
    return _read(segment)


@router.get("", response_model=list[SegmentRead])
def list_segments(key: SecretKey, session: SessionDep) -> list[SegmentRead]:
    return [_read(s) for s in service.list_segments(session, workspace_id=key.workspace_id)]


@router.post("/preview", response_model=Preview)
def preview(
    data: SegmentDefinition, key: SecretKey, session: SessionDep, runtime: EventsDep
) -> Preview:
    return service.preview(
        session, runtime.store, workspace_id=key.workspace_id, definition=data, now=runtime.clock()
    )


@router.get("/{segment_id}", response_model=SegmentRead)
def get_segment(segment_id: str, key: SecretKey, session: SessionDep) -> SegmentRead:
    return _read(service.get_segment(session, workspace_id=key.workspace_id, segment_id=segment_id))


@router.patch("/{segment_id}", response_model=SegmentRead)
def update_segment(
    segment_id: str, data: SegmentUpdate, key: SecretKey, session: SessionDep
) -> SegmentRead:
    segment = service.update_segment(
        session, workspace_id=key.workspace_id, segment_id=segment_id, data=data
    )
    return _read(segment)


@router.delete("/{segment_id}", status_code=204)
def delete_segment(segment_id: str, key: SecretKey, session: SessionDep) -> Response:
    service.delete_segment(session, workspace_id=key.workspace_id, segment_id=segment_id)
    return Response(status_code=204)


@router.get("/{segment_id}/members", response_model=MembersPage)
def members(
    segment_id: str,
    key: SecretKey,
    session: SessionDep,
    runtime: EventsDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> MembersPage:
    found = sorted(
        service.members(
            session,
            runtime.store,
            workspace_id=key.workspace_id,
            segment_id=segment_id,
            now=runtime.clock(),
        )
    )
    return MembersPage(
        count=len(found), profile_ids=found[offset : offset + limit], limit=limit, offset=offset
    )


@router.get("/{segment_id}/members.csv")
def members_csv(
    segment_id: str, key: SecretKey, session: SessionDep, runtime: EventsDep
) -> StreamingResponse:
    segment = service.get_segment(session, workspace_id=key.workspace_id, segment_id=segment_id)
    found = service.members(
        session,
        runtime.store,
        workspace_id=key.workspace_id,
        segment_id=segment.id,
        now=runtime.clock(),
    )
    chunks = export.csv_chunks(runtime.db.session, workspace_id=key.workspace_id, profile_ids=found)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{segment.id}.csv"'},
    )
