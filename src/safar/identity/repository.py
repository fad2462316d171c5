"""Every query of the identity graph; first the hot read, one statement for a whole profile.

A profile answer needs its row, identities, their traits and consent, groups and merges: seven
indexed point queries, whose cost on an embedded store is mostly the Python round trip. Here
they are one ``UNION ALL`` of branches sharing a column layout (``kind`` tells them apart), keyed
by the looked-up identifier or the profile id, built once so SQLAlchemy reuses its compiled form.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    CompoundSelect,
    Connection,
    Row,
    Select,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from safar.db import UTCDateTime
from safar.errors import NotFound
from safar.identity.models import (
    ConsentRecord,
    Group,
    GroupMember,
    Identity,
    IdentityLink,
    Merge,
    MergeConflict,
    Profile,
    TraitValue,
)
from safar.identity.people.repository import MAX_REDIRECTS, merged_sets
from safar.kit.repository import WorkspaceRepository, delete_rows, export_rows

#: Columns every branch fills (unused ones NULL): a kind tag, one integer, six strings, two
#: times, one JSON value and one flag.
_LAYOUT: dict[str, Any] = {
    "n": BigInteger(), "s1": String(), "s2": String(), "s3": String(), "s4": String(),
    "s5": String(), "s6": String(), "t1": UTCDateTime(), "t2": UTCDateTime(), "j": JSON(),
    "b": Boolean(),
}  # fmt: skip


def _branch(kind: str, source: Any, where: ColumnElement[bool], **cols: Any) -> Any:
    """One SELECT of the union with the shared layout; missing columns are typed NULLs."""
    unknown = set(cols) - set(_LAYOUT)
    assert not unknown, unknown
    exprs: list[Any] = [literal_column(f"'{kind}'", String()).label("kind")]
    for name, type_ in _LAYOUT.items():
        value = cols.get(name)
        # Typed NULLs: PostgreSQL resolves a union's column types pairwise from the left, so
        # two bare NULLs would become text and then clash with a later json or timestamp.
        expr = cast(null(), type_) if value is None else type_coerce(value, type_)
        exprs.append(expr.label(name))
    return select(*exprs).select_from(source).where(where)


def _profile_union(key: Select[Any]) -> CompoundSelect[Any]:
    """Every row a profile answer needs, for the profile id the one-row ``key`` selects.

    ``key`` is scoped by workspace and every branch hangs off it (profile and identity ids are
    unique across workspaces), so no other workspace's row is read. The branches do not repeat
    the workspace condition: without statistics SQLite would then pick the workspace index
    and scan every trait of the workspace.
    """
    ws = bindparam("ws", type_=String())
    key_cte = key.cte("target")
    target = select(key_cte.c.pid).scalar_subquery()
    own = select(Identity.id).where(Identity.profile_id == target).cte("own")
    own_ids = select(own.c.id)
    profile = _branch(
        "p",
        Profile,
        and_(Profile.id == target, Profile.workspace_id == ws),
        s1=Profile.id,
        s2=Profile.merged_into,
        t1=Profile.created_at,
        t2=Profile.updated_at,
    )
    identities = _branch(
        "i",
        Identity,
        Identity.profile_id == target,
        n=Identity.id,
        s1=Identity.type,
        s2=Identity.value,
        s3=Identity.source,
        t1=Identity.first_seen,
    )
    traits = _branch(
        "t",
        TraitValue,
        TraitValue.identity_id.in_(own_ids),
        n=TraitValue.id,
        s1=TraitValue.key,
        t1=TraitValue.observed_at,
        j=TraitValue.value,
    )
    consent = _branch(
        "c",
        ConsentRecord,
        ConsentRecord.identity_id.in_(own_ids),
        n=ConsentRecord.id,
        s1=ConsentRecord.purpose,
        s2=ConsentRecord.channel,
        s3=ConsentRecord.source,
        t1=ConsentRecord.observed_at,
        b=ConsentRecord.granted,
    )
    groups = _branch(
        "g",
        GroupMember.__table__.join(Group.__table__, Group.id == GroupMember.group_pk),
        GroupMember.identity_id.in_(own_ids),
        n=Group.id,
        s1=Group.group_id,
        s2=Group.type,
        s3=Group.name,
        s4=GroupMember.role,
        j=Group.traits,
    )
    merge_cols = {
        "s1": Merge.id,
        "s2": Merge.into_profile_id,
        "s3": Merge.from_profile_id,
        "s4": Merge.cause,
        "s5": Merge.message_id,
        "s6": Merge.undone_by,
        "t1": Merge.created_at,
        "t2": Merge.undone_at,
        "j": Merge.evidence,
    }
    # Two branches rather than one OR, so each uses its own index (a merge never has the same
    # profile on both sides).
    merged_in = _branch("m", Merge, Merge.into_profile_id == target, **merge_cols)
    merged_away = _branch("m", Merge, Merge.from_profile_id == target, **merge_cols)
    return union_all(profile, identities, traits, consent, groups, merged_in, merged_away)


#: The profile owning identifier (:t, :v) in workspace :ws; also the key of a profile lookup.
_PROFILE_OF = select(Identity.profile_id.label("pid")).where(
    Identity.workspace_id == bindparam("ws"),
    Identity.type == bindparam("t"),
    Identity.value == bindparam("v"),
)
_BY_IDENTIFIER = _profile_union(_PROFILE_OF)
_BY_ID = _profile_union(
    select(Profile.id.label("pid")).where(
        Profile.id == bindparam("pid"), Profile.workspace_id == bindparam("ws")
    )
)


@dataclass(slots=True)
class ProfileRows:
    """A profile's rows as read, before they become an answer (plain Python values)."""

    id: str
    merged_into: str | None
    created_at: datetime
    updated_at: datetime
    identities: list[Row[Any]]
    traits: list[Row[Any]]
    consent: list[Row[Any]]
    groups: list[Row[Any]]
    merges: list[Row[Any]]


