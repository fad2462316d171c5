"""The track events a case's changes put on the customer's timeline.

One event per case-log entry, named for what a CX reader looks for (``Case Opened``,
``Case Solved``, ...), with the messageId ``case:<case id>:<log number>``: the log numbers
never repeat, so storing the same change again (a retried job, a replay) stores nothing new.
Note bodies stay in the case log; the timeline only says a note was added.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from safar.cases.models import Case, CaseEvent
from safar.errors import NotFound
from safar.events.messages import normalize, parse_message
from safar.events.rows import EventRow
from safar.identity import service as identity

OPENED = "Case Opened"
STATUS_CHANGED = "Case Status Changed"
SOLVED = "Case Solved"
CLOSED = "Case Closed"
REOPENED = "Case Reopened"
ASSIGNED = "Case Assigned"
PRIORITY_CHANGED = "Case Priority Changed"
TAGGED = "Case Tagged"
NOTE_ADDED = "Case Note Added"
#: Every event name this domain writes (the journeys and the timeline may listen for them).
EVENT_NAMES = (
    OPENED,
    STATUS_CHANGED,
    SOLVED,
    CLOSED,
    REOPENED,
    ASSIGNED,
    PRIORITY_CHANGED,
    TAGGED,
    NOTE_ADDED,
)
_BY_KIND = {
    "created": OPENED,
    "assigned": ASSIGNED,
    "priority_changed": PRIORITY_CHANGED,
    "tagged": TAGGED,
    "note": NOTE_ADDED,
}


def event_name(entry: CaseEvent) -> str:
    if entry.kind != "status_changed":
        return _BY_KIND[entry.kind]
    to, was = entry.data.get("to"), entry.data.get("from")
    if to == "solved":
        return SOLVED
    if to == "closed":
        return CLOSED
    if was == "solved" and to == "open":
        return REOPENED
    return STATUS_CHANGED


def _properties(case: Case, entry: CaseEvent) -> dict[str, Any]:
    data = {k: v for k, v in entry.data.items() if k != "body"}
    return {
        **data,
        "case_id": case.id,
        "subject": case.subject,
        "status": case.status,
        "priority": case.priority,
        "actor": entry.actor,
    }


def _identifiers(session: Session, case: Case) -> dict[str, str]:
    """The ids the person's events carry now (a merge moved them to the survivor); none for a
    case without a profile or a person known only by email or phone."""
    if case.profile_id is None:
        return {}
    try:
        pid = identity.resolve_profile_id(
            session, workspace_id=case.workspace_id, profile_id=case.profile_id
        )
    except NotFound:  # erased since
        return {}
    uids, aids = identity.event_identifiers(session, pid)
    if uids:
        return {"userId": sorted(uids)[0]}
    if aids:
        return {"anonymousId": sorted(aids)[0]}
    return {}


def rows_for(
    session: Session, case: Case, entries: Sequence[CaseEvent], now: datetime
) -> list[EventRow]:
    """The timeline events of these log entries of ``case``, as the ingestion path stores them."""
    who = _identifiers(session, case)
    if not who:
        return []
    rows: list[EventRow] = []
    for entry in entries:
        msg: dict[str, Any] = {
            "type": "track",
            "event": event_name(entry),
            "messageId": f"case:{case.id}:{entry.seq}",
            "properties": _properties(case, entry),
            "timestamp": entry.at.isoformat(),
            **who,
        }
        if case.channel:
            msg["context"] = {"channel": case.channel}
        rows.append(
            normalize(
                parse_message(msg), workspace_id=case.workspace_id, received_at=now, source="cases"
            )
        )
    return rows
