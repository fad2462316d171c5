"""Many people at once: the identity reads of a batch (the journey worker's, the ingest hook's,
the scheduler's) in a handful of set-based queries, each giving what its one-profile twin in
``identity.repository`` or ``identity.service`` gives. The identity graph's own repository
imports ``merged_sets`` from here, never the other way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safar.identity.models import ConsentRecord, Identity, Profile, TraitValue
from safar.identity.schemas import ConsentRead

#: A merged-away id answers through at most this many redirects (a guard against a loop).
MAX_REDIRECTS = 50


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One person as other domains act on them: the current profile, its identifiers (type,
    value, oldest first), current traits, and every profile id merged into it."""

    profile_id: str
    identifiers: list[tuple[str, str]]
    traits: dict[str, Any]
    profile_ids: list[str]
    identity_ids: list[int]


def people(
    session: Session, *, workspace_id: str, profile_ids: Sequence[str]
) -> dict[str, PersonRecord]:
    """``resolve_profile_id``, ``identities_of``, ``current_traits`` and ``person_profile_ids``
    for many profiles in a handful of set-based queries; keyed by the profile id asked for
    (an id of another workspace, or unknown, is missing from the result)."""
    asked = list(dict.fromkeys(profile_ids))
    into: dict[str, str | None] = {}
    frontier = asked
    for _ in range(MAX_REDIRECTS):
        if not frontier:
            break
        rows = session.execute(
            select(Profile.id, Profile.merged_into).where(
                Profile.workspace_id == workspace_id, Profile.id.in_(frontier)
            )
        ).tuples()
        for pid, target in rows:
            into[pid] = target
        frontier = [m for m in {m for m in into.values() if m} if m not in into]
    current: dict[str, str] = {}
    for pid in asked:
        at: str | None = pid
        for _ in range(MAX_REDIRECTS):
            if at is None or at not in into or into[at] is None:
                break
            at = into[at]
        if at is not None and at in into and into[at] is None:
            current[pid] = at
    survivors = sorted(set(current.values()))
    if not survivors:
        return {}
    idents: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for iid, pid, type_, value in session.execute(
        select(Identity.id, Identity.profile_id, Identity.type, Identity.value)
        .where(Identity.profile_id.in_(survivors))
        .order_by(Identity.id)
    ).tuples():
        idents[pid].append((iid, type_, value))
    owner = {iid: pid for pid, rows in idents.items() for iid, _, _ in rows}
    traits: dict[str, dict[str, Any]] = defaultdict(dict)
    if owner:
        for iid, key, value in session.execute(
            select(TraitValue.identity_id, TraitValue.key, TraitValue.value)
            .where(TraitValue.identity_id.in_(list(owner)))
            .order_by(TraitValue.observed_at, TraitValue.id)
        ).tuples():
            traits[owner[iid]][key] = value
    merged = merged_sets(session, workspace_id=workspace_id, profile_ids=survivors)
    records = {
        pid: PersonRecord(
            profile_id=pid,
            identifiers=[(t, v) for _, t, v in idents.get(pid, [])],
            traits=traits.get(pid, {}),
            profile_ids=merged[pid],
            identity_ids=[i for i, _, _ in idents.get(pid, [])],
        )
        for pid in survivors
    }
    return {asked_id: records[pid] for asked_id, pid in current.items()}


def merged_sets(
    session: Session, *, workspace_id: str, profile_ids: Sequence[str]
) -> dict[str, list[str]]:
    """``person_profile_ids`` of many current profiles: each with those merged into it."""
    merged: dict[str, list[str]] = {pid: [pid] for pid in profile_ids}
    parent: dict[str, str] = {}
    frontier = list(merged)
    while frontier:
        rows = session.execute(
            select(Profile.id, Profile.merged_into).where(
                Profile.workspace_id == workspace_id, Profile.merged_into.in_(frontier)
            )
        ).tuples()
        frontier = []
        for pid, merged_into in rows:
            if merged_into is None or pid in parent or pid in merged:
                continue
            parent[pid] = merged_into
            frontier.append(pid)
    for pid in parent:
        root = pid
        while root in parent:
            root = parent[root]
        merged.setdefault(root, [root]).append(pid)
    return merged


def profiles_of(
    session: Session, *, workspace_id: str, type_: str, values: Sequence[str]
) -> dict[str, str]:
    """``profile_of`` for many values of one identifier type: profile id by value."""
    out: dict[str, str] = {}
    unique = list(dict.fromkeys(values))
    for i in range(0, len(unique), 500):
        stmt = select(Identity.value, Identity.profile_id).where(
            Identity.workspace_id == workspace_id,
            Identity.type == type_,
            Identity.value.in_(unique[i : i + 500]),
        )
        out.update({v: p for v, p in session.execute(stmt).tuples()})
    return out


def current_consents(
    session: Session, identity_ids: dict[str, list[int]]
) -> dict[str, list[ConsentRead]]:
    """``current_consent`` of many profiles at once: by profile, from its identities' ids."""
    owner = {i: pid for pid, ids in identity_ids.items() for i in ids}
    latest: dict[str, dict[tuple[str, str], ConsentRecord]] = {pid: {} for pid in identity_ids}
    if owner:
        stmt = (
            select(ConsentRecord)
            .where(ConsentRecord.identity_id.in_(list(owner)))
            .order_by(ConsentRecord.observed_at, ConsentRecord.id)
        )
        for rec in session.scalars(stmt):
            latest[owner[rec.identity_id]][(rec.purpose, rec.channel)] = rec
    return {
        pid: [
            ConsentRead(
                purpose=r.purpose,
                channel=r.channel,
                granted=r.granted,
                source=r.source,
                observed_at=r.observed_at,
            )
            for _, r in sorted(found.items())
        ]
        for pid, found in latest.items()
    }


def event_profiles(
    session: Session, *, workspace_id: str, ids: Sequence[tuple[Any, Any]]
) -> list[str | None]:
    """``event_profile`` for many (user id, anonymous id) pairs of one workspace, in order:
    two queries for a whole batch of events."""
    users = profiles_of(
        session, workspace_id=workspace_id, type_="user_id", values=[str(u) for u, _ in ids if u]
    )
    anons = profiles_of(
        session,
        workspace_id=workspace_id,
        type_="anonymous_id",
        values=[str(a) for u, a in ids if a and str(u or "") not in users],
    )
    return [
        (users.get(str(u)) if u else None) or (anons.get(str(a)) if a else None) for u, a in ids
    ]
