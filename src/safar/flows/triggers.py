"""Which stored events make whom enter which journey, and which events instances wait for.

``FlowHook.schedule`` runs inside the ``Applier``'s identity transaction, like survey triggers:
the instances it creates and the inbox rows it writes commit with the identities, before the
events are stored, so a crash in between replays the rows and, entry keys being unique, adds
nothing twice. After the apply, the hook wakes the runtime.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safar.db import Database
from safar.events.rows import EventRow
from safar.flows import service
from safar.flows.definition import FlowDefinition
from safar.flows.models import Flow, FlowInbox
from safar.flows.repository import FlowRepository, InstanceRepository, VersionRepository
from safar.identity.service import event_profile
from safar.kit.conditions import PropertyCondition, matches

#: Events older than this when they arrive (imports, backfills) make nobody enter.
MAX_EVENT_AGE = timedelta(hours=48)

_RESULTS: dict[str, list[dict[str, Any]]] = {
    "detractor": [{"key": "nps", "op": "lte", "value": 6}],
    "passive": [{"key": "nps", "op": "gte", "value": 7}, {"key": "nps", "op": "lte", "value": 8}],
    "promoter": [{"key": "nps", "op": "gte", "value": 9}],
    "low_csat": [{"key": "csat", "op": "lte", "value": 2}],
    "any": [],
}


def entry_match(flow: FlowDefinition) -> tuple[str, list[PropertyCondition]] | None:
    """The event (and property conditions) that makes a profile enter; None for triggers that
    are not events (dates, schedules, API calls)."""
    t = flow.trigger
    if t.type in ("event", "absence"):
        return t.event, list(t.where)
    if t.type == "segment":
        name = "segment_entered" if t.on == "enter" else "segment_exited"
        return name, [PropertyCondition(key="segment_id", value=t.segment_id)]
    if t.type == "survey":
        conds = [PropertyCondition.model_validate(c) for c in _RESULTS[t.result]]
        if t.survey_id:
            conds.append(PropertyCondition(key="survey_id", value=t.survey_id))
        return "survey_answered", conds + list(t.where)
    return None


@dataclass(frozen=True, slots=True)
class _Index:
    entries: dict[tuple[str, str], list[tuple[Flow, FlowDefinition, list[PropertyCondition]]]]
    listened: frozenset[str]
    #: Journeys entered from text analyses, by workspace.
    text: dict[str, list[tuple[Flow, FlowDefinition]]]


class FlowHook:
    """Enter journeys and fill instances' inboxes from newly applied events."""

    def __init__(
        self,
        db: Database,
        wake: Callable[[], None],
        *,
        clock: Callable[[], datetime],
        refresh_s: float = 5.0,
    ) -> None:
        self.db = db
        self.wake = wake
        self.clock = clock
        self.refresh_s = refresh_s
        self._cached: tuple[float, _Index] | None = None
        self._lock = threading.Lock()
        self._wake_pending = False

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def _index(self) -> _Index:
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < self.refresh_s:
                return self._cached[1]
        entries: dict[tuple[str, str], list[Any]] = {}
        text: dict[str, list[tuple[Flow, FlowDefinition]]] = {}
        listened: set[str] = set()
        with self.db.session() as s:
            for flow in FlowRepository(s).live():
                definition = service.live_definition(s, flow)
                if definition.trigger.type == "text":
                    text.setdefault(flow.workspace_id, []).append((flow, definition))
                match = entry_match(definition)
                if match is not None:
                    entries.setdefault((flow.workspace_id, match[0]), []).append(
                        (flow, definition, match[1])
                    )
            # Running instances may be on older versions, and paused flows still run theirs.
            for version in VersionRepository(s).published_everywhere():
                listened |= FlowDefinition.model_validate(version.definition).listened()
            s.expunge_all()
        index = _Index(entries, frozenset(listened), text)
        with self._lock:
            self._cached = (time.monotonic(), index)
        return index

    def schedule(self, session: Session, rows: Sequence[EventRow]) -> None:
        index = self._index()
        if not index.entries and not index.listened:
            return
        now = self.clock()
        for row in rows:
            if row.get("type") != "track":
                continue
            event = row.get("event") or ""
            key = (row["workspace_id"], event)
            candidates = index.entries.get(key, ())
            if not candidates and event not in index.listened:
                continue
            profile_id = _profile(session, row)
            if profile_id is None:
                continue
            props = dict(row.get("properties") or {})
            at = datetime.fromtimestamp(row["timestamp"] / 1e6, UTC)
            if candidates and now - at <= MAX_EVENT_AGE:
                for flow, definition, where in candidates:
                    if matches(where, props) and service.enter(
                        session,
                        flow=flow,
                        definition=definition,
                        profile_id=profile_id,
                        entry_key=row["message_id"],
                        properties=props,
                        now=now,
                        at=at,
                    ):
                        self._wake_pending = True
            if event in index.listened:
                self._deliver(session, row, profile_id, props, at)

    def _deliver(
        self, session: Session, row: EventRow, profile_id: str, props: dict[str, Any], at: datetime
    ) -> None:
        ws = row["workspace_id"]
        hits = InstanceRepository(session).listening(ws, [row["event"] or ""], [profile_id], at)
        for instance_id, event, _ in hits:
            try:
                with session.begin_nested():
                    session.add(
                        FlowInbox(
                            workspace_id=ws,
                            instance_id=instance_id,
                            message_id=row["message_id"],
                            event=event,
                            properties=props,
                            at=at,
                        )
                    )
                self._wake_pending = True
            except IntegrityError:
                continue  # a replay of an event already handed in

    def text_results(self, analyses: list[dict[str, Any]]) -> None:
        """Enter journeys with a text trigger from stored analyses (the text worker's
        listener). Analyses run after the events are stored, so this is its own unit of work;
        entry keys (``text:<message id>``) keep a re-analysis from entering anyone twice."""
        flows = self._index().text
        if not flows or not analyses:
            return
        now = self.clock()
        entered = False
        with self.db.session() as s:
            for a in analyses:
                for flow, definition in flows.get(a["workspace_id"], ()):
                    t = definition.trigger
                    if t.type != "text":  # narrows the type; the index holds text triggers
                        continue
                    if t.sentiment != "any" and a.get("sentiment_label") != t.sentiment:
                        continue
                    if t.category and a.get("category") != t.category:
                        continue
                    profile_id = _profile(s, a)  # type: ignore[arg-type]
                    if profile_id is None:
                        continue
                    props = {
                        k: a.get(k)
                        for k in ("message_id", "sentiment_label", "emotion", "category", "intent")
                    }
                    if service.enter(
                        s,
                        flow=flow,
                        definition=definition,
                        profile_id=profile_id,
                        entry_key=f"text:{a['message_id']}",
                        properties=props,
                        now=now,
                    ):
                        entered = True
        if entered:
            self.wake()

    def __call__(self, rows: list[EventRow]) -> None:
        if self._wake_pending:
            self._wake_pending = False
            self.wake()


def _profile(session: Session, row: EventRow) -> str | None:
    return event_profile(
        session,
        workspace_id=row["workspace_id"],
        user_id=row.get("user_id"),
        anonymous_id=row.get("anonymous_id"),
    )
