"""Saved segments: definitions (checked for unknown and circular references), members in bulk
or for one profile, and refreshes that record who entered and left.

A refresh compares the live members with the stored membership. The first one sets the
baseline and emits nothing; each later one emits a ``segment_entered`` / ``segment_exited``
track event per change, with a messageId made of the segment, the profile, the change and the
refresh number, stored through the ingestion path by a durable task (``EMIT_TASK``), so a
replayed task stores nothing twice. These events are what journey triggers on entering or
leaving a segment listen to, and they show on the customer timeline.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from safar.db import utcnow
from safar.errors import Conflict, NotFound, ValidationFailed
from safar.events.messages import normalize, parse_message
from safar.events.rows import EventRow
from safar.events.store import EventStore
from safar.identity import service as identity
from safar.kit.conditions import AudienceCondition, TraitCondition
from safar.kit.jobs import Jobs
from safar.segments import evaluation
from safar.segments.evaluation import Evaluator
from safar.segments.models import Segment
from safar.segments.repository import ListedRepository, MemberRepository, SegmentRepository
from safar.segments.schemas import (
    Match,
    Preview,
    SegmentCreate,
    SegmentDefinition,
    SegmentDiff,
    SegmentUpdate,
)

EMIT_TASK = "segments.emit_events"
REFRESH_TASK = "segments.refresh"
ENTERED, EXITED = "segment_entered", "segment_exited"


def definition_of(segment: Segment, profiles: list[str] | None = None) -> SegmentDefinition:
    """The stored definition; ``profiles`` is a listed segment's fixed list (``listed_of``)."""
    return SegmentDefinition.model_validate(
        {"match": segment.match, "conditions": segment.conditions, "profiles": profiles}
    )


def listed_of(session: Session, segment: Segment) -> list[str] | None:
    """A listed segment's fixed list of profiles (None for a segment of conditions only)."""
    if not segment.listed:
        return None
    return ListedRepository(session).ids(segment.workspace_id, segment.id)


def _definitions(session: Session, workspace_id: str) -> Any:
    repo = SegmentRepository(session)

    def lookup(segment_id: str) -> SegmentDefinition | None:
        segment = repo.get(workspace_id, segment_id)
        if segment is None:
            return None
        return definition_of(segment, listed_of(session, segment))

    return lookup


# -- definitions ------------------------------------------------------------------------------
def check_references(
    session: Session, *, workspace_id: str, definition: SegmentDefinition, own_id: str | None
) -> None:
    """Refuse a segment condition naming this segment, an unknown segment, or one that leads
    back to this segment through others (the 4xx names the condition's field)."""
    lookup = _definitions(session, workspace_id)
    for field, ref in definition.segment_refs():
        if ref == own_id:
            raise ValidationFailed(f"{field}: a segment cannot contain itself", field=field)
        if lookup(ref) is None:
            raise ValidationFailed(f"{field}: unknown segment {ref[:40]!r}", field=field)
        if own_id is None:
            continue  # a new segment: nothing refers to it yet
        seen, frontier = {ref}, [ref]
        while frontier:
            current = lookup(frontier.pop())
            for _, nxt in current.segment_refs() if current else ():
                if nxt == own_id:
                    raise ValidationFailed(
                        f"{field}: segment {ref} refers back to this segment (a cycle)",
                        field=field,
                    )
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)


def check_profiles(session: Session, *, workspace_id: str, profiles: list[str]) -> list[str]:
    """The distinct profiles of a fixed list, each a profile of the workspace (the 4xx names
    the first unknown one's position)."""
    known = identity.unmerged_profile_ids(session, workspace_id=workspace_id)
    for i, pid in enumerate(profiles):
        if pid not in known:
            try:
                identity.resolve_profile_id(session, workspace_id=workspace_id, profile_id=pid)
            except NotFound:
                raise ValidationFailed(f"profiles.{i}: unknown profile {pid[:40]!r}",
                                       field=f"profiles.{i}") from None  # fmt: skip
    return sorted(set(profiles))