def _collect(rows: Sequence[Row[Any]]) -> ProfileRows | None:
    by_kind: dict[str, list[Row[Any]]] = {"p": [], "i": [], "t": [], "c": [], "g": [], "m": []}
    for row in rows:
        by_kind[row.kind].append(row)
    if not by_kind["p"]:
        return None
    p, k = by_kind["p"][0], by_kind  # fields in ProfileRows' order
    return ProfileRows(p.s1, p.s2, p.t1, p.t2, k["i"], k["t"], k["c"], k["g"], k["m"])


def profile_by_identifier(
    conn: Connection, *, workspace_id: str, type_: str, value: str
) -> ProfileRows | None:
    """The profile owning identifier (type_, value) in the workspace, or None."""
    rows = conn.execute(_BY_IDENTIFIER, {"ws": workspace_id, "t": type_, "v": value}).all()
    return _collect(rows)


def profile_by_id(conn: Connection, *, workspace_id: str, profile_id: str) -> ProfileRows | None:
    """Profile ``profile_id`` of the workspace as stored (merge redirects not followed)."""
    rows = conn.execute(_BY_ID, {"ws": workspace_id, "pid": profile_id}).all()
    return _collect(rows)


# -- scoped tables: queries that start from the kit's workspace-filtered base ----------------
class ProfileRepository(WorkspaceRepository[Profile]):
    model = Profile

    def unmerged_count(self, workspace_id: str) -> int:
        stmt = self.scoped(workspace_id).where(Profile.merged_into.is_(None))
        return int(self.session.scalar(stmt.with_only_columns(func.count())) or 0)

    def unmerged_ids(self, workspace_id: str) -> set[str]:
        stmt = self.scoped(workspace_id).where(Profile.merged_into.is_(None))
        return set(self.session.scalars(stmt.with_only_columns(Profile.id)))


