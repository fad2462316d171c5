"""Analyse text-bearing events as they arrive, off the ingestion path.

``TextIngestHook`` is registered in ``Applier.hooks``: it only picks the texts out of the new
rows and queues them, so ingestion never waits on a model. One worker thread drains the queue
in batches, analyses and appends the results to ``text_analyses``. Events whose analysis is
lost in a crash can be re-analysed from the event store (the text stays with the event).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from safar.events.rows import EventRow
from safar.events.store import EventStore

if TYPE_CHECKING:
    from safar.text.pipeline import Analyzer
from safar.text.repository import ensure_table, insert_analyses

log = logging.getLogger("safar.text")

#: Properties that carry customer-written text, in order of preference.
TEXT_FIELDS = ("text", "comment", "review", "message", "body", "feedback", "content", "answer")
MAX_BATCH = 256


def extract_text(row: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (field, text) of a track/page/screen event that carries customer text, if any."""
    if row.get("type") not in ("track", "page", "screen"):
        return None
    props = row.get("properties")
    if isinstance(props, str):
        try:
            props = orjson.loads(props)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(props, dict):
        return None
    for name in TEXT_FIELDS:
        value = props.get(name)
        if isinstance(value, str) and value.strip():
            return name, value
    return None


class TextWorker:
    """Background analysis of queued event texts; ``wait_idle`` lets tests read results."""

    def __init__(self, store: EventStore, analyzer_factory: Callable[[], Analyzer]) -> None:
        self.store = store
        self._factory = analyzer_factory
        self._analyzer: Analyzer | None = None
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=100_000)
        self._pending = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="safar-text", daemon=True)
        self.analysed = 0
        self.dropped = 0
        #: Called with each batch of stored analyses (with the event's user and anonymous id),
        #: after the insert: journeys enter on a negative complaint. A failing listener is logged.
        self.listeners: list[Callable[[list[dict[str, Any]]], None]] = []
        self._table_ready = False

    def start(self) -> None:
        self._thread.start()

    def hook(self, rows: list[EventRow]) -> None:
        """Applier hook: queue the texts of the new rows and return at once."""
        for row in rows:
            found = extract_text(row)
            if found is None:
                continue
            item = {
                "workspace_id": row["workspace_id"],
                "message_id": row["message_id"],
                "event_timestamp": row.get("timestamp"),
                "source_field": found[0],
                "text": found[1],
                "user_id": row.get("user_id"),
                "anonymous_id": row.get("anonymous_id"),
            }
            with self._cond:
                self._pending += 1
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()
                self.dropped += 1
                log.warning("text queue full; %s left unanalysed", row["message_id"])

    def wait_idle(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                self._process(batch)
            except Exception:
                log.exception("text analysis of %d events failed", len(batch))
            finally:
                with self._cond:
                    self._pending -= len(batch)
                    self._cond.notify_all()
            if stop:
                return

    def _process(self, batch: list[dict[str, Any]]) -> None:
        if self._analyzer is None:
            self._analyzer = self._factory()
        results = self._analyzer.analyze([b["text"] for b in batch])
        rows = []
        for item, res in zip(batch, results, strict=True):
            rows.append(
                {
                    "workspace_id": item["workspace_id"],
                    "message_id": item["message_id"],
                    "event_timestamp": _ts(item["event_timestamp"]),
                    "source_field": item["source_field"],
                    "language": res.language,
                    "sentiment_label": res.sentiment.label if res.sentiment else None,
                    "sentiment_score": res.polarity,
                    "sentiment_confidence": res.sentiment.score if res.sentiment else None,
                    "emotion": res.emotion.label if res.emotion else None,
                    "emotion_score": res.emotion.score if res.emotion else None,
                    "intent": res.intent.label if res.intent else None,
                    "intent_score": res.intent.score if res.intent else None,
                    "category": res.category.label if res.category else None,
                    "category_score": res.category.score if res.category else None,
                    "key_phrases": orjson.dumps(res.key_phrases).decode(),
                    "actionable": res.actionable,
                    "flags": orjson.dumps(res.flags).decode(),
                    "error": res.error,
                    "model_version": res.model_version,
                }
            )
        if not self._table_ready:
            ensure_table(self.store)
            self._table_ready = True
        insert_analyses(self.store, rows)
        self.analysed += len(rows)
        if self.listeners:
            people = [
                dict(row, user_id=item.get("user_id"), anonymous_id=item.get("anonymous_id"))
                for item, row in zip(batch, rows, strict=True)
            ]
            for listener in self.listeners:
                try:
                    listener(people)
                except Exception:
                    log.exception("a text-analysis listener failed")

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then end the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)


def _ts(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        # Event rows carry microseconds since the epoch.
        from datetime import UTC

        return datetime.fromtimestamp(value / 1_000_000, tz=UTC)
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
