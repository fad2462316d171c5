"""Triggers ("when event X, do A via C after D") and the job queue, with a secret key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from safar.errors import ValidationFailed
from safar.orchestration import service
from safar.orchestration.deps import OrchestrationDep
from safar.orchestration.policy import SendPolicy
from safar.orchestration.schemas import JobRead, TriggerCreate, TriggerRead, TriggerUpdate
from safar.orchestration.service import JOB_REASONS, JOB_STATUSES
from safar.workspaces.deps import SecretKey, SessionDep

router = APIRouter(prefix="/api", tags=["orchestration"])


@router.post("/triggers", response_model=TriggerRead, status_code=201)
def create_trigger(
    data: TriggerCreate, key: SecretKey, session: SessionDep, runtime: OrchestrationDep
) -> TriggerRead:
    action = runtime.scheduler.actions.get(data.action)
    if action is None:
        raise ValidationFailed(
            f"action: unknown {data.action[:40]!r}; use one of {', '.join(runtime.scheduler.actions)}",
            field="action",
        )
    action.validate(
        session,
        workspace_id=key.workspace_id,
        params=data.params,
        policy=SendPolicy.from_trigger(data),
    )
    trigger = service.create_trigger(session, workspace_id=key.workspace_id, data=data)
    runtime.trigger_hook.invalidate()
    return TriggerRead.model_validate(trigger)


@router.get("/triggers", response_model=list[TriggerRead])
def list_triggers(key: SecretKey, session: SessionDep) -> list[TriggerRead]:
    return [
        TriggerRead.model_validate(t)
        for t in service.list_triggers(session, workspace_id=key.workspace_id)
    ]


@router.patch("/triggers/{trigger_id}", response_model=TriggerRead)
def update_trigger(
    trigger_id: str,
    data: TriggerUpdate,
    key: SecretKey,
    session: SessionDep,
    runtime: OrchestrationDep,
) -> TriggerRead:
    trigger = service.update_trigger(
        session, workspace_id=key.workspace_id, trigger_id=trigger_id, data=data
    )
    runtime.trigger_hook.invalidate()
    return TriggerRead.model_validate(trigger)


@router.get("/jobs", response_model=list[JobRead])
def list_jobs(
    key: SecretKey,
    session: SessionDep,
    status: Annotated[str | None, Query(max_length=20)] = None,
    trigger_id: Annotated[str | None, Query(max_length=40)] = None,
    reason: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[JobRead]:
    """Newest first; ``reason`` (consent, cap, quiet_hours, ...) says why jobs were skipped,
    held or failed."""
    if status is not None and status not in JOB_STATUSES:
        raise ValidationFailed(f"status: use one of {', '.join(JOB_STATUSES)}", field="status")
    if reason is not None and reason not in JOB_REASONS:
        raise ValidationFailed(f"reason: use one of {', '.join(JOB_REASONS)}", field="reason")
    jobs = service.list_jobs(
        session,
        workspace_id=key.workspace_id,
        status=status,
        trigger_id=trigger_id,
        reason=reason,
        limit=limit,
    )
    return [JobRead.model_validate(j) for j in jobs]