def create_segment(session: Session, *, workspace_id: str, data: SegmentCreate) -> Segment:
    """A segment of conditions or, with ``data.profiles``, a listed one (its fixed list
    stored beside it)."""
    definition = SegmentDefinition(match=data.match, conditions=data.conditions)
    check_references(session, workspace_id=workspace_id, definition=definition, own_id=None)
    listed = None
    if data.profiles is not None:
        listed = check_profiles(session, workspace_id=workspace_id, profiles=data.profiles)
    segment = Segment(
        id="seg_" + secrets.token_hex(8),
        workspace_id=workspace_id,
        name=data.name,
        description=data.description,
        match=data.match,
        conditions=definition.model_dump(mode="json")["conditions"],
        listed=listed is not None,
    )
    SegmentRepository(session).add(segment)
    if listed:
        ListedRepository(session).add_all(workspace_id, segment.id, listed)
    return segment


def list_segments(session: Session, *, workspace_id: str) -> list[Segment]:
    return SegmentRepository(session).all(workspace_id)


def get_segment(session: Session, *, workspace_id: str, segment_id: str) -> Segment:
    segment = SegmentRepository(session).get(workspace_id, segment_id)
    if segment is None:
        raise NotFound(f"segment {segment_id[:40]} not found", field="segment_id")
    return segment


def update_segment(
    session: Session, *, workspace_id: str, segment_id: str, data: SegmentUpdate
) -> Segment:
    segment = get_segment(session, workspace_id=workspace_id, segment_id=segment_id)
    current = definition_of(segment)
    definition = SegmentDefinition(
        match=data.match or current.match,
        conditions=data.conditions if data.conditions is not None else current.conditions,
    )
    check_references(session, workspace_id=workspace_id, definition=definition, own_id=segment.id)
    if data.name is not None:
        segment.name = data.name
    if data.description is not None:
        segment.description = data.description
    segment.match = definition.match
    segment.conditions = definition.model_dump(mode="json")["conditions"]
    session.flush()
    return segment


def delete_segment(session: Session, *, workspace_id: str, segment_id: str) -> None:
    """Delete a segment no other segment uses (a 409 names the one that does)."""
    segment = get_segment(session, workspace_id=workspace_id, segment_id=segment_id)
    for other in list_segments(session, workspace_id=workspace_id):
        if other.id != segment.id and any(
            ref == segment.id for _, ref in definition_of(other).segment_refs()
        ):
            raise Conflict(
                f"segment_id: segment {other.id} ({other.name[:60]}) uses this segment",
                field="segment_id",
            )
    session.delete(segment)
    session.flush()


# -- evaluation -------------------------------------------------------------------------------
def _evaluator(
    session: Session, store: EventStore, workspace_id: str, now: datetime | None
) -> Evaluator:
    return Evaluator(
        session,
        store,
        workspace_id=workspace_id,
        now=now or utcnow(),
        definitions=_definitions(session, workspace_id),
    )


def members(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    segment_id: str,
    now: datetime | None = None,
) -> set[str]:
    """The segment's members now (unmerged profile ids), evaluated in both stores."""
    segment = get_segment(session, workspace_id=workspace_id, segment_id=segment_id)
    ev = _evaluator(session, store, workspace_id, now)
    return ev.saved_members(segment.id, definition_of(segment, listed_of(session, segment)))


def evaluate(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    definition: SegmentDefinition,
    now: datetime | None = None,
) -> set[str]:
    """The members of an unsaved definition."""
    check_references(session, workspace_id=workspace_id, definition=definition, own_id=None)
    return _evaluator(session, store, workspace_id, now).members(definition)


def trait_members(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    rule: TraitCondition,
    want: int | None = None,
    within: set[str] | None = None,
) -> list[str]:
    """The first ``want`` (or all) profiles in id order matching one trait condition (and in
    ``within``): the customer list's filter, which needs a page, not the whole audience."""
    found = evaluation.trait_members_in_order(
        session, workspace_id=workspace_id, rule=rule, want=want, within=within
    )
    if found is None:  # a rare match: every profile is read, so in bulk
        ev = _evaluator(session, store, workspace_id, None)
        bulk = ev.members(SegmentDefinition(conditions=[rule]))
        found = sorted(bulk if within is None else bulk & within)[:want]
    return found


def trait_matching(
    session: Session, *, workspace_id: str, rule: TraitCondition, profile_ids: list[str]
) -> set[str]:
    """Those of these profiles (search hits) that match one trait condition."""
    return evaluation.trait_holds_for(
        session, workspace_id=workspace_id, rule=rule, profile_ids=profile_ids
    )


