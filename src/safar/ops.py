"""Operations endpoints that read across domains: what the stores hold, how far ingest is.

They belong to the composition root (beside ``app.py``), since only it may know every domain
and the concrete runtime; a domain answering them would have to import the others.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from safar.identity.service import profile_count
from safar.runtime import Runtime
from safar.workspaces.deps import SecretKey, SessionDep

router = APIRouter(prefix="/api", tags=["workspace"])


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


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