# -- audiences (segments): what a whole workspace's profiles hold, oldest observation first ---
def trait_observations(
    session: Session, ws: str, keys: list[str], profile_ids: list[str] | None
) -> list[Row[str, str, Any]]:
    """(profile id, key, value) of every observation of these traits (of these profiles)."""
    i, t = Identity, TraitValue
    stmt = select(i.profile_id, t.key, t.value).join(i, i.id == t.identity_id)
    if profile_ids is None:
        stmt = stmt.where(t.workspace_id == ws)
    else:  # by identity: with the workspace in the statement SQLite read every trait of it
        of = select(i.id, i.workspace_id).where(i.profile_id.in_(profile_ids))
        stmt = stmt.where(t.identity_id.in_([n for n, w in session.execute(of) if w == ws]))
    return list(session.execute(stmt.where(t.key.in_(keys)).order_by(t.observed_at, t.id)))


def trait_keys_present(session: Session, workspace_id: str, keys: list[str]) -> set[str]:
    """Which of ``keys`` an identity of the workspace has (one index range each)."""
    t = TraitValue
    stmt = select(t.key).where(t.workspace_id == workspace_id, t.key.in_(keys)).group_by(t.key)
    return set(session.scalars(stmt))


def consent_observations(
    session: Session, workspace_id: str, purpose: str
) -> list[Row[str, str, bool]]:
    """(profile id, channel, granted) of every consent decision for ``purpose``."""
    c, i = ConsentRecord, Identity
    stmt = select(i.profile_id, c.channel, c.granted).join(i, i.id == c.identity_id)
    stmt = stmt.where(c.workspace_id == workspace_id, c.purpose == purpose)
    return list(session.execute(stmt.order_by(c.observed_at, c.id)))


class IdentityRepository(WorkspaceRepository[Identity]):
    model = Identity


class MergeRepository(WorkspaceRepository[Merge]):
    model = Merge


class LinkRepository(WorkspaceRepository[IdentityLink]):
    model = IdentityLink


# -- point queries other domains reach through identity.service -----------------------------


def profile_of(session: Session, *, workspace_id: str, type_: str, value: str) -> str | None:
    """The profile owning this exact identifier (stored form, no normalisation), if any."""
    return session.scalar(_PROFILE_OF, {"ws": workspace_id, "t": type_, "v": value})


_IDENTITIES = select(Identity).where(Identity.profile_id == bindparam("pid")).order_by(Identity.id)


def identities_of(session: Session, profile_id: str) -> list[Identity]:
    return list(session.scalars(_IDENTITIES, {"pid": profile_id}))


def lock_profile(session: Session, *profile_ids: str) -> None:
    """Hold the profiles' rows until the transaction ends: decisions about one person queue.

    PostgreSQL takes row locks (``SELECT ... FOR UPDATE``) in id order, so two batches wait
    instead of deadlocking; SQLite already has one writer, so nothing is read there."""
    if profile_ids and session.get_bind().dialect.name == "postgresql":
        ids = sorted(set(profile_ids))
        stmt = select(Profile.id).where(Profile.id.in_(ids)).order_by(Profile.id)
        session.execute(stmt.with_for_update())


# -- privacy requests: every row about one person --------------------------------------------
def person_profile_ids(session: Session, *, workspace_id: str, profile_id: str) -> list[str]:
    """The profile and every profile merged into it (directly or through others)."""
    return merged_sets(session, workspace_id=workspace_id, profile_ids=[profile_id])[profile_id]


def person_rows(session: Session, *, workspace_id: str, profile_ids: list[str]) -> dict[str, Any]:
    """The identity graph's rows about these profiles, as plain dicts (for an export)."""
    identities = list(
        session.scalars(
            select(Identity).where(
                Identity.workspace_id == workspace_id, Identity.profile_id.in_(profile_ids)
            )
        )
    )
    ids = [i.id for i in identities]

    def rows(model: Any, *where: ColumnElement[bool]) -> list[dict[str, Any]]:
        return export_rows(session, model, workspace_id, *where)

    return {
        "profiles": rows(Profile, Profile.id.in_(profile_ids)),
        "identities": rows(Identity, Identity.id.in_(ids)),
        "traits": rows(TraitValue, TraitValue.identity_id.in_(ids)),
        "consent": rows(ConsentRecord, ConsentRecord.identity_id.in_(ids)),
        "group_memberships": rows(GroupMember, GroupMember.identity_id.in_(ids)),
        "merges": rows(
            Merge,
            or_(Merge.into_profile_id.in_(profile_ids), Merge.from_profile_id.in_(profile_ids)),
        ),
    }


