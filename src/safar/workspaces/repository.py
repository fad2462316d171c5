"""Queries of the workspaces tables: keys go through the kit's workspace-scoped base."""

from __future__ import annotations

from sqlalchemy import select

from safar.kit.repository import WorkspaceRepository
from safar.workspaces.models import ApiKey


class ApiKeyRepository(WorkspaceRepository[ApiKey]):
    model = ApiKey

    def ordered(self, workspace_id: str) -> list[ApiKey]:
        return self.list(workspace_id, order_by=[ApiKey.created_at])

    def by_hash(self, key_hash: str) -> ApiKey | None:
        """The key presented on a request: found by its hash before any workspace is known."""
        return self.session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))
