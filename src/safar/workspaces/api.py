"""Workspace administration with a secret key: its API keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from safar.workspaces import service
from safar.workspaces.deps import KeysDep, SecretKey, SessionDep
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
def revoke_key(key_id: str, key: SecretKey, session: SessionDep, runtime: KeysDep) -> ApiKeyRead:
    revoked = service.revoke_key(session, workspace_id=key.workspace_id, key_id=key_id)
    runtime.keys.revoke(revoked.key_hash)
    return _read(revoked)
