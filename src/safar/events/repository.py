"""Every state-store query of the events domain (the record of refused messages)."""

from __future__ import annotations

from safar.events.models import IngestRejection
from safar.kit.repository import WorkspaceRepository


class RejectionRepository(WorkspaceRepository[IngestRejection]):
    model = IngestRejection

    def summary(self, workspace_id: str) -> list[IngestRejection]:
        """Every field refused in this workspace, most recent first."""
        return self.list(
            workspace_id, order_by=(IngestRejection.last_at.desc(), IngestRejection.field)
        )
