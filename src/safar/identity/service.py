"""Read side of the identity graph (profiles, traits, households) and unmerge."""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, or_, select
from sqlalchemy.orm import Session

from safar.db import utcnow
from safar.errors import NotFound, ValidationFailed
from safar.identity import repository
from safar.identity.identifiers import PRIORITY, normalize_email, normalize_handle, normalize_phone
from safar.identity.models import (
    Group,
    GroupMember,
    Identity,
    IdentityLink,
    Merge,
    Profile,
    TraitValue,
)
from safar.identity.people.repository import PersonRecord as PersonRecord
from safar.identity.people.repository import current_consents as current_consents
from safar.identity.people.repository import event_profiles as event_profiles
from safar.identity.people.repository import merged_sets as merged_sets
from safar.identity.people.repository import people as people

# Part of the facade other domains use; the queries live in the repository.
from safar.identity.repository import (
    LinkRepository,
    MergeRepository,
    ProfileRepository,
)
from safar.identity.repository import identities_of as identities_of
from safar.identity.repository import lock_profile as lock_profile
from safar.identity.repository import profile_of as profile_of
from safar.identity.repository import resolve_profile_id as resolve_profile_id
from safar.identity.schemas import (
    ConsentRead,
    GroupMemberRead,
    GroupRead,
    IdentityRead,
    MergeRead,
    ProfileRead,
    TraitObservation,
    UnmergeResult,
)
from safar.identity.timeline import timeline as timeline
from safar.identity.timeline import timeline_ids as timeline_ids

# A hot read path as a statement built once: SQLAlchemy then reuses its compiled form and the
# per-call cost is the database round trip, not statement construction.
_TRAITS = (
    select(TraitValue.key, TraitValue.value)
    .where(TraitValue.identity_id.in_(bindparam("ids", expanding=True)))
    .order_by(TraitValue.observed_at, TraitValue.id)
)


def normalize_lookup(type_: str, value: str) -> str:
    """Normalise a looked-up value the same way ingestion did."""
    if type_ == "email":
        out = normalize_email(value)
    elif type_ == "phone":
        out = normalize_phone(value)
    elif type_ in ("telegram", "instagram", "whatsapp", "twitter"):
        out = normalize_handle(value)
    else:
        out = value
    if not out:
        raise ValidationFailed(f"value: not a valid {type_}", field="value")
    return out


def _checked_lookup(type_: str, value: str) -> str:
    if type_ not in PRIORITY and not type_.isidentifier():
        raise ValidationFailed(f"type: unknown identifier type {type_[:40]!r}", field="type")
    return normalize_lookup(type_, value)


def lookup(session: Session, *, workspace_id: str, type_: str, value: str) -> str:
    norm = _checked_lookup(type_, value)
    profile_id = profile_of(session, workspace_id=workspace_id, type_=type_, value=norm)
    if profile_id is None:
        raise NotFound(f"no profile has {type_} {value[:80]!r}", field="value")
    return profile_id


def current_traits(session: Session, identity_ids: list[int]) -> dict[str, Any]:
    """Latest value of each trait across the identities (newest observation wins)."""
    if not identity_ids:
        return {}
    return {k: v for k, v in session.execute(_TRAITS, {"ids": identity_ids})}


def trait_history(
    session: Session, *, workspace_id: str, profile_id: str
) -> list[TraitObservation]:
    pid = resolve_profile_id(session, workspace_id=workspace_id, profile_id=profile_id)
    ids = [i.id for i in identities_of(session, pid)]
    stmt = (
        select(TraitValue)
        .where(TraitValue.identity_id.in_(ids))
        .order_by(TraitValue.key, TraitValue.observed_at.desc(), TraitValue.id.desc())
    )
    return [
        TraitObservation(key=t.key, value=t.value, source=t.source, observed_at=t.observed_at)
        for t in session.scalars(stmt)
    ]


def current_consent(session: Session, identity_ids: list[int]) -> list[ConsentRead]:
    """The latest decision per (purpose, channel) across these identities."""
    return current_consents(session, {"": identity_ids})[""]


def groups_of(
    session: Session, identity_ids: list[int], *, with_members: bool = True
) -> list[GroupRead]:
    if not identity_ids:
        return []
    stmt = (
        select(Group, GroupMember.role)
        .join(GroupMember, GroupMember.group_pk == Group.id)
        .where(GroupMember.identity_id.in_(identity_ids))
        .order_by(Group.group_id)
    )
    out: dict[int, GroupRead] = {}
    for group, role in session.execute(stmt):
        if group.id not in out:
            out[group.id] = GroupRead(
                group_id=group.group_id,
                type=group.type,
                name=group.name,
                traits=group.traits or {},
                role=role,
            )
        if with_members:
            out[group.id].members = members_of(session, group.id)
    return list(out.values())


