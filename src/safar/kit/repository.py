"""The base of every repository over a workspace-owned table: scoping lives in one statement.

``WorkspaceRepository.scoped(ws)`` is the only way such a table is selected, so a query cannot
forget its ``workspace_id`` filter; ``tests/arch/test_scoping.py`` checks that no module outside
a repository selects a workspace-owned model directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


# -- what a domain holds about one person (privacy export and erasure) -----------------------
def export_rows(
    session: Session, model: type[Any], workspace_id: str, *where: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """The workspace's rows of ``model`` matching ``where``, as plain dicts without the
    workspace id (the shape of a privacy export)."""
    cols = [c.key for c in model.__table__.columns if c.key != "workspace_id"]
    stmt = select(model).where(model.workspace_id == workspace_id, *where)
    return [{c: getattr(r, c) for c in cols} for r in session.scalars(stmt)]


def delete_rows(
    session: Session, model: type[Any], workspace_id: str, *where: ColumnElement[bool]
) -> int:
    """Delete the workspace's rows of ``model`` matching ``where``; return how many went."""
    result: Any = session.execute(delete(model).where(model.workspace_id == workspace_id, *where))
    return int(result.rowcount or 0)


def insert_ignoring(
    session: Session, model: type[Base], constraint: str, rows: list[dict[str, Any]]
) -> None:
    """Insert ``rows``, leaving out those that would break the unique ``constraint`` (a replay,
    or another process first). Through the table, not the entity: an ORM bulk insert with
    ON CONFLICT runs row by row."""
    if not rows:
        return
    table: Any = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        stmt: Any = pg_insert(table).on_conflict_do_nothing(constraint=constraint)
    else:
        stmt = sqlite_insert(table).on_conflict_do_nothing()
    session.execute(stmt, rows)
