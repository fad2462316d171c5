"""The base of every repository over a workspace-owned table: scoping lives in one statement.

``WorkspaceRepository.scoped(ws)`` is the only way such a table is selected, so a query cannot
forget its ``workspace_id`` filter; ``tests/arch/test_scoping.py`` checks that no module outside
a repository selects a workspace-owned model directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from safar.kit.db import Base

M = TypeVar("M", bound=Base)


class WorkspaceRepository(Generic[M]):
    """Reads and writes of one workspace-owned model; subclasses set ``model``."""

    model: ClassVar[type[Any]]

    def __init__(self, session: Session) -> None:
        self.session = session

    def _column(self, name: str) -> Any:
        return getattr(self.model, name)

    def scoped(self, workspace_id: str) -> Select[M]:
        """``SELECT model WHERE workspace_id = :ws``: start every query of the table here."""
        return select(self.model).where(self._column("workspace_id") == workspace_id)

    def get(self, workspace_id: str, id: Any) -> M | None:
        """The row with this primary key, only if it belongs to the workspace."""
        row: M | None = self.session.get(self.model, id)
        if row is None or getattr(row, "workspace_id", None) != workspace_id:
            return None
        return row

    def list(
        self,
        workspace_id: str,
        *where: ColumnElement[bool],
        order_by: Sequence[Any] = (),
        limit: int | None = None,
    ) -> list[M]:
        stmt = self.scoped(workspace_id).where(*where).order_by(*order_by)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

    def add(self, row: M) -> M:
        """Insert and flush, so the caller sees database defaults and ids."""
        self.session.add(row)
        self.session.flush()
        return row
