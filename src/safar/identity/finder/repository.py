"""The customer list's reads at a million profiles.

- A trait's current value, profile by profile in id order, a batch at a time: the list filtered
  by a trait stops as soon as its page is full, instead of loading every observation of the
  trait in the workspace (which is what a saved segment's bulk evaluation does).
- Text search through the trigram indexes of migration 0015 (SQLite FTS5, kept in step by
  triggers): the index gives a few candidate rows, which are then held to the same ``LIKE`` as
  the plain scan, so the answer is the scan's. Without the index (PostgreSQL, where ``pg_trgm``
  serves the ``LIKE`` itself, or an SQLite without FTS5) the callers keep the scan.

Keyed reads here leave the workspace out of the statement and check it on the rows: without
statistics SQLite would pick the workspace's index and scan every row of the workspace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Engine, Text, cast, column, func, or_, select, table, text
from sqlalchemy.orm import Session

from safar.identity.models import Identity, Profile, TraitValue

#: The FTS5 tables of migration 0015; their rowids are ``identities.id`` and ``trait_values.id``.
IDENTITY_SEARCH = table("identity_search", column("rowid"))
TRAIT_SEARCH = table("trait_search", column("rowid"))
#: Whether an engine's database has them (looked up once per engine).
_HAS_INDEX: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()


def _latest(key: str) -> Any:
    """The profile's newest observation of ``key`` across its identities, as JSON text ('null'
    for a stored SQL NULL, so "observed as nothing" differs from "never observed")."""
    i, t = Identity, TraitValue
    return (
        select(func.coalesce(cast(t.value, Text), "null"))
        .select_from(t)
        .join(i, i.id == t.identity_id)
        .where(i.profile_id == Profile.id, t.key == key)
        .order_by(t.observed_at.desc(), t.id.desc())
        .limit(1)
        .correlate(Profile)
        .scalar_subquery()
    )


def current_trait_batches(
    session: Session, workspace_id: str, keys: list[str], *, first: int = 500, most: int = 20_000
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Unmerged profiles of the workspace in id order, a batch per statement, each with the
    current value of those of ``keys`` it has. Batches grow from ``first`` to ``most`` rows, so a
    caller that stops early has read little (index ``ix_profiles_listed`` gives the order)."""
    p = Profile
    values = [_latest(k) for k in keys]
    after, size = "", first
    while True:
        stmt = (
            select(p.id, *values)
            .where(p.workspace_id == workspace_id, p.merged_into.is_(None), p.id > after)
            .order_by(p.id)
            .limit(size)
        )
        rows = session.execute(stmt).all()
        yield [
            (
                r[0],
                {k: json.loads(raw) for k, raw in zip(keys, r[1:], strict=True) if raw is not None},
            )
            for r in rows
        ]
        if len(rows) < size:
            return
        after, size = rows[-1][0], min(size * 4, most)


def has_text_index(session: Session) -> bool:
    """Whether this database has migration 0015's trigram tables (SQLite with FTS5 only)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name != "sqlite":
        return False
    if engine not in _HAS_INDEX:
        found = session.execute(
            text(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('identity_search', 'trait_search')"
            )
        ).scalar()
        _HAS_INDEX[engine] = found == 2
    return _HAS_INDEX[engine]


def _phrase(needle: str) -> str:
    """``needle`` as one FTS5 phrase: every character literal, matched as a substring."""
    return '"' + needle.replace('"', '""') + '"'


def _candidates(
    session: Session, index: Any, needle: str, cap: int, key: str = ""
) -> list[int] | None:
    """Rowids whose text contains ``needle`` (case folded), of a trait whose key contains
    ``key`` when it is long enough to be indexed, or None when more than ``cap``."""
    match = _phrase(needle)
    if index is TRAIT_SEARCH:
        match = f"text : {match}" + (f" AND trait_key : {_phrase(key)}" if len(key) >= 3 else "")
    stmt = select(index.c.rowid).where(text(f"{index.name} MATCH :m")).limit(cap + 1)
    ids = list(session.scalars(stmt, {"m": match}))
    return None if len(ids) > cap else ids


def identity_hits(
    session: Session, workspace_id: str, needle: str, like: ColumnElement[bool], cap: int
) -> list[str] | None:
    """Profile ids of the workspace's identities containing ``needle`` that also satisfy
    ``like`` (the scan's condition), newest identity first; None when the index finds more
    than ``cap`` candidates (a common text: the ordered scan finds its first rows sooner)."""
    ids = _candidates(session, IDENTITY_SEARCH, needle, cap)
    if ids is None:
        return None
    i = Identity
    rows = session.execute(
        select(i.profile_id, i.workspace_id, i.first_seen, i.id).where(i.id.in_(ids), like)
    ).all()
    return _newest_first([(r[2], r[3], r[0]) for r in rows if r[1] == workspace_id])


def trait_hits(
    session: Session, workspace_id: str, needle: str, like: ColumnElement[bool], cap: int
) -> list[str] | None:
    """Profile ids owning the workspace's trait observations containing ``needle`` that also
    satisfy ``like``, newest observation first; None past ``cap`` candidates."""
    ids = _candidates(session, TRAIT_SEARCH, needle, cap)
    if ids is None:
        return None
    i, t = Identity, TraitValue
    stmt = select(i.profile_id, t.workspace_id, t.observed_at, t.id).join(i, i.id == t.identity_id)
    rows = session.execute(stmt.where(t.id.in_(ids), like)).all()
    return _newest_first([(r[2], r[3], r[0]) for r in rows if r[1] == workspace_id])


def _newest_first(rows: list[tuple[datetime, int, str]]) -> list[str]:
    """Profile ids by time, newest first, the newer row first on a tie (as the scan's index
    reads them)."""
    return [pid for _, _, pid in sorted(rows, key=lambda r: (r[0], r[1]), reverse=True)]


def trait_text_owners(
    session: Session, workspace_id: str, key: str, needle: str, cap: int
) -> set[str] | None:
    """Profiles with an observation of trait ``key`` (ever, not only the current one) whose
    text contains ``needle`` (case folded), or None past ``cap`` candidate rows."""
    ids = _candidates(session, TRAIT_SEARCH, needle, cap, key)
    if ids is None:
        return None
    i, t = Identity, TraitValue
    stmt = select(i.profile_id, t.workspace_id, t.key).join(i, i.id == t.identity_id)
    rows = session.execute(stmt.where(t.id.in_(ids))).all()
    return {pid for pid, ws, k in rows if ws == workspace_id and k == key}


def unmerged_among(session: Session, workspace_id: str, ids: list[str]) -> set[str]:
    """Those of these profile ids that are the workspace's and not merged into another."""
    p = Profile
    rows = session.execute(select(p.id, p.workspace_id, p.merged_into).where(p.id.in_(ids)))
    return {pid for pid, ws, into in rows if ws == workspace_id and into is None}


def trait_char_owners(session: Session, workspace_id: str, key: str, chars: set[str]) -> set[str]:
    """Profiles with an observation of trait ``key`` whose stored JSON holds any of these
    characters, as itself or as a ``\\uXXXX`` escape (one pass over the key's rows)."""
    if not chars:
        return set()
    i, t = Identity, TraitValue
    forms = sorted({f for c in chars for f in (c, f"\\u{ord(c):04x}", f"\\u{ord(c):04X}")})
    raw = cast(t.value, Text)
    stmt = select(i.profile_id).select_from(t).join(i, i.id == t.identity_id)
    stmt = stmt.where(t.workspace_id == workspace_id, t.key == key)
    return set(session.scalars(stmt.where(or_(*(func.instr(raw, f) > 0 for f in forms)))))
