"""Request dependencies: the runtime, a unit of work, and who the caller is."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from safar.errors import Forbidden, Unauthorized
from safar.runtime import Runtime
from safar.workspaces.service import KeyIdentity

# Dependencies are ``async def`` on purpose: they do no slow I/O, and a plain ``def`` would
# cost a hop to the thread pool each (several per request, most of a fast request's time).


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    with runtime.db.session() as session:
        yield session


#: The unit of work commits when the endpoint returns, before the response is sent, so a
#: client that acts on a response always finds what it acknowledged (e.g. a new session).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

T = TypeVar("T")


async def run_read(runtime: Runtime, read: Callable[[], T]) -> T:
    """Run a short read of the state store for an ``async`` endpoint.

    Embedded SQLite answers a point read from a local file in well under a millisecond, less
    than handing the call to the thread pool and back costs (two thread wake-ups, which on a
    busy machine are where the latency tail comes from), so it runs inline. A networked
    database's round trip must not block the event loop: it goes to the thread pool. (A
    SQLite read that faults pages in from disk holds the loop while it waits; with several
    concurrent clients on a cold file the pool overlaps those waits better: see
    docs/benchmarks.md, "Profile lookup".)
    """
    if runtime.db.is_sqlite:
        return read()
    return await run_in_threadpool(read)


def basic_username(header: str | None) -> str | None:
    """The username of an HTTP Basic header (Segment puts the write key there)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized(
            "Authorization: malformed Basic credentials", field="Authorization"
        ) from None
    return decoded.split(":", 1)[0]


async def require_secret_key(request: Request, runtime: RuntimeDep) -> KeyIdentity:
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
