"""Cases under ``/api/cases`` (secret key): open, list with filters, read with the log,
change (status, assignee, priority, tags), add internal notes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from safar.cases import service
from safar.cases.schemas import (
    MAX_PAGE,
    CaseCreate,
    CaseDetail,
    CaseEventRead,
    CaseFilter,
    CasePage,
    CaseRead,
    CaseUpdate,
    NoteCreate,
    Priority,
    Status,
)
from safar.workspaces.deps import RuntimeDep, SecretKey, SessionDep
from safar.workspaces.service import KeyIdentity

router = APIRouter(prefix="/api/cases", tags=["cases"])


def _actor(key: KeyIdentity) -> str:
    return f"key:{key.key_id}"


def _detail(session: SessionDep, workspace_id: str, case_id: str) -> CaseDetail:
    case = service.get_case(session, workspace_id=workspace_id, case_id=case_id)
    log = service.case_log(session, workspace_id=workspace_id, case_id=case_id)
    return CaseDetail(
        **CaseRead.model_validate(case).model_dump(),
        log=[CaseEventRead.model_validate(e) for e in log],
    )


@router.post("", response_model=CaseDetail, status_code=201)
def create_case(
    data: CaseCreate, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> CaseDetail:
    case = service.create_case(
        session, runtime.jobs, workspace_id=key.workspace_id, data=data, actor=_actor(key),
        now=runtime.clock(),
    )  # fmt: skip
    return _detail(session, key.workspace_id, case.id)


@router.get("", response_model=CasePage)
def list_cases(
    key: SecretKey,
    session: SessionDep,
    status: Annotated[list[Status] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    assignee: Annotated[str | None, Query(max_length=40)] = None,
    profile_id: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CasePage:
    flt = CaseFilter(
        status=status or [], priority=priority or [], assignee=assignee, profile_id=profile_id,
        q=q,
    )  # fmt: skip
    cases, total = service.list_cases(
        session, workspace_id=key.workspace_id, filter=flt, limit=limit, offset=offset
    )
    return CasePage(
        cases=[CaseRead.model_validate(c) for c in cases], total=total, limit=limit,
        offset=offset, next_offset=offset + limit if offset + limit < total else None,
    )  # fmt: skip


@router.get("/{case_id}", response_model=CaseDetail)
def get_case(case_id: str, key: SecretKey, session: SessionDep) -> CaseDetail:
    return _detail(session, key.workspace_id, case_id)


@router.patch("/{case_id}", response_model=CaseDetail)
def update_case(
    case_id: str, data: CaseUpdate, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> CaseDetail:
    service.update_case(
        session, runtime.jobs, workspace_id=key.workspace_id, case_id=case_id, data=data,
        actor=_actor(key), now=runtime.clock(),
    )  # fmt: skip
    return _detail(session, key.workspace_id, case_id)


@router.post("/{case_id}/notes", response_model=CaseEventRead, status_code=201)
def add_note(
    case_id: str, data: NoteCreate, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> CaseEventRead:
    entry = service.add_note(
        session, runtime.jobs, workspace_id=key.workspace_id, case_id=case_id, body=data.body,
        actor=_actor(key), now=runtime.clock(),
    )  # fmt: skip
    return CaseEventRead.model_validate(entry)
