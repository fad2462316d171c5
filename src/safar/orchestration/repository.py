"""Queries of the orchestration tables, each scoped to one workspace by the kit's base."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from safar.kit.repository import WorkspaceRepository
from safar.orchestration.models import ContactLog, ScheduledJob, Trigger


class TriggerRepository(WorkspaceRepository[Trigger]):
    model = Trigger

    def ordered(self, workspace_id: str) -> list[Trigger]:
        return self.list(workspace_id, order_by=[Trigger.created_at])

    def active(self) -> list[Trigger]:
        """Every workspace's active triggers: the ingest hook matches rows of all of them."""
        return list(self.session.scalars(select(Trigger).where(Trigger.active.is_(True))))


class JobRepository(WorkspaceRepository[ScheduledJob]):
    model = ScheduledJob

    def status(self, job_id: int) -> str | None:
        """One job's status by id (ids are global; callers hold an id they were given)."""
        return self.session.scalar(select(ScheduledJob.status).where(ScheduledJob.id == job_id))

    def by_key(self, workspace_id: str, key: str) -> ScheduledJob | None:
        stmt = self.scoped(workspace_id).where(ScheduledJob.dedupe_key == key)
        return self.session.scalar(stmt)

    def recent(
        self,
        workspace_id: str,
        *,
        status: str | None = None,
        trigger_id: str | None = None,
        limit: int = 100,
    ) -> list[ScheduledJob]:
        """Newest first, optionally of one status and one trigger."""
        where = []
        if status:
            where.append(ScheduledJob.status == status)
        if trigger_id:
            where.append(ScheduledJob.trigger_id == trigger_id)
        return self.list(workspace_id, *where, order_by=[ScheduledJob.id.desc()], limit=limit)

    def existing_keys(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (workspace, dedupe key) pairs already have a job; one batch spans workspaces."""
        found: set[tuple[str, str]] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            stmt = select(ScheduledJob.workspace_id, ScheduledJob.dedupe_key).where(
                ScheduledJob.dedupe_key.in_([k for _, k in chunk])
            )
            found.update((ws, key) for ws, key in self.session.execute(stmt).tuples())
        return found

    def pending(self, workspace_id: str, key: str) -> ScheduledJob | None:
        job = self.by_key(workspace_id, key)
        return job if job is not None and job.status == "pending" else None


def _plain(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key != "workspace_id"}


def person_rows(session: Session, *, workspace_id: str, profile_ids: list[str]) -> dict[str, Any]:
    """The jobs run about these profiles and the contacts made with them."""
    out: dict[str, Any] = {}
    for name, model in (("jobs", ScheduledJob), ("contacts", ContactLog)):
        stmt = select(model).where(
            model.workspace_id == workspace_id, model.profile_id.in_(profile_ids)
        )
        out[name] = [_plain(r) for r in session.scalars(stmt)]
    return out


def erase_person(session: Session, *, workspace_id: str, profile_ids: list[str]) -> int:
    total = 0
    for model in (ContactLog, ScheduledJob):
        stmt = delete(model).where(
            model.workspace_id == workspace_id, model.profile_id.in_(profile_ids)
        )
        result: Any = session.execute(stmt)
        total += int(result.rowcount or 0)
    return total
