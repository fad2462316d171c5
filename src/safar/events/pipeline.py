"""From acknowledged messages to stored facts.

``Applier`` is the one way events enter the stores (HTTP ingest, bulk import and the demo all
use it): drop duplicates, fold identities into the graph (state store, one transaction), then
append to the event store. ``Consumer`` runs it on the write-ahead log in the background and
checkpoints its progress; store and disk errors are retried, and only messages that fail
on their own are parked in the dead-letter file (``dead_letter.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session

from safar.db import Database
from safar.errors import is_transient
from safar.events.dead_letter import DeadLetters
from safar.events.dedupe import SeenFilter
from safar.events.ports import Resolver
from safar.events.rows import EventRow
from safar.events.store import EventStore
from safar.events.wal import WriteAheadLog

log = logging.getLogger("safar.pipeline")


@dataclass(slots=True)
class ApplyResult:
    inserted: int = 0
    duplicates: int = 0

    def __iadd__(self, other: ApplyResult) -> ApplyResult:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        return self


class Applier:
    def __init__(self, db: Database, store: EventStore, resolver: Resolver) -> None:
        self.db = db
        self.store = store
        self.resolver = resolver
        self.seen = SeenFilter(store.all_hashes())
        self._lock = threading.Lock()
        #: Called with the newly stored rows after each apply (text analysis, triggers, ...).
        #: A failing hook is logged and never loses or blocks the events themselves.
        self.hooks: list[Callable[[list[EventRow]], None]] = []
        #: Called with the state-store session and the new rows inside the identity
        #: transaction: writes that must not be lost if the event insert fails (scheduled
        #: jobs). They must be idempotent, since a failed apply is replayed.
        self.in_transaction: list[Callable[[Session, list[EventRow]], None]] = []

    def apply(self, rows: list[EventRow]) -> ApplyResult:
        """Store the rows not stored before. Identity first, so a crash in between replays."""
        with self._lock:
            fresh = self._fresh(rows)
            if fresh:
                with self.db.session() as session:
                    self.resolver.apply(session, fresh)
                    for write in self.in_transaction:
                        write(session, fresh)
                self.store.insert(fresh)
                self.seen.add([r["message_hash"] for r in fresh])
                for hook in self.hooks:
                    try:
                        hook(fresh)
                    except Exception:
                        log.exception("post-apply hook %r failed", hook)
            return ApplyResult(inserted=len(fresh), duplicates=len(rows) - len(fresh))

    def _fresh(self, rows: list[EventRow]) -> list[EventRow]:
        unique: dict[tuple[str, str], EventRow] = {}
        for row in rows:
            unique.setdefault((row["workspace_id"], row["message_id"]), row)
        candidates = list(unique.values())
        flags = self.seen.maybe_seen([r["message_hash"] for r in candidates])
        suspects: dict[str, list[EventRow]] = defaultdict(list)
        for row, flag in zip(candidates, flags, strict=True):
            if flag:
                suspects[row["workspace_id"]].append(row)
        if not suspects:
            return candidates
        stored: set[tuple[str, str]] = set()
        for ws, ws_rows in suspects.items():
            ids = self.store.existing_message_ids(ws, [r["message_hash"] for r in ws_rows])
            stored.update((ws, m) for m in ids)
        return [r for r in candidates if (r["workspace_id"], r["message_id"]) not in stored]


def store_rows_task(applier: Applier) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A scheduler task storing the events in ``payload["rows"]`` through the one ingestion
    path (de-duplicated by messageId, so a retried job stores nothing twice): how domains that
    write events of their own (survey answers, segment changes, journeys' traits and cases)
    get them stored after their unit of work commits."""

    def run(payload: dict[str, Any]) -> dict[str, Any]:
        result = applier.apply(list(payload.get("rows") or []))
        return {"inserted": result.inserted, "duplicates": result.duplicates}

    return run


def encode_record(rows: list[EventRow]) -> bytes:
    """One log record: the rows as JSON (every value of an ``EventRow`` survives the trip)."""
    return orjson.dumps(rows)


def decode_record(payload: bytes) -> list[EventRow]:
    """The rows of one log record, as ``encode_record`` wrote them; not validated again."""
    rows: list[EventRow] = orjson.loads(payload)
    return rows


#: Below this backlog the consumer waits ``GATHER_SECONDS`` for more before applying.
GATHER_BYTES = 4 * 1024 * 1024
GATHER_SECONDS = 0.05
#: A message is dead-lettered only after failing this many times in a row (deterministic).
MESSAGE_ATTEMPTS = 3


