"""Every state-store query of the events domain: the record of refused messages, import runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from safar.events.models import ImportRun, IngestRejection
from safar.kit.repository import WorkspaceRepository


class RejectionRepository(WorkspaceRepository[IngestRejection]):
    model = IngestRejection

    def summary(self, workspace_id: str) -> list[IngestRejection]:
        """Every field refused in this workspace, most recent first."""
        return self.list(
            workspace_id, order_by=(IngestRejection.last_at.desc(), IngestRejection.field)
        )


class ImportRepository(WorkspaceRepository[ImportRun]):
    model = ImportRun

    def recent(self, workspace_id: str, limit: int = 50) -> list[ImportRun]:
        """The workspace's imports, newest first."""
        return self.list(
            workspace_id, order_by=(ImportRun.created_at.desc(), ImportRun.id), limit=limit
        )

    def by_id(self, run_id: str) -> ImportRun | None:
        """A run by its id alone: for the server's own worker, which was handed the id."""
        return self.session.get(ImportRun, run_id)

    def fail_unfinished(self, *, reason: str, now: datetime) -> int:
        """Mark every queued or running import failed (in every workspace): at server start
        nothing runs them any more. Returns how many."""
        result = self.session.execute(
            update(ImportRun)
            .where(ImportRun.state.in_(("queued", "running")))
            .values(state="failed", error=reason, finished_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)