def members_of(session: Session, group_pk: int) -> list[GroupMemberRead]:
    stmt = (
        select(Identity.profile_id, GroupMember.role)
        .join(Identity, Identity.id == GroupMember.identity_id)
        .where(GroupMember.group_pk == group_pk)
        .order_by(GroupMember.joined_at)
    )
    seen: dict[str, GroupMemberRead] = {}
    for pid, role in session.execute(stmt):
        if pid not in seen:
            ids = [i.id for i in identities_of(session, pid)]
            traits = current_traits(session, ids)
            name = (
                traits.get("name")
                or " ".join(str(traits[k]) for k in ("first_name", "last_name") if traits.get(k))
                or None
            )
            seen[pid] = GroupMemberRead(profile_id=pid, role=role, name=name)
        elif role and not seen[pid].role:
            seen[pid].role = role
    return list(seen.values())


def merges_of(session: Session, profile_id: str) -> list[MergeRead]:
    stmt = (
        select(Merge)
        .where(or_(Merge.into_profile_id == profile_id, Merge.from_profile_id == profile_id))
        .order_by(Merge.created_at.desc(), Merge.id)
    )
    return [_merge_read(m) for m in session.scalars(stmt)]


def _merge_read(m: Merge) -> MergeRead:
    return MergeRead(
        id=m.id,
        into_profile_id=m.into_profile_id,
        from_profile_id=m.from_profile_id,
        cause=m.cause,
        evidence=list(m.evidence or []),
        message_id=m.message_id,
        created_at=m.created_at,
        undone_at=m.undone_at,
        undone_by=m.undone_by,
    )


def get_profile(session: Session, *, workspace_id: str, profile_id: str) -> ProfileRead:
    return ProfileRead.model_validate(
        _profile_answer(session.connection(), workspace_id=workspace_id, profile_id=profile_id)
    )


def profile_json(conn: Connection, *, workspace_id: str, profile_id: str) -> bytes:
    """The profile (merge redirects followed) as the JSON of ``ProfileRead``."""
    return _dump(_profile_answer(conn, workspace_id=workspace_id, profile_id=profile_id))


def lookup_profile_json(conn: Connection, *, workspace_id: str, type_: str, value: str) -> bytes:
    """The profile owning an identifier, as the JSON of ``ProfileRead``: one statement.

    Takes a plain connection: the hot read needs no ORM unit of work (nothing to flush or
    commit); the rare parts that do (household members, merge redirects) open a session on it.
    """
    norm = _checked_lookup(type_, value)
    rows = repository.profile_by_identifier(
        conn, workspace_id=workspace_id, type_=type_, value=norm
    )
    if rows is None:
        raise NotFound(f"no profile has {type_} {value[:80]!r}", field="value")
    if rows.merged_into is not None:
        # Identities move to the survivor on merge, so this does not happen; if it ever does,
        # answer like GET /api/profiles/{id} would.
        return profile_json(conn, workspace_id=workspace_id, profile_id=rows.id)
    return _dump(_answer(conn, rows, workspace_id=workspace_id, requested_id=None))


def _profile_answer(conn: Connection, *, workspace_id: str, profile_id: str) -> dict[str, Any]:
    rows = repository.profile_by_id(conn, workspace_id=workspace_id, profile_id=profile_id)
    if rows is None:
        raise NotFound(f"profile {profile_id} not found", field="profile_id")
    if rows.merged_into is not None:
        with Session(bind=conn) as session:
            pid = resolve_profile_id(session, workspace_id=workspace_id, profile_id=profile_id)
        rows = repository.profile_by_id(conn, workspace_id=workspace_id, profile_id=pid)
        if rows is None:  # merged into a profile of another workspace: never written so
            raise NotFound(f"profile {profile_id} not found", field="profile_id")
    requested = profile_id if profile_id != rows.id else None
    return _answer(conn, rows, workspace_id=workspace_id, requested_id=requested)


