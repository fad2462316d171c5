"""Which newly stored events ask for a case, decided from the events alone (no I/O).

Two rules, on for every workspace:
- ``Case Requested`` (what a journey's case step writes, or any source sending it): one case
  per event, keyed by its messageId.
- ``survey_answered`` with an NPS of 6 or less or a CSAT of 2 or less, on the metric's scale:
  one case per survey response (its steps repeat the score), keyed by the response id, or by
  the messageId of an answer imported without one. An NPS of 0-3 is high priority.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from safar.cases.schemas import PRIORITIES
from safar.events.rows import EventRow
from safar.surveys.schemas import SCALES

REQUESTED = "Case Requested"
SURVEY_ANSWERED = "survey_answered"
#: The highest detractor score of each metric; a value off the metric's scale (``SCALES``) is
#: not that metric's, e.g. a "csat" of 9 from a 10-point import.
DETRACTOR_AT_MOST = {"nps": 6, "csat": 2}
HIGH_NPS_AT_MOST = 3
WATCHED = frozenset({REQUESTED, SURVEY_ANSWERED})


@dataclass(frozen=True, slots=True)
class CaseRequest:
    """One case an event asks for."""

    source_key: str
    message_id: str
    subject: str
    priority: str
    origin: str
    actor: str
    channel: str | None
    user_id: str | None
    anonymous_id: str | None
    data: dict[str, Any] = field(default_factory=dict)


def _score(value: Any, metric: str) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or not float(value).is_integer():
        return None
    low, high = SCALES[metric]
    return int(value) if low <= value <= high else None


def _requested(row: EventRow) -> CaseRequest:
    props = row["properties"] or {}
    priority = str(props.get("priority") or "normal")
    flow_id = props.get("flow_id")
    return CaseRequest(
        source_key=f"event:{row['message_id']}",
        message_id=row["message_id"],
        subject=str(props.get("subject") or REQUESTED).strip()[:300] or REQUESTED,
        priority=priority if priority in PRIORITIES else "normal",
        origin="flow" if flow_id else "event",
        actor=f"flow:{flow_id}"[:80] if flow_id else "event",
        channel=row["channel"],
        user_id=row["user_id"],
        anonymous_id=row["anonymous_id"],
        data={k: props[k] for k in ("flow_id", "instance_id") if props.get(k)},
    )


def _detractor(row: EventRow) -> CaseRequest | None:
    props = row["properties"] or {}
    for metric, limit in DETRACTOR_AT_MOST.items():
        score = _score(props.get(metric), metric)
        if score is None or score > limit:
            continue
        high = metric == "nps" and score <= HIGH_NPS_AT_MOST
        response = props.get("response_id")
        survey = str(props.get("survey_name") or "").strip()
        subject = f"{metric.upper()} {score}" + (f": {survey}" if survey else "")
        return CaseRequest(
            # A response id from an import may be any length; the key column holds 300.
            source_key=f"survey:{str(response)[:200]}"
            if response
            else f"event:{row['message_id']}",
            message_id=row["message_id"],
            subject=subject[:300],
            priority="high" if high else "normal",
            origin="rule:survey",
            actor="rule:survey",
            channel=row["channel"],
            user_id=row["user_id"],
            anonymous_id=row["anonymous_id"],
            data={"metric": metric, "score": score}
            | {k: props[k] for k in ("survey_id", "response_id") if props.get(k)},
        )
    return None


def requests_of(rows: Iterable[EventRow]) -> list[CaseRequest]:
    """The cases these rows ask for, the first of each source key in row order."""
    found: dict[str, CaseRequest] = {}
    for row in rows:
        if row["type"] != "track" or row["event"] not in WATCHED:
            continue
        req = _requested(row) if row["event"] == REQUESTED else _detractor(row)
        if req is not None:
            found.setdefault(req.source_key, req)
    return list(found.values())
