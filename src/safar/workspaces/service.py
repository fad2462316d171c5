"""Create workspaces, issue and revoke keys, authenticate a presented key."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from safar.db import utcnow
from safar.errors import NotFound, ValidationFailed
from safar.kit.channels import Channel
from safar.workspaces.models import ApiKey, Workspace
from safar.workspaces.repository import ApiKeyRepository

KEY_PREFIXES = {"write": "wk_", "secret": "sk_"}


def hash_key(raw: str) -> str:
    """Keys are 256-bit random tokens, so one SHA-256 is enough (no password stretching)."""
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyIdentity:
    """What a presented key grants: a workspace, a kind, and a default channel."""

    key_id: str
    workspace_id: str
    kind: str
    default_channel: Channel | None


def create_workspace(session: Session, *, name: str) -> tuple[Workspace, str, str]:
    """Create a workspace with one write key and one secret key; return the raw keys once."""
    if not name.strip():
        raise ValidationFailed("workspace name must not be empty", field="name")
    ws = Workspace(id="ws_" + uuid.uuid4().hex[:20], name=name.strip())
    session.add(ws)
    session.flush()
    _, write = issue_key(session, workspace_id=ws.id, kind="write", name="default write key")
    _, secret = issue_key(session, workspace_id=ws.id, kind="secret", name="default secret key")
    return ws, write, secret


def issue_key(
    session: Session,
    *,
    workspace_id: str,
    kind: str,
    name: str = "",
    default_channel: str | None = None,
) -> tuple[ApiKey, str]:
    if kind not in KEY_PREFIXES:
        raise ValidationFailed("kind must be 'write' or 'secret'", field="kind")
    if session.get(Workspace, workspace_id) is None:
        raise NotFound(f"workspace {workspace_id} not found", field="workspace_id")
    raw = KEY_PREFIXES[kind] + secrets.token_urlsafe(32)
    key = ApiKey(
        id="key_" + uuid.uuid4().hex[:20],
        workspace_id=workspace_id,
        kind=kind,
        name=name,
        prefix=raw[:10],
        key_hash=hash_key(raw),
        default_channel=default_channel,
    )
    session.add(key)
    session.flush()
    return key, raw


def revoke_key(session: Session, *, workspace_id: str, key_id: str) -> ApiKey:
    key = ApiKeyRepository(session).get(workspace_id, key_id)
    if key is None:
        raise NotFound(f"API key {key_id} not found", field="key_id")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def list_keys(session: Session, *, workspace_id: str) -> list[ApiKey]:
    return ApiKeyRepository(session).ordered(workspace_id)


def get_workspace(session: Session, workspace_id: str) -> Workspace | None:
    return session.get(Workspace, workspace_id)


def find_workspace(session: Session, *, name: str) -> Workspace | None:
    """The oldest workspace with this name (names are not unique)."""
    stmt = select(Workspace).where(Workspace.name == name).order_by(Workspace.created_at)
    return session.scalars(stmt).first()


def list_workspaces(session: Session) -> list[Workspace]:
    return list(session.scalars(select(Workspace).order_by(Workspace.created_at)))


def authenticate(session: Session, raw: str) -> KeyIdentity | None:
    """Return what the key grants, or None when it is unknown or revoked."""
    key = ApiKeyRepository(session).by_hash(hash_key(raw))
    if key is None or key.revoked_at is not None:
        return None
    # The column holds a channel name: keys are created through a ``Channel``-typed schema
    # or a form that checks the name against ``CHANNELS``.
    channel = cast("Channel | None", key.default_channel)
    return KeyIdentity(key.id, key.workspace_id, key.kind, channel)