def _answer(
    conn: Connection, rows: repository.ProfileRows, *, workspace_id: str, requested_id: str | None
) -> dict[str, Any]:
    """The ``ProfileRead`` shape as plain values, with the orderings the API documents."""
    traits: dict[str, Any] = {}
    for r in sorted(rows.traits, key=lambda r: (r.t1, r.n)):
        traits[r.s1] = r.j  # newest observation wins
    consent: dict[tuple[str, str], Any] = {}
    for r in sorted(rows.consent, key=lambda r: (r.t1, r.n)):
        consent[(r.s1, r.s2)] = r
    groups: dict[int, dict[str, Any]] = {}
    # A profile can be in a group through several identities: the first role given wins.
    for r in sorted(rows.groups, key=lambda r: (r.s1, r.s4 is None, r.s4 or "", r.n)):
        if r.n not in groups:
            groups[r.n] = {
                "group_id": r.s1,
                "type": r.s2,
                "name": r.s3,
                "traits": r.j or {},
                "role": r.s4,
                "members": [],
            }
    if groups:
        with Session(bind=conn) as session:
            for pk, group in groups.items():
                group["members"] = [m.model_dump() for m in members_of(session, pk)]
    merges = sorted(sorted(rows.merges, key=lambda r: r.s1), key=lambda r: r.t1, reverse=True)
    return {
        "id": rows.id,
        "workspace_id": workspace_id,
        "created_at": rows.created_at,
        "updated_at": rows.updated_at,
        "requested_id": requested_id,
        "traits": traits,
        "identities": [
            {"type": r.s1, "value": r.s2, "first_seen": r.t1, "source": r.s3}
            for r in sorted(rows.identities, key=lambda r: r.n)
        ],
        "consent": [
            {
                "purpose": r.s1,
                "channel": r.s2,
                "granted": r.b,
                "source": r.s3,
                "observed_at": r.t1,
            }
            for _, r in sorted(consent.items())
        ],
        "groups": list(groups.values()),
        "merges": [
            {
                "id": r.s1,
                "into_profile_id": r.s2,
                "from_profile_id": r.s3,
                "cause": r.s4,
                "evidence": list(r.j or []),
                "message_id": r.s5,
                "created_at": r.t1,
                "undone_at": r.t2,
                "undone_by": r.s6,
            }
            for r in merges
        ],
    }


def _dump(answer: dict[str, Any]) -> bytes:
    """JSON of a profile answer, byte for byte what pydantic would write for ``ProfileRead``.

    orjson writes the same bytes (compact, UTF-8, UTC as ``Z``) about ten times faster; a value
    it cannot write (an integer beyond 64 bits in a trait) falls back to pydantic.
    """
    try:
        return orjson.dumps(answer, option=orjson.OPT_UTC_Z)
    except TypeError:
        return ProfileRead.model_validate(answer).model_dump_json().encode()


def _identity_read(i: Identity) -> IdentityRead:
    return IdentityRead(type=i.type, value=i.value, first_seen=i.first_seen, source=i.source)


def household(session: Session, *, workspace_id: str, profile_id: str) -> list[GroupRead]:
    pid = resolve_profile_id(session, workspace_id=workspace_id, profile_id=profile_id)
    ids = [i.id for i in identities_of(session, pid)]
    return [g for g in groups_of(session, ids) if g.type == "household"]


def unmerge(
    session: Session, *, workspace_id: str, profile_id: str, merge_id: str | None, actor: str
) -> UnmergeResult:
    """Undo one merge: split the survivor's identities back into the two sides.

    Identities that existed on each side at merge time seed the two sides; identities that
    arrived later follow the side their (unblocked) links connect them to, the survivor when
    both or neither. Links crossing between the sides are blocked and the two profiles are
    marked separated, so the next message carrying the same identifiers does not re-merge them.
    """
    pid = resolve_profile_id(session, workspace_id=workspace_id, profile_id=profile_id)
    which = [Merge.id == merge_id] if merge_id else []
    newest = [Merge.created_at.desc(), Merge.id.desc()]
    active = Merge.undone_at.is_(None)
    found = MergeRepository(session).list(
        workspace_id, Merge.into_profile_id == pid, active, *which, order_by=newest, limit=1
    )
    merge = found[0] if found else None
    if merge is None:
        if merge_id:
            raise NotFound(f"no active merge {merge_id} into profile {pid}", field="merge_id")
        raise NotFound(f"profile {pid} has no merge to undo", field="merge_id")

    idents = {i.id: i for i in identities_of(session, pid)}
    side: dict[int, str] = {}
    for i in merge.into_identity_ids or []:
        if i in idents:
            side[i] = "into"
    for i in merge.from_identity_ids or []:
        if i in idents:
            side[i] = "from"
    ids = list(idents)
    links = LinkRepository(session).list(
        workspace_id, or_(IdentityLink.a_id.in_(ids), IdentityLink.b_id.in_(ids))
    )
    adjacency: dict[int, list[int]] = defaultdict(list)
    for link in links:
        if link.a_id in idents and link.b_id in idents:
            sa, sb = side.get(link.a_id), side.get(link.b_id)
            if sa and sb and sa != sb:
                link.blocked = True
            if not link.blocked:
                adjacency[link.a_id].append(link.b_id)
                adjacency[link.b_id].append(link.a_id)
    queue = deque(sorted(side, key=lambda i: side[i] != "into"))
    while queue:
        node = queue.popleft()
        for nxt in adjacency[node]:
            if nxt not in side:
                side[nxt] = side[node]
                queue.append(nxt)
    profiles = ProfileRepository(session)
    restored = profiles.get(workspace_id, merge.from_profile_id)
    if restored is None:
        raise NotFound(f"profile {merge.from_profile_id} no longer exists", field="merge_id")
    restored.merged_into = None
    restored.updated_at = utcnow()
    _redirect_back(session, workspace_id=workspace_id, survivor=pid, restored=restored.id)
    moved = []
    for iid, ident in idents.items():
        if side.get(iid) == "from":
            ident.profile_id = restored.id
            moved.append(_identity_read(ident))
    merge.undone_at = utcnow()
    merge.undone_by = actor[:200]
    survivor = profiles.get(workspace_id, pid)
    if survivor is not None:
        survivor.updated_at = utcnow()
    session.flush()
    return UnmergeResult(
        merge_id=merge.id, profile_id=pid, restored_profile_id=restored.id, moved_identities=moved
    )


