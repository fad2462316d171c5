"""Customer 360: the header a CX manager reads first on a person's page, and the analysis
badges of their texts on the timeline.

Presentation only. Everything comes from the domains' facades: the surveys service (their
answers), identity's timeline over the event store (orders, survey and case events), the text
service (analyses of their messages) and the journeys service (journeys they are in); this
module picks, sums and shapes what they return for ``profile.html``. Every read goes through
identity, so the events, answers and journeys of every profile merged into the person's count,
each once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from safar.events.store import EventStore
from safar.flows import service as flows
from safar.flows.schemas import PersonInstance
from safar.identity import service as identity
from safar.identity.schemas import ConsentRead
from safar.surveys import service as surveys
from safar.surveys.schemas import SCALES, LatestScore
from safar.text import service as text
from safar.web.i18n import N_
from safar.web.labels import (
    CATEGORY_LABELS,
    CONSENT_CHANNELS,
    CONSENT_PURPOSES,
    EMOTION_LABELS,
    SENTIMENT_LABELS,
)

#: Segment's e-commerce event for a placed order.
ORDER_EVENT = "Order Completed"
#: The properties an order's value is read from, the first one present and numeric wins:
#: ``total`` (what the customer paid, Segment's spec), then ``revenue`` (before shipping and
#: tax), then ``value`` (the generic one). Orders carrying none of them count, with no value.
VALUE_PROPERTIES = ("total", "revenue", "value")
#: What a journey's case step writes until cases have a domain of their own.
CASE_EVENT = "Case Requested"
#: At most this many order, survey and case events are read per page; beyond it the figures
#: are of the newest ones and the page says so.
SCAN_LIMIT = 5000
_PAGE = 500
#: The person's latest events searched for analysed texts (the sentiment trend).
TEXT_WINDOW = 200
#: Points of the sentiment trend.
TREND_POINTS = 12

JOURNEY_STATUS_LABELS = {
    "new": N_("Starting"),
    "running": N_("Running"),
    "waiting": N_("Waiting"),
    "done": N_("Finished"),
}
PRIORITY_LABELS = {
    "low": N_("Low"),
    "normal": N_("Normal"),
    "high": N_("High"),
    "urgent": N_("Urgent"),
}

#: Every label set the header and the badges translate, for the template.
LABELS = {
    "sentiment": SENTIMENT_LABELS,
    "emotion": EMOTION_LABELS,
    "category": CATEGORY_LABELS,
    "status": JOURNEY_STATUS_LABELS,
    "priority": PRIORITY_LABELS,
    "purpose": CONSENT_PURPOSES,
    "channel": CONSENT_CHANNELS,
}


@dataclass(frozen=True, slots=True)
class Orders:
    """The person's completed orders: how many, their value per currency, the newest."""

    count: int = 0
    #: Sum of order values per currency ("" for orders that name none), largest first.
    totals: dict[str, float] = field(default_factory=dict)
    last_at: datetime | None = None
    #: More events than ``SCAN_LIMIT``: the figures are of the newest ones.
    partial: bool = False


@dataclass(frozen=True, slots=True)
class CaseRequest:
    subject: str
    priority: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Mood:
    """One analysed text of the person: its sentiment label and polarity (-1..1)."""

    label: str
    score: float | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Summary:
    """What the header shows; each part is empty when the person has none of it."""

    scores: dict[str, LatestScore]
    orders: Orders
    #: The latest analysed texts, oldest first (the trend reads left to right in time).
    moods: list[Mood]
    journeys: list[PersonInstance]
    cases: list[CaseRequest]
    consent: list[ConsentRead]
    #: The text analyses of the events on the timeline page, by message id (the badges).
    badges: dict[str, dict[str, Any]]

    @property
    def active_journeys(self) -> list[PersonInstance]:
        return [j for j in self.journeys if j.in_progress]

    @property
    def finished_journeys(self) -> int:
        return sum(1 for j in self.journeys if not j.in_progress)

    @property
    def spark(self) -> str:
        """The sentiment trend as SVG polyline points in a 100 x 24 box (+1 at the top)."""
        points = [m.score for m in self.moods if m.score is not None]
        if not points:
            return ""
        step = 100 / (len(points) - 1) if len(points) > 1 else 0
        x0 = 0 if len(points) > 1 else 50
        return " ".join(
            f"{x0 + i * step:.1f},{(1 - max(-1.0, min(1.0, s))) * 12:.1f}"
            for i, s in enumerate(points)
        )


def summary(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    profile_id: str,
    consent: list[ConsentRead],
    shown: Sequence[Mapping[str, Any]] = (),
) -> Summary:
    """The header of one person (``profile_id`` already canonical) and the badges of the
    timeline events ``shown`` beside it."""
    rows, partial = _scan(session, store, workspace_id=workspace_id, profile_id=profile_id)
    recent = _recent_texts(session, store, workspace_id=workspace_id, profile_id=profile_id)
    analyses = text.analyses_of(
        store,
        workspace_id=workspace_id,
        message_ids=[r["message_id"] for r in (*recent, *shown)],
    )
    answered = surveys.latest_scores(session, workspace_id=workspace_id, profile_id=profile_id)
    shown_ids = {r["message_id"] for r in shown}
    return Summary(
        scores=_newest_scores(answered, _event_scores(rows)),
        orders=_orders(rows, partial=partial),
        moods=_moods(recent, analyses),
        journeys=flows.instances_of_person(
            session, workspace_id=workspace_id, profile_id=profile_id
        ),
        cases=_cases(rows),
        consent=sorted(consent, key=lambda c: (c.purpose, c.channel)),
        badges={k: v for k, v in analyses.items() if k in shown_ids and _labelled(v)},
    )


