"""Profile search by any identifier or trait, on SQLite and PostgreSQL."""

from __future__ import annotations

from safar.identity.search import search_profiles
from safar.runtime import Runtime
from tests.web.seed import seed
from tests.workspaces.factories import Workspace


def test_search(runtime: Runtime, workspace: Workspace) -> None:
    seed(runtime, workspace.id)
    with runtime.db.session() as s:
        by_phone, exact = search_profiles(s, workspace_id=workspace.id, query="0912 123 4567")
        assert exact and len(by_phone) == 1
        by_email, exact = search_profiles(s, workspace_id=workspace.id, query="SARA@example.com")
        assert exact and by_email == by_phone  # merged: one person
        by_name, exact = search_profiles(s, workspace_id=workspace.id, query="سارا")
        assert not exact and by_name == by_phone  # Persian trait text, partial match
        partial, _ = search_profiles(s, workspace_id=workspace.id, query="example.com")
        assert len(partial) == 7
        assert search_profiles(s, workspace_id=workspace.id, query="100%_x") == ([], False)
        recent, _ = search_profiles(s, workspace_id=workspace.id, query="", limit=3)
        assert len(recent) == 3
        assert search_profiles(s, workspace_id="ws_other", query="sara@example.com") == ([], False)
