"""Journeys: create, version, publish, pause; who enters; live counts and outcomes.

Editing a published journey makes a new draft version; publishing it makes new instances start
on it while running ones finish on the version they started on. Services never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safar.errors import NotFound, ValidationFailed
from safar.flows import validate as checks
from safar.flows.definition import FlowDefinition, parse

__all__ = ["parse"]
from safar.flows.models import Flow, FlowInstance, FlowVersion
from safar.flows.repository import FlowRepository, InstanceRepository, VersionRepository
from safar.flows.schemas import PersonInstance
from safar.identity.service import merged_sets, person_profile_ids, traits_in_use

STATUSES = ("draft", "published", "paused", "archived")
#: How long a new instance listens before its runtime starts it (and sets its own waits).
PRE_START = timedelta(days=7)


def _flow(session: Session, workspace_id: str, flow_id: str) -> Flow:
    flow = FlowRepository(session).get(workspace_id, flow_id)
    if flow is None or flow.status == "archived":
        raise NotFound(f"no journey {flow_id[:60]!r}", field="flow_id")
    return flow


def create_flow(
    session: Session,
    *,
    workspace_id: str,
    definition: dict[str, Any],
    user: str | None,
    now: datetime,
) -> Flow:
    flow_def = parse(definition)
    flow = Flow(
        id="flw_" + uuid.uuid4().hex[:16],
        workspace_id=workspace_id,
        name=flow_def.name,
        status="draft",
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(flow)
    session.flush()
    session.add(
        FlowVersion(
            workspace_id=workspace_id,
            flow_id=flow.id,
            version=1,
            definition=flow_def.model_dump(mode="json"),
            created_by=user,
            created_at=now,
        )
    )
    session.flush()
    return flow


def list_flows(session: Session, *, workspace_id: str) -> list[Flow]:
    return FlowRepository(session).ordered(workspace_id)


def get_flow(session: Session, *, workspace_id: str, flow_id: str) -> Flow:
    return _flow(session, workspace_id, flow_id)


def version_of(session: Session, *, workspace_id: str, flow_id: str, version: int) -> FlowVersion:
    row = VersionRepository(session).of(workspace_id, flow_id, version)
    if row is None:
        raise NotFound(f"journey {flow_id!r} has no version {version}", field="version")
    return row


def versions(session: Session, *, workspace_id: str, flow_id: str) -> list[FlowVersion]:
    return VersionRepository(session).history(workspace_id, flow_id)


def save_draft(
    session: Session,
    *,
    workspace_id: str,
    flow_id: str,
    definition: dict[str, Any],
    user: str | None,
    now: datetime,
) -> Flow:
    """Replace the draft; a published (or once published) newest version is never edited:
    the edit becomes the next version."""
    flow = _flow(session, workspace_id, flow_id)
    flow_def = parse(definition)
    latest = version_of(session, workspace_id=workspace_id, flow_id=flow_id, version=flow.version)
    data = flow_def.model_dump(mode="json")
    if latest.published_at is None:
        latest.definition = data
        latest.created_by, latest.created_at = user, now
    else:
        flow.version += 1
        session.add(
            FlowVersion(
                workspace_id=workspace_id,
                flow_id=flow_id,
                version=flow.version,
                definition=data,
                created_by=user,
                created_at=now,
            )
        )
    flow.name, flow.updated_at = flow_def.name, now
    session.flush()
    return flow


def publish(
    session: Session,
    *,
    workspace_id: str,
    flow_id: str,
    known_events: set[str],
    survey_exists: Callable[[str], bool],
    segment_exists: Callable[[str], bool],
    tz: str,
    now: datetime,
) -> Flow:
    """Check the newest version against the workspace (its events, surveys, segments and
    traits) and make it the one new entrants run."""
    flow = _flow(session, workspace_id, flow_id)
    latest = version_of(session, workspace_id=workspace_id, flow_id=flow_id, version=flow.version)
    flow_def = parse(latest.definition)
    checks.validate(
        flow_def,
        known_events=known_events,
        survey_exists=survey_exists,
        segment_exists=segment_exists,
        tz=tz,
        known_traits=lambda keys: traits_in_use(session, workspace_id=workspace_id, keys=keys),
    )
    latest.published_at = latest.published_at or now
    flow.published_version = flow.version
    flow.status = "published"
    described = checks.describe(flow_def)
    flow.trigger_type, flow.trigger_event = described["trigger_type"], described["trigger_event"]
    flow.updated_at = now
    session.flush()
    return flow


def set_status(
    session: Session, *, workspace_id: str, flow_id: str, status: str, now: datetime
) -> Flow:
    """Pause (no one new enters; instances hold at their next action), resume or archive."""
    flow = _flow(session, workspace_id, flow_id)
    if status not in ("paused", "published", "archived"):
        raise ValidationFailed("status: use paused, published or archived", field="status")
    if status == "published" and flow.published_version is None:
        raise ValidationFailed("status: publish the journey first", field="status")
    flow.status, flow.updated_at = status, now
    session.flush()
    return flow


def live_definition(session: Session, flow: Flow) -> FlowDefinition:
    assert flow.published_version is not None
    row = version_of(
        session, workspace_id=flow.workspace_id, flow_id=flow.id, version=flow.published_version
    )
    return FlowDefinition.model_validate(row.definition)


# -- entry ----------------------------------------------------------------------------------------
def may_enter(
    session: Session, *, flow: Flow, definition: FlowDefinition, profile_id: str, now: datetime
) -> str | None:
    """None when the profile may enter now; otherwise why not (re-entry rules, one at a time)."""
    people = person_profile_ids(session, workspace_id=flow.workspace_id, profile_id=profile_id)
    earlier = InstanceRepository(session).of_profiles(flow.workspace_id, flow.id, people)
    if not earlier:
        return None
    if any(i.status != "done" for i in earlier):
        return "already in the journey"
    rule = definition.entry
    if rule.reentry == "once":
        return "entered before (re-entry: once)"
    if rule.reentry == "cooldown":
        last = max(i.created_at for i in earlier)
        if now - last < timedelta(days=rule.cooldown_days):
            return f"cooldown of {rule.cooldown_days:g} days"
    return None


def enter(
    session: Session,
    *,
    flow: Flow,
    definition: FlowDefinition,
    profile_id: str,
    entry_key: str,
    properties: dict[str, Any],
    now: datetime,
    at: datetime | None = None,
) -> FlowInstance | None:
    """Create the instance (status ``new``: the runtime starts it); None when the rules say no
    or this entry key already entered (a replayed event, a repeated sweep). ``at``: when the
    trigger happened (an event's time), where the journey's clock starts; never after ``now``."""
    repo = InstanceRepository(session)
    if repo.by_entry(flow.workspace_id, flow.id, entry_key) is not None:
        return None
    if may_enter(session, flow=flow, definition=definition, profile_id=profile_id, now=now):
        return None
    assert flow.published_version is not None
    instance = FlowInstance(
        id="fin_" + uuid.uuid4().hex[:20],
        workspace_id=flow.workspace_id,
        flow_id=flow.id,
        version=flow.published_version,
        profile_id=profile_id,
        entry_key=entry_key[:300],
        status="new",
        properties=properties,
        state={},
        trigger_at=min(at, now) if at is not None else now,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(instance)
            session.flush()
            # Until the runtime starts it, the instance hears every event it may wait for, so
            # a purchase a moment after the cart is not lost between entry and start.
            InstanceRepository(session).set_waits(
                instance, [(e, now + PRE_START) for e in sorted(definition.listened())]
            )
    except IntegrityError:
        return None  # another process entered the same key first
    return instance


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry asked of ``enter_many``: as ``enter``'s arguments."""

    profile_id: str
    entry_key: str
    properties: dict[str, Any]
    at: datetime | None = None


def enter_many(
    session: Session,
    *,
    flow: Flow,
    definition: FlowDefinition,
    entries: Sequence[Entry],
    now: datetime,
) -> list[str | None]:
    """``enter`` for many entries of one journey in a few statements (the ingest hook's
    batches): the instance id of each entry, or None where ``enter`` would say None. Entries
    are taken in order, so a person's second entry in the batch sees the first."""
    if not entries:
        return []
    assert flow.published_version is not None
    ws, repo = flow.workspace_id, InstanceRepository(session)
    taken = repo.taken_entries(flow.id, [e.entry_key[:300] for e in entries])
    people = merged_sets(
        session, workspace_id=ws, profile_ids=list({e.profile_id for e in entries})
    )
    person_of = {pid: root for root, ids in people.items() for pid in ids}
    earlier: dict[str, list[tuple[str, datetime]]] = {}
    for pid, status, created in repo.history(ws, flow.id, list(person_of)):
        earlier.setdefault(person_of[pid], []).append((status, created))
    rows: list[dict[str, Any]] = []
    out: list[str | None] = []
    for e in entries:
        key, who = e.entry_key[:300], person_of.get(e.profile_id, e.profile_id)
        if key in taken or _refused(definition, earlier.get(who, []), now):
            out.append(None)
            continue
        taken.add(key)
        iid = "fin_" + uuid.uuid4().hex[:20]
        earlier.setdefault(who, []).append(("new", now))
        rows.append(
            {
                "id": iid,
                "workspace_id": ws,
                "flow_id": flow.id,
                "version": flow.published_version,
                "profile_id": e.profile_id,
                "entry_key": key,
                "status": "new",
                "properties": e.properties,
                "state": {},
                "trigger_at": min(e.at, now) if e.at is not None else now,
                "created_at": now,
                "updated_at": now,
            }
        )
        out.append(iid)
    inserted = repo.insert_new(rows)
    # Until the runtime starts it, the instance hears every event it may wait for, so a
    # purchase a moment after the cart is not lost between entry and start.
    listened = sorted(definition.listened())
    repo.add_waits(
        [
            (ws, r["id"], r["profile_id"], event, now + PRE_START)
            for r in rows
            if r["id"] in inserted
            for event in listened
        ]
    )
    return [iid if iid in inserted else None for iid in out]


def _refused(
    definition: FlowDefinition, earlier: list[tuple[str, datetime]], now: datetime
) -> bool:
    """``may_enter``'s rules on the person's earlier instances (status, created at)."""
    if not earlier:
        return False
    if any(status != "done" for status, _ in earlier):
        return True
    rule = definition.entry
    if rule.reentry == "once":
        return True
    if rule.reentry == "cooldown":
        last = max(created for _, created in earlier)
        return now - last < timedelta(days=rule.cooldown_days)
    return False


def instances(
    session: Session, *, workspace_id: str, flow_id: str, limit: int = 100
) -> list[FlowInstance]:
    return InstanceRepository(session).list(
        workspace_id,
        FlowInstance.flow_id == flow_id,
        order_by=[FlowInstance.created_at.desc()],
        limit=limit,
    )


def instances_of_person(
    session: Session, *, workspace_id: str, profile_id: str, limit: int = 50
) -> list[PersonInstance]:
    """The journeys the person entered, newest first, with each journey's name: from every
    profile merged into theirs, so a journey entered before a merge still counts."""
    ids = person_profile_ids(session, workspace_id=workspace_id, profile_id=profile_id)
    return [
        PersonInstance(
            id=i.id,
            flow_id=i.flow_id,
            flow_name=name,
            status=i.status,
            node=i.node,
            control=i.control,
            entered_at=i.entered_at,
            finished_at=i.finished_at,
            created_at=i.created_at,
        )
        for i, name in InstanceRepository(session).of_person(workspace_id, ids, limit)
    ]


def instance(session: Session, *, workspace_id: str, instance_id: str) -> FlowInstance:
    row = InstanceRepository(session).get(workspace_id, instance_id)
    if row is None:
        raise NotFound(f"no journey instance {instance_id[:60]!r}", field="instance_id")
    return row
