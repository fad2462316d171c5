"""The cases domain's behaviour: open, read, list, change and annotate cases.

Every change appends numbered rows to the case's log (``case_events``) and, in the same unit
of work, enqueues the scheduler task that stores the matching timeline events through the
ingestion path (``EMIT_TASK``), so a change and its timeline events commit together and a
retried task stores nothing twice. Input is checked in full before anything changes.
Times come from the caller (``now``): the API passes the runtime's clock.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safar.auth import service as auth
from safar.cases import timeline
from safar.cases.models import Case, CaseEvent
from safar.cases.repository import CaseEventRepository, CaseRepository
from safar.cases.rules import CaseRequest
from safar.cases.schemas import (
    OPEN_STATUSES,
    TRANSITIONS,
    CaseCreate,
    CaseFilter,
    CaseUpdate,
)
from safar.errors import Conflict, NotFound, SafarError, ValidationFailed
from safar.identity import service as identity
from safar.kit.jobs import Jobs

__all__ = [
    "EMIT_TASK",
    "OPEN_STATUSES",
    "add_note",
    "case_log",
    "create_case",
    "get_case",
    "list_cases",
    "open_cases_of_person",
    "open_requested",
    "update_case",
]

log = logging.getLogger("safar.cases")

#: ``cases.module.EMIT_TASK``: stores the timeline events of case changes.
EMIT_TASK = "cases.emit_events"
Change = tuple[str, dict[str, Any]]


def _new_id() -> str:
    return "cas_" + uuid.uuid4().hex[:20]


def _check_assignee(session: Session, assignee: str | None) -> None:
    """An assignee is an active dashboard user (users are shared by the installation's
    workspaces)."""
    if assignee is None:
        return
    try:
        user = auth.get_user(session, assignee)
    except NotFound:
        raise ValidationFailed(f"assignee: no user {assignee[:40]}", field="assignee") from None
    if user.disabled_at is not None:
        raise ValidationFailed(f"assignee: user {assignee[:40]} is disabled", field="assignee")


def _check_profile(session: Session, workspace_id: str, profile_id: str | None) -> str | None:
    if profile_id is None:
        return None
    try:
        return identity.resolve_profile_id(
            session, workspace_id=workspace_id, profile_id=profile_id
        )
    except NotFound:
        raise ValidationFailed(
            f"profile_id: no profile {profile_id[:40]} in this workspace", field="profile_id"
        ) from None


def _tags(tags: Sequence[str]) -> list[str]:
    """Trimmed, lower-cased, each once, in the order given."""
    return list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


def _record(
    session: Session,
    jobs: Jobs | None,
    case: Case,
    changes: Sequence[Change],
    *,
    actor: str,
    now: datetime,
) -> list[CaseEvent]:
    """Append ``changes`` to the case's log and queue their timeline events."""
    entries = []
    for kind, data in changes:
        case.events += 1
        entries.append(
            CaseEvent(
                case_id=case.id,
                seq=case.events,
                workspace_id=case.workspace_id,
                kind=kind,
                actor=actor[:80],
                at=now,
                data=data,
            )
        )
    if not entries:
        return entries
    case.updated_at = now
    session.add_all(entries)
    session.flush()
    rows = timeline.rows_for(session, case, entries, now)
    if jobs is not None and rows:
        jobs.enqueue(
            session,
            workspace_id=case.workspace_id,
            action=EMIT_TASK,
            payload={"rows": rows},
            key=f"{EMIT_TASK}:{case.id}:{entries[0].seq}",
            due_at=now,
        )
    return entries