def _scan(
    session: Session, store: EventStore, *, workspace_id: str, profile_id: str
) -> tuple[list[dict[str, Any]], bool]:
    """The person's order, survey-answer and case events, newest first, up to ``SCAN_LIMIT``."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        _, page, cursor = identity.timeline(
            session, store, workspace_id=workspace_id, profile_id=profile_id,
            events=[ORDER_EVENT, CASE_EVENT, surveys.EVENT_NAME], limit=_PAGE, cursor=cursor,
        )  # fmt: skip
        rows.extend(page)
        if cursor is None:
            return rows, False
        if len(rows) >= SCAN_LIMIT:
            return rows, True


def _recent_texts(
    session: Session, store: EventStore, *, workspace_id: str, profile_id: str
) -> list[dict[str, Any]]:
    _, rows, _ = identity.timeline(
        session, store, workspace_id=workspace_id, profile_id=profile_id,
        types=["track", "page", "screen"], limit=TEXT_WINDOW,
    )  # fmt: skip
    return rows


def _at(row: Mapping[str, Any]) -> datetime:
    return datetime.fromtimestamp(row["timestamp"] / 1_000_000, tz=UTC)


def _number(value: Any) -> float | None:
    """A finite number from a property (numbers, or text such as "1250000" or "12,500.5")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", ""))
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def order_value(properties: Mapping[str, Any]) -> float | None:
    """An order's value: the first of ``VALUE_PROPERTIES`` that holds a number."""
    for name in VALUE_PROPERTIES:
        value = _number(properties.get(name))
        if value is not None:
            return value
    return None


def _orders(rows: Iterable[Mapping[str, Any]], *, partial: bool) -> Orders:
    count, last_at = 0, None
    totals: dict[str, float] = {}
    for row in rows:
        if row.get("event") != ORDER_EVENT:
            continue
        count += 1
        last_at = last_at or _at(row)  # rows are newest first
        props = row.get("properties") or {}
        value = order_value(props)
        if value is not None:
            currency = str(props.get("currency") or "").strip().upper()[:8]
            totals[currency] = totals.get(currency, 0.0) + value
    ordered = dict(sorted(totals.items(), key=lambda kv: -kv[1]))
    return Orders(count, ordered, last_at, partial)


def _event_scores(rows: Iterable[Mapping[str, Any]]) -> list[LatestScore]:
    """The newest score of each metric in ``survey_answered`` events, Safar's or imported
    ones, on the metric's scale (a value off the scale is not that metric's)."""
    found: dict[str, LatestScore] = {}
    for row in rows:
        if row.get("event") != surveys.EVENT_NAME:
            continue
        props = row.get("properties") or {}
        for metric in surveys.SCORE_COLUMNS:
            value = _number(props.get(metric))
            low, high = SCALES[metric]
            if metric in found or value is None or not value.is_integer():
                continue
            if low <= value <= high:
                found[metric] = LatestScore(
                    metric=metric, value=int(value), low=low, high=high, answered_at=_at(row),
                    survey_id=_text(props.get("survey_id")),
                    survey_name=_text(props.get("survey_name")),
                )  # fmt: skip
    return list(found.values())


def _text(value: Any) -> str | None:
    return str(value)[:200] if value not in (None, "") else None


def _newest_scores(*sources: Iterable[LatestScore]) -> dict[str, LatestScore]:
    best: dict[str, LatestScore] = {}
    for source in sources:
        for score in source:
            current = best.get(score.metric)
            if current is None or _aware(score.answered_at) > _aware(current.answered_at):
                best[score.metric] = score
    return {m: best[m] for m in surveys.SCORE_COLUMNS if m in best}


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _labelled(analysis: Mapping[str, Any]) -> bool:
    return not analysis.get("error") and bool(analysis.get("sentiment_label"))


def _moods(
    rows: Sequence[Mapping[str, Any]], analyses: Mapping[str, Mapping[str, Any]]
) -> list[Mood]:
    moods: list[Mood] = []
    for row in rows:  # newest first
        analysis = analyses.get(row["message_id"])
        if analysis is None or not _labelled(analysis):
            continue
        score = analysis.get("sentiment_score")
        moods.append(Mood(str(analysis["sentiment_label"]), score, _at(row)))
        if len(moods) == TREND_POINTS:
            break
    return moods[::-1]


def _cases(rows: Iterable[Mapping[str, Any]]) -> list[CaseRequest]:
    return [
        CaseRequest(
            subject=str((r.get("properties") or {}).get("subject") or ""),
            priority=str((r.get("properties") or {}).get("priority") or "normal"),
            at=_at(r),
        )
        for r in rows
        if r.get("event") == CASE_EVENT
    ]
