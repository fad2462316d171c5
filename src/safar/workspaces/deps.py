"""Request dependencies of the API: the kit's (container, unit of work) and who the caller is."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from safar.errors import Forbidden, Unauthorized
from safar.kit.container import Container
from safar.kit.deps import (
    ContainerDep,
    SessionDep,
    basic_username,
    get_container,
    get_session,
    run_read,
)
from safar.workspaces.keys import KeyCache
from safar.workspaces.service import KeyIdentity

__all__ = [
    "KeyedContainer",
    "KeysDep",
    "RuntimeDep",
    "SecretKey",
    "SessionDep",
    "basic_username",
    "get_session",
    "require_secret_key",
    "run_read",
]

#: The container under the name endpoints have always used for it.
RuntimeDep = ContainerDep


class KeyedContainer(Container[Any], Protocol):
    """A container that also checks API keys (the runtime's ``KeyCache``)."""

    @property
    def keys(self) -> KeyCache: ...


#: The same dependency as ``ContainerDep`` (so FastAPI resolves it once per request), typed
#: with the key cache.
KeysDep = Annotated[KeyedContainer, Depends(get_container)]


async def require_secret_key(request: Request, runtime: KeysDep) -> KeyIdentity:
    """Bearer secret key: reads and administers one workspace."""
    header = request.headers.get("authorization") or ""
    if not header.lower().startswith("bearer "):
        raise Unauthorized("Authorization: send 'Bearer <secret key>'", field="Authorization")
    key = runtime.keys.get(runtime.db, header[7:].strip())
    if key is None:
        raise Unauthorized("Authorization: unknown or revoked key", field="Authorization")
    if key.kind != "secret":
        raise Forbidden(
            "Authorization: write keys can only send events; use a secret key",
            field="Authorization",
        )
    return key


SecretKey = Annotated[KeyIdentity, Depends(require_secret_key)]
