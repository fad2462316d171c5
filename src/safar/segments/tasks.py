"""The segments domain's durable tasks: store change events, refresh a workspace's segments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from safar.events.pipeline import Applier
from safar.kit.container import Container
from safar.segments import service

Task = Callable[[dict[str, Any]], dict[str, Any]]


def emit_events_task(applier: Applier) -> Task:
    """Store a refresh's ``segment_entered`` / ``segment_exited`` events through the one
    ingestion path (de-duplicated by messageId, so a replay stores nothing twice)."""

    def run(payload: dict[str, Any]) -> dict[str, Any]:
        result = applier.apply(list(payload.get("rows") or []))
        return {"inserted": result.inserted, "duplicates": result.duplicates}

    return run


def refresh_task(container: Container[Any]) -> Task:
    """Refresh every segment of a workspace, then enqueue the next refresh."""

    def run(payload: dict[str, Any]) -> dict[str, Any]:
        workspace_id = str(payload["workspace_id"])
        interval = float(payload.get("interval_s") or container.settings.segment_refresh_s)
        now = container.clock()
        with container.db.session() as session:
            diffs = service.refresh_all(
                session, container.store, workspace_id=workspace_id, now=now, jobs=container.jobs
            )
            if diffs:  # a workspace without segments stops here; its next segment restarts it
                service.schedule_refresh(
                    session,
                    container.jobs,
                    workspace_id=workspace_id,
                    due_at=service.next_refresh(now, interval),
                    interval_s=interval,
                )
        return {
            "segments": len(diffs),
            "entered": sum(len(d.entered) for d in diffs.values()),
            "left": sum(len(d.left) for d in diffs.values()),
        }

    return run
