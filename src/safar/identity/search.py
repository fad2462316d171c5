"""Find profiles by any identifier or trait: exact identifier matches first, then partial ones."""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, cast, func, literal_column, select
from sqlalchemy.orm import Session

from safar.errors import SafarError
from safar.identity.identifiers import PRIORITY
from safar.identity.models import Identity, Profile, TraitValue
from safar.identity.repository import IdentityRepository, ProfileRepository
from safar.identity.service import lookup, resolve_profile_id


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _trait_text(session: Session) -> ColumnElement[str]:
    """The trait value as text, unescaped (so Persian text matches what people type)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return cast(func.json_extract(TraitValue.value, "$"), String)
    if dialect == "postgresql":
        return TraitValue.value.op("#>>")(literal_column("'{}'"))
    return cast(TraitValue.value, String)


def search_profiles(
    session: Session, *, workspace_id: str, query: str, limit: int = 25
) -> tuple[list[str], bool]:
    """Profile ids matching ``query``, best first, and whether the first is an exact match.

    An empty query lists the most recently updated profiles.
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
    by_identity = IdentityRepository(session).list(
        workspace_id,
        func.lower(Identity.value).like(pattern, escape="\\"),
        order_by=[Identity.first_seen.desc()],
        limit=limit * 2,
    )
    for identity in by_identity:
        add(identity.profile_id)
    if len(found) < limit:
        by_trait = (
            select(Identity.profile_id)
            .join(TraitValue, TraitValue.identity_id == Identity.id)
            .where(
                TraitValue.workspace_id == workspace_id,
                func.lower(_trait_text(session)).like(pattern, escape="\\"),
            )
            .order_by(TraitValue.observed_at.desc())
            .limit(limit * 2)
        )
        for pid in session.scalars(by_trait):
            add(pid)
    return found[:limit], exact
