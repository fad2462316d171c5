"""Queries of the orchestration tables, each scoped to one workspace by the kit's base."""

from __future__ import annotations

from sqlalchemy import select

from safar.kit.repository import WorkspaceRepository
from safar.orchestration.models import ScheduledJob, Trigger


class TriggerRepository(WorkspaceRepository[Trigger]):
    model = Trigger

    def ordered(self, workspace_id: str) -> list[Trigger]:
        return self.list(workspace_id, order_by=[Trigger.created_at])

    def active(self) -> list[Trigger]:
        """Every workspace's active triggers: the ingest hook matches rows of all of them."""
        return list(self.session.scalars(select(Trigger).where(Trigger.active.is_(True))))


class JobRepository(WorkspaceRepository[ScheduledJob]):
    model = ScheduledJob

    def by_key(self, workspace_id: str, key: str) -> ScheduledJob | None:
        stmt = self.scoped(workspace_id).where(ScheduledJob.dedupe_key == key)
        return self.session.scalar(stmt)

    def pending(self, workspace_id: str, key: str) -> ScheduledJob | None:
        job = self.by_key(workspace_id, key)
        return job if job is not None and job.status == "pending" else None