def _redirect_back(session: Session, *, workspace_id: str, survivor: str, restored: str) -> None:
    """Point profiles merged earlier into the restored one (directly or via others) at it again.

    When the survivor absorbed the restored profile, their redirects were moved to the
    survivor; after the unmerge their identities live on the restored side.
    """
    merges = MergeRepository(session)
    side: set[str] = set()
    frontier = [restored]
    while frontier:
        active = merges.list(
            workspace_id, Merge.into_profile_id.in_(frontier), Merge.undone_at.is_(None)
        )
        froms = [m.from_profile_id for m in active]
        frontier = [p for p in froms if p not in side and p != restored]
        side.update(frontier)
    if not side:
        return
    redirected = ProfileRepository(session).list(
        workspace_id, Profile.merged_into == survivor, Profile.id.in_(sorted(side))
    )
    for profile in redirected:
        profile.merged_into = restored


def profile_count(session: Session, *, workspace_id: str) -> int:
    return ProfileRepository(session).unmerged_count(workspace_id)


def person_profile_ids(session: Session, *, workspace_id: str, profile_id: str) -> list[str]:
    """The person's current profile id and those merged into it (other domains' rows use
    whichever was current when they wrote them)."""
    pid = resolve_profile_id(session, workspace_id=workspace_id, profile_id=profile_id)
    return repository.person_profile_ids(session, workspace_id=workspace_id, profile_id=pid)


def event_profile(
    session: Session, *, workspace_id: str, user_id: Any, anonymous_id: Any
) -> str | None:
    """The profile an event belongs to: its user id's, else (none, or unknown) its anonymous
    id's (the timeline's rule); None when neither is known."""
    for type_, value in (("user_id", user_id), ("anonymous_id", anonymous_id)):
        if value:
            pid = profile_of(session, workspace_id=workspace_id, type_=type_, value=str(value))
            if pid is not None:
                return pid
    return None


# -- audiences (segments) -------------------------------------------------------------------
def unmerged_profile_ids(session: Session, *, workspace_id: str) -> set[str]:
    """Every profile of the workspace that is not merged into another."""
    return ProfileRepository(session).unmerged_ids(workspace_id)


def workspace_traits(
    session: Session, *, workspace_id: str, keys: list[str], profile_ids: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Profile id -> current value of each of these traits (as ``current_traits`` per profile),
    for every profile of the workspace or only ``profile_ids``."""
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    rows = repository.trait_observations(session, workspace_id, sorted(set(keys)), profile_ids)
    for pid, key, value in rows:
        out[pid][key] = value
    return out


def traits_in_use(session: Session, *, workspace_id: str, keys: set[str]) -> set[str]:
    """The ``keys`` some profile of the workspace has (a journey's check for trait typos)."""
    if not keys:
        return set()
    return repository.trait_keys_present(session, workspace_id, sorted(keys))


def workspace_consent(
    session: Session, *, workspace_id: str, purpose: str
) -> dict[str, dict[str, bool]]:
    """Profile id -> channel -> the latest consent decision for ``purpose``."""
    out: dict[str, dict[str, bool]] = defaultdict(dict)
    for pid, channel, granted in repository.consent_observations(session, workspace_id, purpose):
        out[pid][channel] = bool(granted)
    return out


def event_identifiers(session: Session, profile_id: str) -> tuple[list[str], list[str]]:
    """The profile's user ids and anonymous ids (what its events carry)."""
    rows = repository.event_identifiers(session, profile_id)
    return [v for t, v in rows if t == "user_id"], [v for t, v in rows if t == "anonymous_id"]
