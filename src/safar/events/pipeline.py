"""From acknowledged messages to stored facts.

``Applier`` is the one way events enter the stores (HTTP ingest, bulk import and the demo all
use it): drop duplicates, fold identities into the graph (state store, one transaction), then
append to the event store. ``Consumer`` runs it on the write-ahead log in the background and
checkpoints its progress.
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

from safar.db import Database
from safar.events.dedupe import SeenFilter
from safar.events.ports import Resolver
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
        self.hooks: list[Callable[[list[dict[str, Any]]], None]] = []

    def apply(self, rows: list[dict[str, Any]]) -> ApplyResult:
        """Store the rows not stored before. Identity first, so a crash in between replays."""
        with self._lock:
            fresh = self._fresh(rows)
            if fresh:
                with self.db.session() as session:
                    self.resolver.apply(session, fresh)
                self.store.insert(fresh)
                self.seen.add([r["message_hash"] for r in fresh])
                for hook in self.hooks:
                    try:
                        hook(fresh)
                    except Exception:
                        log.exception("post-apply hook %r failed", hook)
            return ApplyResult(inserted=len(fresh), duplicates=len(rows) - len(fresh))

    def _fresh(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        unique: dict[tuple[str, str], dict[str, Any]] = {}
        for row in rows:
            unique.setdefault((row["workspace_id"], row["message_id"]), row)
        candidates = list(unique.values())
        flags = self.seen.maybe_seen([r["message_hash"] for r in candidates])
        suspects: dict[str, list[dict[str, Any]]] = defaultdict(list)
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


def encode_record(rows: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(rows)


def decode_record(payload: bytes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = orjson.loads(payload)
    return rows


#: Below this backlog the consumer waits ``GATHER_SECONDS`` for more before applying.
GATHER_BYTES = 4 * 1024 * 1024
GATHER_SECONDS = 0.05


class Consumer:
    """Applies the WAL in the background; ``wait_applied`` lets callers read their writes."""

    def __init__(
        self, wal: WriteAheadLog, applier: Applier, *, batch_events: int, dead_letter: Path
    ) -> None:
        self.wal = wal
        self.applier = applier
        self.batch_events = batch_events
        self.dead_letter = dead_letter
        self.applied = wal.read_checkpoint()
        self._checkpointed = self.applied
        self._checkpoint_at = time.monotonic()
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="safar-consumer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def notify(self, _position: int = 0) -> None:
        self._wake.set()

    def lag_bytes(self) -> int:
        return self.wal.position - self.applied

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

    def drain(self) -> None:
        """Apply everything in the log now, on the caller's thread (CLI and tests)."""
        while self._step():
            pass
        self._checkpoint(force=True)

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(0.5)
            # Let a trickle of small requests gather into one apply: each apply costs a few
            # fsyncs (state store, event store, checkpoint) that would otherwise compete with
            # the acknowledgement path's own for every request.
            if not self._stop and 0 < self.lag_bytes() < GATHER_BYTES:
                time.sleep(GATHER_SECONDS)
            self._wake.clear()
            try:
                while not self._stop and self._step():
                    pass
            except Exception:
                log.exception("consumer step failed; retrying in 1 s")
                time.sleep(1)

    def _step(self) -> bool:
        rows: list[dict[str, Any]] = []
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
            self.last_error = repr(exc)
            log.exception("applying %d events failed; isolating the bad ones", len(rows))
            self._apply_one_by_one(rows)
        with self._cond:
            self.applied = end
            self._cond.notify_all()
        self._checkpoint(force=False)
        return True

    def _checkpoint(self, *, force: bool) -> None:
        """Record progress at most once a second: a replay from an older checkpoint is
        harmless (already stored messages are recognised), and every write is an fsync that
        the acknowledgement path would otherwise queue behind."""
        now = time.monotonic()
        if self.applied != self._checkpointed and (force or now - self._checkpoint_at >= 1.0):
            self.wal.write_checkpoint(self.applied)
            self._checkpointed = self.applied
            self._checkpoint_at = now

    def _apply_one_by_one(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            try:
                self.applier.apply([row])
            except Exception as exc:
                log.error("event %s moved to the dead-letter file: %r", row.get("message_id"), exc)
                with open(self.dead_letter, "ab") as f:
                    f.write(orjson.dumps({"error": repr(exc), "row": row}) + b"\n")

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._checkpoint(force=True)