def erase_person(session: Session, *, workspace_id: str, profile_ids: list[str]) -> int:
    """Delete the identity graph's rows about these profiles; return how many went."""
    ids = list(
        session.scalars(
            select(Identity.id).where(
                Identity.workspace_id == workspace_id, Identity.profile_id.in_(profile_ids)
            )
        )
    )
    # Children before parents: identities hold the profile's foreign key.
    targets: list[tuple[Any, ColumnElement[bool]]] = [
        (TraitValue, TraitValue.identity_id.in_(ids)),
        (ConsentRecord, ConsentRecord.identity_id.in_(ids)),
        (GroupMember, GroupMember.identity_id.in_(ids)),
        (IdentityLink, or_(IdentityLink.a_id.in_(ids), IdentityLink.b_id.in_(ids))),
        (
            Merge,
            or_(Merge.into_profile_id.in_(profile_ids), Merge.from_profile_id.in_(profile_ids)),
        ),
        (
            MergeConflict,
            or_(MergeConflict.profile_a.in_(profile_ids), MergeConflict.profile_b.in_(profile_ids)),
        ),
        (Identity, Identity.id.in_(ids)),
        (Profile, Profile.id.in_(profile_ids)),
    ]
    return sum(delete_rows(session, model, workspace_id, cond) for model, cond in targets)


# -- the graph as analytics copy it (journeys' identity_map) ---------------------------
#: The identifiers events carry that a profile owns (see docs/architecture.md).
EVENT_ID_TYPES = ("user_id", "anonymous_id")


def graph_version(session: Session, workspace_id: str) -> str:
    """A cheap fingerprint of the workspace's graph (changes on every identity added or
    removed, merge and unmerge)."""
    ident = session.execute(
        select(func.count(), func.max(Identity.id)).where(
            Identity.workspace_id == workspace_id, Identity.type.in_(EVENT_ID_TYPES)
        )
    ).one()
    merges = session.execute(
        select(
            func.count(), func.count(Merge.undone_at), func.max(Merge.created_at),
            func.max(Merge.undone_at),
        ).where(Merge.workspace_id == workspace_id)
    ).one()  # fmt: skip
    return json.dumps([*ident, *merges], default=str)


def identifier_rows(session: Session, workspace_id: str) -> list[tuple[str, str, str]]:
    """(type, value, profile id) of every event identifier in the workspace."""
    rows = session.execute(
        select(Identity.type, Identity.value, Identity.profile_id).where(
            Identity.workspace_id == workspace_id, Identity.type.in_(EVENT_ID_TYPES)
        )
    ).all()
    return [(t, v, p) for t, v, p in rows]


# -- merge redirects -----------------------------------------------------------------------


def resolve_profile_id(session: Session, *, workspace_id: str, profile_id: str) -> str:
    """Follow merge redirects to the profile that holds the identities now."""
    current = profile_id
    for _ in range(MAX_REDIRECTS):
        profile = session.get(Profile, current)
        if profile is None or profile.workspace_id != workspace_id:
            raise NotFound(f"profile {profile_id} not found", field="profile_id")
        if profile.merged_into is None:
            return current
        current = profile.merged_into
    raise NotFound(f"profile {profile_id} not found", field="profile_id")