def preview(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    definition: SegmentDefinition,
    sample: int = 20,
    now: datetime | None = None,
) -> Preview:
    found = evaluate(session, store, workspace_id=workspace_id, definition=definition, now=now)
    return Preview(count=len(found), sample=sorted(found)[:sample])


def profile_matches(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    profile_id: str,
    conditions: Sequence[AudienceCondition],
    match: Match = "all",
    now: datetime | None = None,
) -> bool:
    """Whether one profile (its surviving profile, after merges) meets the conditions; reads
    only that profile's identities, traits, consent and events."""
    ev = _evaluator(session, store, workspace_id, now)
    return ev.profile_matches(profile_id, conditions, match)


# -- membership and changes -------------------------------------------------------------------
def refresh(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    segment_id: str,
    now: datetime,
    jobs: Jobs | None = None,
) -> SegmentDiff:
    """Bring the stored membership up to date; with ``jobs``, enqueue the change events in
    this unit of work (so they exist exactly when the membership change does)."""
    segment = SegmentRepository(session).locked(workspace_id, segment_id)
    if segment is None:
        raise NotFound(f"segment {segment_id[:40]} not found", field="segment_id")
    live = members(session, store, workspace_id=workspace_id, segment_id=segment_id, now=now)
    repo = MemberRepository(session)
    stored = repo.ids(workspace_id, segment.id)
    entered, left = sorted(live - stored), sorted(stored - live)
    repo.remove(workspace_id, segment.id, left)
    repo.add_all(workspace_id, segment.id, entered, now)
    segment.refreshes += 1
    segment.refreshed_at = now
    segment.member_count = len(live)
    session.flush()
    if segment.refreshes == 1:
        return SegmentDiff(refresh=1, baseline=True)
    diff = SegmentDiff(entered=entered, left=left, refresh=segment.refreshes)
    rows = change_events(session, segment, diff, now)
    if jobs is not None and rows:
        jobs.enqueue(
            session,
            workspace_id=workspace_id,
            action=EMIT_TASK,
            payload={"rows": rows},
            key=f"{EMIT_TASK}:{segment.id}:{diff.refresh}",
            due_at=now,
        )
    return diff


def change_events(
    session: Session, segment: Segment, diff: SegmentDiff, now: datetime
) -> list[EventRow]:
    """One track event per change, as the ingestion path stores it. A profile without a user
    or anonymous id (known only by email or phone) has no event identity and gets none."""
    rows: list[EventRow] = []
    for change, ids in (("entered", diff.entered), ("exited", diff.left)):
        for pid in ids:
            uids, aids = identity.event_identifiers(session, pid)
            if not uids and not aids:
                continue
            msg: dict[str, Any] = {
                "type": "track",
                "event": ENTERED if change == "entered" else EXITED,
                "messageId": f"seg:{segment.id}:{pid}:{change}:{diff.refresh}",
                "properties": {"segment_id": segment.id, "segment_name": segment.name},
                "timestamp": now.isoformat(),
            }
            if uids:
                msg["userId"] = sorted(uids)[0]
            else:
                msg["anonymousId"] = sorted(aids)[0]
            rows.append(
                normalize(
                    parse_message(msg),
                    workspace_id=segment.workspace_id,
                    received_at=now,
                    source="segments",
                )
            )
    return rows


def refresh_all(
    session: Session, store: EventStore, *, workspace_id: str, now: datetime, jobs: Jobs | None
) -> dict[str, SegmentDiff]:
    """Refresh every segment of the workspace."""
    return {
        s.id: refresh(
            session, store, workspace_id=workspace_id, segment_id=s.id, now=now, jobs=jobs
        )
        for s in list_segments(session, workspace_id=workspace_id)
    }


def schedule_refresh(
    session: Session, jobs: Jobs, *, workspace_id: str, due_at: datetime, interval_s: float
) -> None:
    """Enqueue the workspace's periodic refresh at ``due_at``; one job per interval slot, so
    however often this is called a slot is refreshed once."""
    slot = int(due_at.timestamp() // max(interval_s, 1.0))
    jobs.enqueue(
        session,
        workspace_id=workspace_id,
        action=REFRESH_TASK,
        payload={"workspace_id": workspace_id, "interval_s": interval_s},
        key=f"{REFRESH_TASK}:{workspace_id}:{slot}",
        due_at=due_at,
    )


def next_refresh(now: datetime, interval_s: float) -> datetime:
    return now + timedelta(seconds=interval_s)
