"""Request dependencies every domain uses: the container, a unit of work, a fast read.

Dependencies are ``async def`` on purpose: they do no slow I/O, and a plain ``def`` would
cost a hop to the thread pool each (several per request, most of a fast request's time).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from safar.errors import Unauthorized
from safar.kit.container import Container

T = TypeVar("T")


async def get_container(request: Request) -> Container[Any]:
    """The installation the app was built with (``app.state.runtime``)."""
    container: Container[Any] = request.app.state.runtime
    return container


ContainerDep = Annotated[Container[Any], Depends(get_container)]


async def get_session(container: ContainerDep) -> AsyncIterator[Session]:
    with container.db.session() as session:
        yield session


#: The unit of work commits when the endpoint returns, before the response is sent, so a
#: client that acts on a response always finds what it acknowledged (e.g. a new session).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def run_read(container: Container[Any], read: Callable[[], T]) -> T:
    """Run a short read of the state store for an ``async`` endpoint.

    Embedded SQLite answers a point read from a local file in well under a millisecond, less
    than handing the call to the thread pool and back costs (two thread wake-ups, which on a
    busy machine are where the latency tail comes from), so it runs inline. A networked
    database's round trip must not block the event loop: it goes to the thread pool. (A
    SQLite read that faults pages in from disk holds the loop while it waits; with several
    concurrent clients on a cold file the pool overlaps those waits better: see
    docs/benchmarks.md, "Profile lookup".)
    """
    if container.db.is_sqlite:
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