# -- the resolver's reads and writes (ingest) -------------------------------------------------
# Reads are built once so SQLAlchemy reuses their compiled form. Identity, profile and group
# ids are unique across workspaces, so a query keyed by one does not repeat the workspace: on
# SQLite without statistics the extra condition would make the planner pick the workspace's
# ``uq_identity`` index and scan every identity of the workspace.
_LIMITED = select(Identity.type, Identity.value).where(
    Identity.profile_id == bindparam("pid"), Identity.type.in_(bindparam("types", expanding=True))
)
_SEPARATED = select(Merge.into_profile_id, Merge.from_profile_id).where(
    Merge.workspace_id == bindparam("ws"), Merge.undone_at.is_not(None)
)
_EVENT_IDENTITY = select(Identity.id, Identity.type, Identity.value, Identity.profile_id).where(
    Identity.workspace_id == bindparam("ws"),
    Identity.value == bindparam("v"),
    Identity.type.in_(EVENT_ID_TYPES),
)
_LINK = select(IdentityLink.id).where(
    IdentityLink.workspace_id == bindparam("ws"),
    IdentityLink.a_id == bindparam("a"),
    IdentityLink.b_id == bindparam("b"),
)
_IDENTITY_IDS = select(Identity.id).where(Identity.profile_id == bindparam("pid"))
_EVENT_IDS = select(Identity.type, Identity.value).where(
    Identity.profile_id == bindparam("pid"), Identity.type.in_(EVENT_ID_TYPES)
)
_TRAITS_OF = (
    select(TraitValue.key, TraitValue.value)
    .where(TraitValue.identity_id == bindparam("iid"))
    .order_by(TraitValue.observed_at, TraitValue.id)
)


def limited_values(session: Session, profile_id: str, types: list[str]) -> list[Row[str, str]]:
    """(type, value) of the profile's identifiers of these (limited) types."""
    return list(session.execute(_LIMITED, {"pid": profile_id, "types": types}))


def separated_pairs(session: Session, workspace_id: str) -> set[frozenset[str]]:
    """Pairs of profiles an unmerge separated: they are never merged again."""
    return {frozenset(p) for p in session.execute(_SEPARATED, {"ws": workspace_id})}


def event_identity(
    session: Session, workspace_id: str, value: str
) -> Row[int, str, str, str] | None:
    """(id, type, value, profile id) of a userId or anonymousId with this value."""
    return session.execute(_EVENT_IDENTITY, {"ws": workspace_id, "v": value}).first()


def link_exists(session: Session, workspace_id: str, a_id: int, b_id: int) -> bool:
    return session.scalar(_LINK, {"ws": workspace_id, "a": a_id, "b": b_id}) is not None


def identity_ids(session: Session, profile_id: str) -> set[int]:
    return set(session.scalars(_IDENTITY_IDS, {"pid": profile_id}))


def event_identifiers(session: Session, profile_id: str) -> list[Row[str, str]]:
    """(type, value) of the profile's userIds and anonymousIds."""
    return list(session.execute(_EVENT_IDS, {"pid": profile_id}))


def latest_traits(session: Session, identity_id: int) -> dict[str, Any]:
    """The identity's traits, the newest observation of each winning."""
    return {k: v for k, v in session.execute(_TRAITS_OF, {"iid": identity_id})}


# Writes are built per call as the ORM updates they were: the session keeps its loaded rows
# in step with them (``synchronize_session``), which needs the values in the statement.
def merge_profiles(session: Session, *, workspace_id: str, into: str, frm: str) -> None:
    """Move ``frm``'s identities to ``into``; ``frm`` and what redirected to it now redirect
    to ``into``."""
    p = Profile
    session.execute(update(Identity).where(Identity.profile_id == frm).values(profile_id=into))
    mine = (p.workspace_id == workspace_id) & ((p.id == frm) | (p.merged_into == frm))
    session.execute(update(p).where(mine).values(merged_into=into))


def touch_profiles(session: Session, profile_ids: list[str], when: datetime) -> None:
    session.execute(update(Profile).where(Profile.id.in_(profile_ids)).values(updated_at=when))


def group_by_key(session: Session, workspace_id: str, group_id: str) -> Group | None:
    stmt = select(Group).where(Group.workspace_id == workspace_id, Group.group_id == group_id)
    return session.scalar(stmt)


def group_member(session: Session, group_pk: int, identity_id: int) -> GroupMember | None:
    m = GroupMember
    return session.scalar(select(m).where(m.group_pk == group_pk, m.identity_id == identity_id))
