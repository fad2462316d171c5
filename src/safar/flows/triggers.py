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

from sqlalchemy.orm import Session

from safar.db import Database
from safar.events.rows import EventRow
from safar.flows import service
from safar.flows.definition import FlowDefinition
from safar.flows.models import Flow
from safar.flows.repository import FlowRepository, InstanceRepository, VersionRepository
from safar.identity.service import event_profile, event_profiles
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
        """Enter journeys and fill inboxes for a batch of applied rows, set-based: the rows'
        profiles in two queries, each journey's entries in a few, the inbox in one insert.

        Rows are taken in order: an instance a row creates hears only the rows after it.
        """
        index = self._index()
        if not index.entries and not index.listened:
            return
        now = self.clock()
        hits: dict[str, list[tuple[int, EventRow]]] = {}
        for n, row in enumerate(rows):
            if row.get("type") != "track":
                continue
            event = row.get("event") or ""
            if (row["workspace_id"], event) in index.entries or event in index.listened:
                hits.setdefault(row["workspace_id"], []).append((n, row))
        for ws, found in hits.items():
            profiles = event_profiles(
                session,
                workspace_id=ws,
                ids=[(r.get("user_id"), r.get("anonymous_id")) for _, r in found],
            )
            known = [(n, r, p) for (n, r), p in zip(found, profiles, strict=True) if p]
            created = self._enter(session, index, ws, known, now)
            self._deliver(session, index, ws, known, created)

    def _enter(
        self,
        session: Session,
        index: _Index,
        ws: str,
        rows: list[tuple[int, EventRow, str]],
        now: datetime,
    ) -> dict[str, int]:
        """Entries of these rows into the workspace's journeys: the row number that created
        each new instance."""
        per_flow: dict[str, tuple[Flow, FlowDefinition, list[tuple[int, service.Entry]]]] = {}
        for n, row, profile_id in rows:
            at = _at(row)
            if now - at > MAX_EVENT_AGE:
                continue
            props = dict(row.get("properties") or {})
            for flow, definition, where in index.entries.get((ws, row.get("event") or ""), ()):
                if matches(where, props):
                    entry = service.Entry(profile_id, row["message_id"], props, at)
                    per_flow.setdefault(flow.id, (flow, definition, []))[2].append((n, entry))
        created: dict[str, int] = {}
        for flow, definition, entries in per_flow.values():
            ids = service.enter_many(
                session, flow=flow, definition=definition, entries=[e for _, e in entries], now=now
            )
            for (n, _), iid in zip(entries, ids, strict=True):
                if iid is not None:
                    created[iid] = n
        if created:
            self._wake_pending = True
        return created

    def _deliver(
        self,
        session: Session,
        index: _Index,
        ws: str,
        rows: list[tuple[int, EventRow, str]],
        created: dict[str, int],
    ) -> None:
        """Inbox rows for the instances waiting for these events (one read, one insert)."""
        heard = [(n, r, p) for n, r, p in rows if (r.get("event") or "") in index.listened]
        if not heard:
            return
        repo = InstanceRepository(session)
        waits = repo.waits_for(
            ws,
            sorted({r.get("event") or "" for _, r, _ in heard}),
            sorted({p for _, _, p in heard}),
            min(_at(r) for _, r, _ in heard),
        )
        by_key: dict[tuple[str, str], list[tuple[str, datetime]]] = {}
        for instance_id, event, profile_id, until in waits:
            by_key.setdefault((event, profile_id), []).append((instance_id, until))
        inbox: list[dict[str, Any]] = []
        for n, row, profile_id in heard:
            at, event = _at(row), row.get("event") or ""
            for instance_id in dict.fromkeys(
                i for i, until in by_key.get((event, profile_id), ()) if _aware(until) >= at
            ):
                if created.get(instance_id, -1) >= n:
                    continue  # an instance hears the rows after the one that created it
                inbox.append(
                    {
                        "workspace_id": ws,
                        "instance_id": instance_id,
                        "message_id": row["message_id"],
                        "event": event,
                        "properties": dict(row.get("properties") or {}),
                        "at": at,
                    }
                )
        if inbox and repo.add_inbox(inbox):
            self._wake_pending = True

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


def _at(row: EventRow) -> datetime:
    return datetime.fromtimestamp(row["timestamp"] / 1e6, UTC)


def _aware(moment: datetime) -> datetime:
    """The state store's times as stored (SQLite gives them back without a zone: UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _profile(session: Session, row: EventRow) -> str | None:
    return event_profile(
        session,
        workspace_id=row["workspace_id"],
        user_id=row.get("user_id"),
        anonymous_id=row.get("anonymous_id"),
    )
