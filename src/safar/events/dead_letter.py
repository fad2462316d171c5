"""Parked messages: the ones that failed to apply on every retry, kept until replayed.

Only deterministic failures land here (a message the Applier refuses each time); disk and
store errors are retried by the consumer instead. Each line of ``dead-letter.jsonl`` is
``{"error", "at", "row"}``. ``replay`` applies the rows again through the ``Applier``
(idempotent: a row already stored is recognised) and keeps only the ones that still fail.
Writers and the replay take one ``flock`` on a side file, so a replay never loses a line
parked meanwhile.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from safar.events.rows import EventRow

if TYPE_CHECKING:
    from safar.events.pipeline import Applier

log = logging.getLogger("safar.pipeline")
#: In the data dir.
FILE_NAME = "dead-letter.jsonl"


@dataclass(slots=True)
class Parked:
    error: str
    at: str
    #: As parked; a hand-edited file may not hold to ``EventRow``, and the Applier decides.
    row: EventRow

    @property
    def key(self) -> tuple[str, str]:
        return str(self.row.get("workspace_id")), str(self.row.get("message_id"))

    def summary(self) -> dict[str, Any]:
        return {
            "workspace_id": self.row.get("workspace_id"),
            "message_id": self.row.get("message_id"),
            "type": self.row.get("type"),
            "event": self.row.get("event"),
            "at": self.at,
            "error": self.error,
        }


@dataclass(slots=True)
class ReplayResult:
    replayed: int = 0
    inserted: int = 0
    still_failing: int = 0


class DeadLetters:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")
        self._count: int | None = None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def park(self, row: EventRow, error: str) -> None:
        """Append durably; an ``OSError`` propagates so the caller retries, losing nothing."""
        line = orjson.dumps({"error": error, "at": _now(), "row": row}) + b"\n"
        with self._locked():
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                try:
                    os.write(fd, line)
                    os.fsync(fd)
                except OSError:
                    os.ftruncate(fd, size)  # no half line for the next reader
                    raise
            finally:
                os.close(fd)
        if self._count is not None:
            self._count += 1

    def entries(self) -> list[Parked]:
        """Every parked message, once per (workspace, messageId), the latest error kept."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        by_key: dict[tuple[str, str], Parked] = {}
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                item = orjson.loads(line)
                parked = Parked(str(item.get("error")), str(item.get("at", "")), item["row"])
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
                log.error("dead-letter file %s: unreadable line skipped", self.path)
                continue
            by_key[parked.key] = parked
        return list(by_key.values())

    def count(self) -> int:
        if self._count is None:
            self._count = len(self.entries())
        return self._count

    def replay(self, applier: Applier, *, message_ids: set[str] | None = None) -> ReplayResult:
        """Apply parked rows again; the file keeps only those that still fail."""
        result = ReplayResult()
        with self._locked():
            keep: list[Parked] = []
            for parked in self.entries():
                if message_ids is not None and parked.key[1] not in message_ids:
                    keep.append(parked)
                    continue
                result.replayed += 1
                try:
                    result.inserted += applier.apply([parked.row]).inserted
                except Exception as exc:
                    result.still_failing += 1
                    keep.append(Parked(repr(exc), _now(), parked.row))
            self._rewrite(keep)
        self._count = None
        return result

    def _rewrite(self, keep: list[Parked]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as f:
            for p in keep:
                f.write(orjson.dumps({"error": p.error, "at": p.at, "row": p.row}) + b"\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def _now() -> str:
    return datetime.now(UTC).isoformat()
