"""The workspace-scoped repository base: one workspace never sees another's rows."""

from __future__ import annotations

from safar.kit.db import Database
from safar.orchestration.repository import TriggerRepository
from safar.orchestration.schemas import TriggerCreate
from safar.orchestration.service import create_trigger


def _trigger(db: Database, ws: str, name: str) -> str:
    with db.session() as session:
        data = TriggerCreate(name=name, event="order_delivered", action="survey")
        return create_trigger(session, workspace_id=ws, data=data).id


def test_get_and_list_stay_inside_the_workspace(
    db: Database, two_workspaces: tuple[str, str]
) -> None:
    a, b = two_workspaces
    mine = _trigger(db, a, "after delivery")
    theirs = _trigger(db, b, "theirs")
    with db.session() as session:
        repo = TriggerRepository(session)
        assert repo.get(a, mine) is not None
        assert repo.get(a, theirs) is None  # exists, but in the other workspace
        assert repo.get(a, "trg_missing") is None
        assert [t.id for t in repo.list(a)] == [mine]
        assert [t.name for t in repo.ordered(b)] == ["theirs"]


def test_scoped_statement_carries_the_workspace_filter(db: Database) -> None:
    with db.session() as session:
        sql = str(TriggerRepository(session).scoped("ws_x").compile())
    assert "orchestration_triggers.workspace_id = :workspace_id_1" in sql
