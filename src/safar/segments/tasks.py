"""The segments domain's durable tasks: store change events, refresh a workspace's segments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from safar.kit.container import Container
from safar.segments import service

Task = Callable[[dict[str, Any]], dict[str, Any]]


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