class Consumer:
    """Applies the WAL in the background; ``wait_applied`` lets callers read their writes.

    A batch that fails with a store or disk error is retried whole, with exponential backoff,
    and the position does not move: nothing is skipped and nothing is parked. A batch that
    fails otherwise is retried message by message; a message that fails ``MESSAGE_ATTEMPTS``
    times is moved to the dead-letter file. Every failure is logged and shown by ``status``.
    """

    def __init__(
        self,
        wal: WriteAheadLog,
        applier: Applier,
        *,
        batch_events: int,
        dead_letter: Path,
        backoff_s: float = 0.5,
        max_backoff_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.wal = wal
        self.applier = applier
        self.batch_events = batch_events
        self.dead_letters = DeadLetters(dead_letter)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.clock = clock
        self.applied = wal.read_checkpoint()
        self._checkpointed = self.applied
        self._checkpoint_at = clock()
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.failures = 0
        self.retries = 0
        self._retry_at = 0.0
        self._parked: set[tuple[str, str]] = set()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="safar-consumer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def notify(self, _position: int = 0) -> None:
        self._wake.set()

    def lag_bytes(self) -> int:
        return self.wal.position - self.applied

    def status(self) -> dict[str, Any]:
        """What ``/healthz`` shows: is the consumer keeping up, and if not, why."""
        now = self.clock()
        return {
            "log_position": self.wal.position,
            "applied_position": self.applied,
            "lag_bytes": self.lag_bytes(),
            "retrying": self.failures > 0,
            "consecutive_failures": self.failures,
            "retries": self.retries,
            "last_error": self.last_error,
            "last_error_seconds_ago": (
                None if self.last_error_at is None else round(now - self.last_error_at, 3)
            ),
            "next_retry_in_s": round(max(self._retry_at - now, 0.0), 3) if self.failures else 0,
            "dead_letters": self.dead_letters.count(),
            "skipped_records_at_open": self.wal.recovery.skipped_records,
            "quarantined": [g.quarantine for g in self.wal.recovery.gaps],
        }

    def wait_applied(self, position: int | None = None, timeout: float = 30.0) -> bool:
        target = self.wal.position if position is None else position
        self._wake.set()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.applied < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def drain(self) -> bool:
        """Apply everything in the log now, on the caller's thread (start-up, CLI, tests).

        A store or disk error is logged and left for the background retries (or the next
        start); returns whether the log was applied to its end.
        """
        try:
            while self._step():
                pass
        except Exception as exc:
            if not is_transient(exc):
                raise
            self._failed(exc)
            return False
        self._recovered()
        self._checkpoint(force=True)
        return True

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self.failures:
                # Backing off: commits must not cut the wait short, only a stop may.
                self._stopping.wait(max(self._retry_at - self.clock(), 0.0))
            else:
                self._wake.wait(0.5)
                # Let a trickle of small requests gather into one apply: each apply costs a
                # few fsyncs (state store, event store, checkpoint) that would otherwise
                # compete with the acknowledgement path's own for every request.
                if not self._stopping.is_set() and 0 < self.lag_bytes() < GATHER_BYTES:
                    self._stopping.wait(GATHER_SECONDS)
            self._wake.clear()
            try:
                while not self._stopping.is_set() and self._step():
                    pass
                self._recovered()
            except Exception as exc:
                self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        self.retries += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:500]
        self.last_error_at = self.clock()
        delay = min(self.backoff_s * 2 ** (self.failures - 1), self.max_backoff_s)
        self._retry_at = self.clock() + delay
        log.error(
            "consumer: applying from log position %d failed (%s); lag %d bytes; retry %d in %.1f s",
            self.applied,
            self.last_error,
            self.lag_bytes(),
            self.failures,
            delay,
            exc_info=self.failures == 1,
        )

    def _recovered(self) -> None:
        if self.failures:
            log.warning(
                "consumer: recovered after %d failed attempt(s); applied up to %d",
                self.failures,
                self.applied,
            )
            self.failures = 0

    def _step(self) -> bool:
        rows: list[EventRow] = []
        end = self.applied
        for pos, payload in self.wal.read_from(self.applied):
            rows.extend(decode_record(payload))
            end = pos
            if len(rows) >= self.batch_events:
                break
        if end == self.applied:
            return False
        try:
            self.applier.apply(rows)
        except Exception as exc:
            if is_transient(exc):
                raise
            log.warning("applying %d events failed (%r); isolating the bad ones", len(rows), exc)
            self._apply_one_by_one(rows)
        with self._cond:
            self.applied = end
            self._cond.notify_all()
        self._checkpoint(force=False)
        return True

    def _checkpoint(self, *, force: bool) -> None:
        """Record progress at most once a second: a replay from an older checkpoint is
        harmless (already stored messages are recognised), and every write is an fsync that
        the acknowledgement path would otherwise queue behind. A failed write (full disk)
        only means a longer replay, so it is logged and tried again later."""
        now = self.clock()
        if self.applied != self._checkpointed and (force or now - self._checkpoint_at >= 1.0):
            self._checkpoint_at = now
            try:
                self.wal.write_checkpoint(self.applied)
            except OSError as exc:
                log.warning("consumer: checkpoint at %d not written (%s)", self.applied, exc)
                return
            self._checkpointed = self.applied

    def _apply_one_by_one(self, rows: list[EventRow]) -> None:
        """Apply each row alone; park only rows that fail every attempt for their own sake.

        A store error on any row propagates: the whole batch is retried later, and the rows
        already stored are recognised as duplicates then.
        """
        for row in rows:
            error: BaseException | None = None
            for _ in range(MESSAGE_ATTEMPTS):
                try:
                    self.applier.apply([row])
                    error = None
                    break
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    error = exc
            if error is None:
                continue
            key = (str(row.get("workspace_id")), str(row.get("message_id")))
            if key in self._parked:
                continue
            self.dead_letters.park(row, repr(error))
            self._parked.add(key)
            log.error("event %s moved to the dead-letter file: %r", key[1], error)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._checkpoint(force=True)
