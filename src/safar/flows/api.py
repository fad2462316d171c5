"""Journeys under ``/api/journeys/flows``: definitions (JSON or YAML), versions, publishing,
API entry, live counts, instances and a message preview; secret-key authenticated."""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from safar.errors import ValidationFailed
from safar.flows import analytics, service
from safar.flows.deps import FlowsDep
from safar.flows.messages import preview as render_preview
from safar.flows.schemas import (
    EnterRequest,
    EnterResult,
    FlowDetail,
    FlowRead,
    InstanceRead,
    PreviewRequest,
    VersionRead,
)
from safar.workspaces.deps import SecretKey, SessionDep

router = APIRouter(prefix="/api/journeys/flows", tags=["journeys: orchestration"])
MAX_BODY = 1_000_000


def _detail(session: Any, flow: Any) -> FlowDetail:
    row = service.version_of(
        session, workspace_id=flow.workspace_id, flow_id=flow.id, version=flow.version
    )
    return FlowDetail.model_validate(
        {**FlowRead.model_validate(flow).model_dump(), "definition": row.definition}
    )


async def _definition(request: Request) -> dict[str, Any]:
    """The body as JSON or YAML (``Content-Type: application/yaml``)."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ValidationFailed("body: a journey definition is at most 1 MB", field="body")
    ctype = request.headers.get("content-type", "")
    try:
        data = yaml.safe_load(raw) if "yaml" in ctype else json.loads(raw or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise ValidationFailed(
            f"body: not valid {'YAML' if 'yaml' in ctype else 'JSON'} ({exc})"[:300], field="body"
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed("body: a journey definition is an object", field="body")
    return data


@router.get("", response_model=list[FlowRead])
def list_flows(key: SecretKey, session: SessionDep) -> list[FlowRead]:
    return [
        FlowRead.model_validate(f)
        for f in service.list_flows(session, workspace_id=key.workspace_id)
    ]


@router.post("", response_model=FlowDetail, status_code=201)
async def create_flow(
    request: Request, key: SecretKey, session: SessionDep, runtime: FlowsDep
) -> FlowDetail:
    data = await _definition(request)
    flow = service.create_flow(
        session,
        workspace_id=key.workspace_id,
        definition=data,
        user=f"key:{key.key_id}",
        now=runtime.flows.clock(),
    )
    return _detail(session, flow)


@router.get("/{flow_id}", response_model=FlowDetail)
def get_flow(flow_id: str, key: SecretKey, session: SessionDep) -> FlowDetail:
    return _detail(
        session, service.get_flow(session, workspace_id=key.workspace_id, flow_id=flow_id)
    )


@router.put("/{flow_id}", response_model=FlowDetail)
async def save_flow(
    flow_id: str, request: Request, key: SecretKey, session: SessionDep, runtime: FlowsDep
) -> FlowDetail:
    data = await _definition(request)
    flow = service.save_draft(
        session,
        workspace_id=key.workspace_id,
        flow_id=flow_id,
        definition=data,
        user=f"key:{key.key_id}",
        now=runtime.flows.clock(),
    )
    return _detail(session, flow)


@router.get("/{flow_id}/export")
def export_flow(
    flow_id: str,
    key: SecretKey,
    session: SessionDep,
    format: Annotated[str, Query(pattern="^(json|yaml)$")] = "json",
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    flow = service.get_flow(session, workspace_id=key.workspace_id, flow_id=flow_id)
    row = service.version_of(
        session, workspace_id=key.workspace_id, flow_id=flow_id, version=version or flow.version
    )
    if format == "yaml":
        text = yaml.safe_dump(row.definition, allow_unicode=True, sort_keys=False)
        return Response(text, media_type="application/yaml")
    return Response(
        json.dumps(row.definition, ensure_ascii=False, indent=2), media_type="application/json"
    )


@router.get("/{flow_id}/versions", response_model=list[VersionRead])
def flow_versions(flow_id: str, key: SecretKey, session: SessionDep) -> list[VersionRead]:
    service.get_flow(session, workspace_id=key.workspace_id, flow_id=flow_id)
    rows = service.versions(session, workspace_id=key.workspace_id, flow_id=flow_id)
    return [VersionRead.model_validate(v) for v in rows]


@router.post("/{flow_id}/publish", response_model=FlowRead)
def publish_flow(flow_id: str, key: SecretKey, session: SessionDep, runtime: FlowsDep) -> FlowRead:
    return FlowRead.model_validate(
        runtime.flows.publish(session, workspace_id=key.workspace_id, flow_id=flow_id)
    )


@router.post("/{flow_id}/enter", response_model=EnterResult)
def enter_flow(
    flow_id: str, body: EnterRequest, key: SecretKey, session: SessionDep, runtime: FlowsDep
) -> EnterResult:
    instance_id = runtime.flows.enter(
        session,
        workspace_id=key.workspace_id,
        flow_id=flow_id,
        profile_id=body.profile_id,
        key=body.key,
        properties=body.properties,
    )
    if instance_id is None:
        return EnterResult(
            instance_id=None,
            entered=False,
            reason="not published, already entered, or kept out by the re-entry rule",
        )
    return EnterResult(instance_id=instance_id, entered=True)


@router.get("/{flow_id}/stats")
def flow_stats(
    flow_id: str, key: SecretKey, session: SessionDep, runtime: FlowsDep
) -> dict[str, Any]:
    service.get_flow(session, workspace_id=key.workspace_id, flow_id=flow_id)
    return analytics.flow_stats(
        session, workspace_id=key.workspace_id, flow_id=flow_id, outcomes=runtime.flows.outcomes
    )


@router.get("/{flow_id}/instances", response_model=list[InstanceRead])
def flow_instances(
    flow_id: str,
    key: SecretKey,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[InstanceRead]:
    rows = service.instances(session, workspace_id=key.workspace_id, flow_id=flow_id, limit=limit)
    return [InstanceRead.model_validate(i) for i in rows]


@router.post("/{flow_id}/preview")
def preview(
    flow_id: str, body: PreviewRequest, key: SecretKey, session: SessionDep, runtime: FlowsDep
) -> dict[str, Any]:
    flow = service.get_flow(session, workspace_id=key.workspace_id, flow_id=flow_id)
    row = service.version_of(
        session, workspace_id=key.workspace_id, flow_id=flow_id, version=flow.version
    )
    return render_preview(
        session,
        workspace_id=key.workspace_id,
        flow=service.parse(row.definition),
        node_id=body.node,
        profile_id=body.profile_id,
        default_tz=runtime.flows.default_tz,
    )


# Last: its path parameter would otherwise take /enter and /preview.
@router.post("/{flow_id}/{action}", response_model=FlowRead)
def change_status(
    flow_id: str, action: str, key: SecretKey, session: SessionDep, runtime: FlowsDep
) -> FlowRead:
    status = {"pause": "paused", "resume": "published", "archive": "archived"}.get(action)
    if status is None:
        raise ValidationFailed("action: use publish, pause, resume or archive", field="action")
    flow = service.set_status(
        session,
        workspace_id=key.workspace_id,
        flow_id=flow_id,
        status=status,
        now=runtime.flows.clock(),
    )
    runtime.flows.hook.invalidate()
    return FlowRead.model_validate(flow)
