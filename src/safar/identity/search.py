"""Find profiles by any identifier or trait: exact identifier matches first, then partial ones.

A partial match is ``lower(text) LIKE '%query%'`` on identifiers, then on trait values. For a
query of three characters or more, SQLite's trigram index (``finder.repository``) names the
few rows that can match and only they are tested; a query the index finds everywhere, or a
shorter one, scans in order as before (the first rows come soon).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, literal_column, select
from sqlalchemy.orm import Session

from safar.errors import SafarError
from safar.identity.finder import repository as finder
from safar.identity.identifiers import PRIORITY
from safar.identity.models import Identity, Profile, TraitValue
from safar.identity.repository import IdentityRepository, ProfileRepository
from safar.identity.service import lookup, resolve_profile_id


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


#: Past this many candidate rows from the trigram index the ordered scan is used instead.
INDEX_CAP = 2_000
#: The trigram index matches substrings of at least this many characters.
MIN_INDEXED = 3


def _trait_text(session: Session) -> ColumnElement[str]:
    """The trait value as text, unescaped (so Persian text matches what people type)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return cast(func.json_extract(TraitValue.value, "$"), String)
    if dialect == "postgresql":
        return TraitValue.value.op("#>>")(literal_column("'{}'"))
    return cast(TraitValue.value, String)


def search_profiles(
    session: Session, *, workspace_id: str, query: str, limit: int = 25, indexed: bool = True
) -> tuple[list[str], bool]:
    """Profile ids matching ``query``, best first, and whether the first is an exact match.

    An empty query lists the most recently updated profiles. ``indexed=False`` leaves the
    trigram index out (the plain scan, which the indexed answer equals).
    """
    q = query.strip()[:320]
    profiles = ProfileRepository(session)
    found: list[str] = []

    def add(pid: str) -> None:
        try:
            live = resolve_profile_id(session, workspace_id=workspace_id, profile_id=pid)
        except SafarError:
            return
        if live not in found:
            found.append(live)

    if not q:
        recent = profiles.list(
            workspace_id,
            Profile.merged_into.is_(None),
            order_by=[Profile.updated_at.desc(), Profile.id],
            limit=limit,
        )
        return [p.id for p in recent], False

    profile = profiles.get(workspace_id, q)
    if profile is not None:
        add(profile.id)
    for type_ in PRIORITY:
        try:
            add(lookup(session, workspace_id=workspace_id, type_=type_, value=q))
        except SafarError:
            continue
    exact = bool(found)
    pattern = _like(q)
    needle = q.lower() if indexed and len(q.lower()) >= MIN_INDEXED else ""
    if needle and not finder.has_text_index(session):
        needle = ""
    by_name = func.lower(Identity.value).like(pattern, escape="\\")
    by_text = func.lower(_trait_text(session)).like(pattern, escape="\\")
    hits = (
        finder.identity_hits(session, workspace_id, needle, by_name, INDEX_CAP) if needle else None
    )
    if hits is None:
        rows = IdentityRepository(session).list(
            workspace_id, by_name, order_by=[Identity.first_seen.desc()], limit=limit * 2
        )
        hits = [identity.profile_id for identity in rows]
    for pid in hits[: limit * 2]:
        add(pid)
    if len(found) < limit:
        hits = (
            finder.trait_hits(session, workspace_id, needle, by_text, INDEX_CAP) if needle else None
        )
        if hits is None:
            by_trait = (
                select(Identity.profile_id)
                .join(TraitValue, TraitValue.identity_id == Identity.id)
                .where(TraitValue.workspace_id == workspace_id, by_text)
                .order_by(TraitValue.observed_at.desc())
                .limit(limit * 2)
            )
            hits = list(session.scalars(by_trait))
        for pid in hits[: limit * 2]:
            add(pid)
    return found[:limit], exact


def current_traits_in_order(
    session: Session, *, workspace_id: str, keys: list[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(profile id, current value of each of ``keys`` it has) for every unmerged profile of
    the workspace in id order, read a batch at a time as the caller consumes them (the same
    values ``service.workspace_traits`` gives, without reading them all up front)."""
    for batch in finder.current_trait_batches(session, workspace_id, sorted(set(keys))):
        yield from batch


def trait_text_owners(
    session: Session, *, workspace_id: str, key: str, text: str, chars: set[str] | None = None
) -> set[str] | None:
    """Profiles that ever had trait ``key`` with a text containing ``text`` (at least three
    characters, up to case) or any of ``chars``: ``text`` through the trigram index, ``chars``
    in one pass over the key's rows. None without the index or when more than ``INDEX_CAP``
    rows contain ``text``."""
    if len(text) < MIN_INDEXED or not finder.has_text_index(session):
        return None
    found = finder.trait_text_owners(session, workspace_id, key, text, INDEX_CAP)
    if found is None:
        return None
    return found | finder.trait_char_owners(session, workspace_id, key, chars or set())


def unmerged_among(session: Session, *, workspace_id: str, ids: set[str]) -> set[str]:
    """Those of ``ids`` that are unmerged profiles of the workspace."""
    return finder.unmerged_among(session, workspace_id, sorted(ids)) if ids else set()
