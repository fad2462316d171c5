"""Every query of the cases domain, on the workspace-scoped base statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from safar.cases.models import Case, CaseEvent
from safar.cases.schemas import CaseFilter
from safar.kit.repository import WorkspaceRepository, delete_rows, export_rows


class CaseRepository(WorkspaceRepository[Case]):
    model = Case

    def locked(self, workspace_id: str, case_id: str) -> Case | None:
        """The case, its row held until the transaction ends (PostgreSQL), so two changes
        of one case number their log entries one after the other."""
        stmt = self.scoped(workspace_id).where(Case.id == case_id).with_for_update()
        return self.session.scalar(stmt)

    def _filtered(
        self, workspace_id: str, flt: CaseFilter, profile_ids: Sequence[str] | None
    ) -> Select[Case]:
        where: list[ColumnElement[bool]] = []
        if flt.status:
            where.append(Case.status.in_(flt.status))
        if flt.priority:
            where.append(Case.priority.in_(flt.priority))
        if flt.assignee is not None:
            where.append(Case.assignee == flt.assignee)
        if profile_ids is not None:
            where.append(Case.profile_id.in_(profile_ids))
        if flt.q:
            escaped = flt.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(func.lower(Case.subject).like(f"%{escaped}%", escape="\\"))
        return self.scoped(workspace_id).where(*where)

    def page(
        self,
        workspace_id: str,
        flt: CaseFilter,
        *,
        profile_ids: Sequence[str] | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Case], int]:
        """One page of the matching cases, newest first, and how many match in all."""
        stmt = self._filtered(workspace_id, flt, profile_ids)
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self.session.scalars(
            stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit).offset(offset)
        )
        return list(rows), int(total)

    def existing_sources(self, workspace_id: str, keys: Sequence[str]) -> set[str]:
        """The source keys among ``keys`` that already opened a case."""
        if not keys:
            return set()
        stmt = select(Case.source_key).where(
            Case.workspace_id == workspace_id, Case.source_key.in_(keys)
        )
        return {k for k in self.session.scalars(stmt) if k is not None}


class CaseEventRepository(WorkspaceRepository[CaseEvent]):
    model = CaseEvent

    def log(self, workspace_id: str, case_id: str) -> list[CaseEvent]:
        return self.list(workspace_id, CaseEvent.case_id == case_id, order_by=[CaseEvent.seq])


# -- privacy requests ---------------------------------------------------------------------------
def _case_ids(session: Session, workspace_id: str, profile_ids: list[str]) -> list[str]:
    stmt = select(Case.id).where(
        Case.workspace_id == workspace_id, Case.profile_id.in_(profile_ids)
    )
    return list(session.scalars(stmt))


def person_rows(session: Session, *, workspace_id: str, profile_ids: list[str]) -> dict[str, Any]:
    """The profiles' cases and every entry of their logs (notes included)."""
    ids = _case_ids(session, workspace_id, profile_ids)
    return {
        "cases": export_rows(session, Case, workspace_id, Case.id.in_(ids)),
        "case_events": export_rows(session, CaseEvent, workspace_id, CaseEvent.case_id.in_(ids)),
    }


def erase_person(session: Session, *, workspace_id: str, profile_ids: list[str]) -> int:
    """Delete the profiles' cases with their logs (the log first: SQLite may not cascade)."""
    ids = _case_ids(session, workspace_id, profile_ids)
    logged = delete_rows(session, CaseEvent, workspace_id, CaseEvent.case_id.in_(ids))
    return logged + delete_rows(session, Case, workspace_id, Case.id.in_(ids))