def create_case(
    session: Session,
    jobs: Jobs | None,
    *,
    workspace_id: str,
    data: CaseCreate,
    actor: str,
    now: datetime,
    origin: str = "api",
    source_key: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Case:
    """Open a case; its log starts with ``created`` (with ``detail``, e.g. the rule's score),
    then ``assigned`` when it is given an assignee."""
    _check_assignee(session, data.assignee)
    profile_id = _check_profile(session, workspace_id, data.profile_id)
    case = Case(
        id=_new_id(), workspace_id=workspace_id, subject=data.subject.strip()[:300] or "-",
        profile_id=profile_id, channel=data.channel, category=data.category,
        priority=data.priority, status="new", assignee=data.assignee, team=data.team,
        tags=_tags(data.tags), source_message_ids=list(data.source_message_ids),
        source_key=source_key, origin=origin, events=0, created_at=now, updated_at=now,
    )  # fmt: skip
    CaseRepository(session).add(case)
    created = {
        "origin": origin,
        "priority": case.priority,
        "channel": case.channel,
        "tags": case.tags,
        "source_message_ids": case.source_message_ids,
        **(detail or {}),
    }
    changes: list[Change] = [("created", created)]
    if case.assignee:
        changes.append(("assigned", {"from": None, "to": case.assignee}))
    _record(session, jobs, case, changes, actor=actor, now=now)
    return case


def get_case(session: Session, *, workspace_id: str, case_id: str) -> Case:
    case = CaseRepository(session).get(workspace_id, case_id)
    if case is None:
        raise NotFound(f"case {case_id[:40]} not found", field="case_id")
    return case


def _locked(session: Session, workspace_id: str, case_id: str) -> Case:
    case = CaseRepository(session).locked(workspace_id, case_id)
    if case is None:
        raise NotFound(f"case {case_id[:40]} not found", field="case_id")
    return case


def case_log(session: Session, *, workspace_id: str, case_id: str) -> list[CaseEvent]:
    """Every change of the case, oldest first."""
    return CaseEventRepository(session).log(workspace_id, case_id)


def list_cases(
    session: Session, *, workspace_id: str, filter: CaseFilter, limit: int = 50, offset: int = 0
) -> tuple[list[Case], int]:
    """One page of the workspace's cases matching ``filter``, newest first, and the total.
    A profile filter matches the person: their profile and every one merged into it."""
    profile_ids: list[str] | None = None
    if filter.profile_id is not None:
        try:
            profile_ids = identity.person_profile_ids(
                session, workspace_id=workspace_id, profile_id=filter.profile_id
            )
        except NotFound:
            profile_ids = [filter.profile_id]  # erased or unknown: its own cases, if any
    return CaseRepository(session).page(
        workspace_id, filter, profile_ids=profile_ids, limit=limit, offset=offset
    )


def _check_transition(case: Case, to: str) -> None:
    if to != case.status and to not in TRANSITIONS[case.status]:
        allowed = ", ".join(sorted(TRANSITIONS[case.status])) or "none (it is final)"
        raise Conflict(
            f"status: a {case.status} case cannot become {to}; allowed: {allowed}", field="status"
        )


def _status_change(case: Case, to: str, now: datetime) -> Change | None:
    """Move the case to ``to`` (checked); ``solved_at`` is kept by closing, cleared by
    reopening."""
    if to == case.status:
        return None
    change: Change = ("status_changed", {"from": case.status, "to": to})
    case.status = to
    if to == "solved":
        case.solved_at = now
    elif to != "closed":
        case.solved_at = None
    return change


def update_case(
    session: Session,
    jobs: Jobs | None,
    *,
    workspace_id: str,
    case_id: str,
    data: CaseUpdate,
    actor: str,
    now: datetime,
) -> Case:
    """Change the fields ``data`` sets (``assignee: null`` unassigns); one log entry per field
    that really changes. Refused in full, nothing changed, on a bad assignee or transition."""
    case = _locked(session, workspace_id, case_id)
    given = data.model_fields_set
    if "assignee" in given:
        _check_assignee(session, data.assignee)
    if data.status is not None:
        _check_transition(case, data.status)
    if case.status == "closed" and given - {"status"}:
        raise Conflict("status: a closed case cannot change", field="status")
    changes: list[Change] = []
    if data.status is not None and (change := _status_change(case, data.status, now)):
        changes.append(change)
    if "assignee" in given and data.assignee != case.assignee:
        changes.append(("assigned", {"from": case.assignee, "to": data.assignee}))
        case.assignee = data.assignee
    if data.priority is not None and data.priority != case.priority:
        changes.append(("priority_changed", {"from": case.priority, "to": data.priority}))
        case.priority = data.priority
    if data.tags is not None:
        tags = _tags(data.tags)
        added = [t for t in tags if t not in case.tags]
        removed = [t for t in case.tags if t not in tags]
        if added or removed:
            changes.append(("tagged", {"added": added, "removed": removed, "tags": tags}))
            case.tags = tags
    _record(session, jobs, case, changes, actor=actor, now=now)
    return case


def add_note(
    session: Session,
    jobs: Jobs | None,
    *,
    workspace_id: str,
    case_id: str,
    body: str,
    actor: str,
    now: datetime,
) -> CaseEvent:
    """Add an internal note (never sent to the customer); a closed case takes none."""
    case = _locked(session, workspace_id, case_id)
    if case.status == "closed":
        raise Conflict("status: a closed case takes no notes", field="status")
    [entry] = _record(session, jobs, case, [("note", {"body": body})], actor=actor, now=now)
    return entry


def open_cases_of_person(session: Session, *, workspace_id: str, profile_id: str) -> list[Case]:
    """The person's cases still owed something (new, open, pending, on hold), newest first."""
    cases, _ = list_cases(
        session,
        workspace_id=workspace_id,
        filter=CaseFilter(status=list(OPEN_STATUSES), profile_id=profile_id),
        limit=100,
    )
    return cases


def open_requested(
    session: Session,
    jobs: Jobs | None,
    *,
    workspace_id: str,
    requests: Sequence[CaseRequest],
    now: datetime,
) -> list[Case]:
    """Open one case per request whose source opened none before (a replayed event, a second
    step of a survey response). Each in a savepoint, so another process that opened the same
    case first, or a request the case shapes refuse, costs that one case, never the ingest
    transaction."""
    done = CaseRepository(session).existing_sources(workspace_id, [r.source_key for r in requests])
    opened: list[Case] = []
    for req in requests:
        if req.source_key in done:
            continue
        profile_id = identity.event_profile(
            session, workspace_id=workspace_id, user_id=req.user_id, anonymous_id=req.anonymous_id
        )
        try:
            data = CaseCreate(
                subject=req.subject, profile_id=profile_id, channel=req.channel,
                priority=req.priority,  # one of PRIORITIES: the rule checked it
                source_message_ids=[req.message_id],
            )  # fmt: skip
            with session.begin_nested():
                case = create_case(
                    session, jobs, workspace_id=workspace_id, data=data, actor=req.actor,
                    now=now, origin=req.origin, source_key=req.source_key, detail=req.data,
                )  # fmt: skip
        except IntegrityError:
            continue
        except (ValidationError, SafarError):
            # One odd request must not fail the events it came with (they would be retried
            # and parked); it is logged and the others still open.
            log.exception("case for %s not opened", req.source_key)
            continue
        opened.append(case)
        done.add(req.source_key)
    return opened
