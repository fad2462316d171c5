"""Workspace administration with a secret key: keys, ingest status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from safar.identity.service import profile_count
from safar.workspaces import service
from safar.workspaces.deps import RuntimeDep, SecretKey, SessionDep
from safar.workspaces.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead

router = APIRouter(prefix="/api", tags=["workspace"])


def _read(key: Any) -> ApiKeyRead:
    return ApiKeyRead(
        id=key.id,
        kind=key.kind,
        name=key.name,
        prefix=key.prefix,
        default_channel=key.default_channel,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


@router.get("/keys", response_model=list[ApiKeyRead])
def list_keys(key: SecretKey, session: SessionDep) -> list[ApiKeyRead]:
    return [_read(k) for k in service.list_keys(session, workspace_id=key.workspace_id)]


@router.post("/keys", response_model=ApiKeyCreated, status_code=201)
def create_key(data: ApiKeyCreate, key: SecretKey, session: SessionDep) -> ApiKeyCreated:
    created, raw = service.issue_key(
        session,
        workspace_id=key.workspace_id,
        kind=data.kind,
        name=data.name,
        default_channel=data.default_channel,
    )
    return ApiKeyCreated(**_read(created).model_dump(), key=raw)


@router.post("/keys/{key_id}/revoke", response_model=ApiKeyRead)
def revoke_key(key_id: str, key: SecretKey, session: SessionDep, runtime: RuntimeDep) -> ApiKeyRead:
    revoked = service.revoke_key(session, workspace_id=key.workspace_id, key_id=key_id)
    runtime.keys.revoke(revoked.key_hash)
    return _read(revoked)


@router.get("/stats")
def stats(key: SecretKey, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    return {
        "workspace_id": key.workspace_id,
        "events": runtime.store.count(key.workspace_id),
        "events_by_channel": runtime.store.channel_counts(key.workspace_id),
        "profiles": profile_count(session, workspace_id=key.workspace_id),
        "ingest_lag_bytes": runtime.consumer.lag_bytes() if runtime.consumer else 0,
        "event_engine": runtime.store.engine_name,
    }


@router.post("/ingest/flush")
def flush(
    key: SecretKey,
    runtime: RuntimeDep,
    timeout: Annotated[float, Query(gt=0, le=120)] = 30.0,
) -> dict[str, Any]:
    """Wait until every acknowledged event is applied (read-your-writes for scripts and tests)."""
    consumer = runtime.consumer
    done = consumer.wait_applied(timeout=timeout) if consumer else True
    return {
        "applied": done,
        "lag_bytes": consumer.lag_bytes() if consumer else 0,
        # Why not, when not: the consumer's last error while it is retrying (see /healthz).
        "retrying_because": consumer.last_error if consumer and consumer.failures else None,
    }
