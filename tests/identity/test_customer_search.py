"""Search through the trigram index (SQLite FTS5, migration 0015) answers what the plain scan
answers, and the index follows every write: new identities and traits, changed traits,
merges (the hit is the surviving profile) and erasure."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from safar.identity import privacy
from safar.identity.finder import repository as finder
from safar.identity.search import search_profiles
from safar.runtime import Runtime
from tests.web.seed import NOW, rows_for, seed
from tests.workspaces.factories import Workspace

QUERIES = [
    "example", "EXAMPLE.COM", "c1@", "Customer", "سارا", "احمدی", "0912", "1234", "567",
    "تهران", "tehran", "shop-7", "ab", "x", "100%_x", "a_b", "nothing-here", 'say "hi"',
]  # fmt: skip


def _people(runtime: Runtime, ws: str) -> None:
    """Persian names, phones with digits, a city changed later, and a visitor who merges."""
    msgs = []
    for i in range(30):
        msgs.append(
            {"type": "identify", "userId": f"shop-{i}", "messageId": f"p-{i}",
             "timestamp": (NOW - timedelta(hours=i)).isoformat(),
             "traits": {"name": f"مشتری {i} احمدی", "phone": f"0912{i:07d}",
                        "city": "تهران" if i % 2 else "Tehran", "note": 'say "hi" a_b'}}
        )  # fmt: skip
    msgs += [
        {"type": "identify", "anonymousId": "anon-zed", "messageId": "z-1",
         "timestamp": (NOW - timedelta(days=9)).isoformat(), "traits": {"name": "Zed Visitor"}},
        {"type": "identify", "userId": "shop-3", "anonymousId": "anon-zed", "messageId": "z-2",
         "timestamp": (NOW - timedelta(days=8)).isoformat(), "traits": {"city": "Rasht-99"}},
    ]  # fmt: skip
    runtime.applier.apply(rows_for(ws, msgs))


def _same(s: Session, ws: str, query: str) -> list[str]:
    for limit in (3, 25, 5_000):
        indexed = search_profiles(s, workspace_id=ws, query=query, limit=limit)
        assert indexed == search_profiles(
            s, workspace_id=ws, query=query, limit=limit, indexed=False
        ), (query, limit)
    return indexed[0]


def _index_matches_rows(s: Session) -> None:
    """Every identity and trait row has its index row, and no removed row left one behind."""
    for index, rows in (("identity_search", "identities"), ("trait_search", "trait_values")):
        indexed = {r for (r,) in s.execute(text(f"SELECT rowid FROM {index}"))}
        assert indexed == {r for (r,) in s.execute(text(f"SELECT id FROM {rows}"))}, index


def test_indexed_search_equals_the_scan_and_follows_writes(
    runtime: Runtime, workspace: Workspace
) -> None:
    seed(runtime, workspace.id)
    _people(runtime, workspace.id)
    ws = workspace.id
    with runtime.db.session() as s:
        assert finder.has_text_index(s) is (runtime.db.engine.dialect.name == "sqlite")
        for q in QUERIES:
            _same(s, ws, q)
        assert len(_same(s, ws, "احمدی")) == 31  # Persian text inside a name (and Sara)
        zed = _same(s, ws, "zed visitor")  # the merged-away visitor's trait: the survivor
        assert zed == _same(s, ws, "shop-3") and len(zed) == 1
        assert _same(s, ws, "rasht-99") == zed
        if finder.has_text_index(s):
            like = text("1 = 1")
            assert finder.identity_hits(s, ws, "shop-1", like, 100)  # the index answers
            assert finder.identity_hits(s, ws, "shop", like, 5) is None  # too common: scan
            _index_matches_rows(s)
    # A trait changes: the new value is found, the old one still only by its history.
    runtime.applier.apply(rows_for(ws, [
        {"type": "identify", "userId": "shop-5", "messageId": "moved",
         "timestamp": NOW.isoformat(), "traits": {"city": "Kerman-77"}},
    ]))  # fmt: skip
    with runtime.db.session() as s:
        moved = _same(s, ws, "kerman-77")
        assert moved == _same(s, ws, "shop-5")
        privacy.handler.erase(s, runtime, workspace_id=ws, profile_id=moved[0])
    with runtime.db.session() as s:
        assert _same(s, ws, "kerman-77") == [] and _same(s, ws, "0912000000") != []
        if finder.has_text_index(s):
            _index_matches_rows(s)
