"""Ingest write-ahead log: the durable acknowledgement point.

A request is answered only after its validated events are appended here and fsynced; many
concurrent requests share one fsync (group commit). A consumer thread later applies the log to
the identity graph and the event store and records how far it got in a checkpoint, so a crash
at any moment loses nothing that was acknowledged: on restart the log is replayed from the
checkpoint, and de-duplication by messageId makes the replay idempotent.

Record layout: ``<length u32><crc32 u32><payload>``; a torn record at the tail (a crash while
writing, never acknowledged) is cut off when the log is opened.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import queue
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger("safar.wal")
HEADER = struct.Struct("<II")
SEGMENT_BYTES = 64 * 1024 * 1024


class WriteAheadLog:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        segments = self.segments()
        if not segments:
            self._open_segment(0)
        else:
            start = segments[-1]
            end = self._valid_end(self._path(start))
            size = self._path(start).stat().st_size
            if end != size:
                log.warning("WAL: cutting %d torn bytes off segment %d", size - end, start)
                with open(self._path(start), "r+b") as f:
                    f.truncate(end)
                    os.fsync(f.fileno())
            self._seg_start = start
            self._fd = os.open(self._path(start), os.O_WRONLY | os.O_APPEND)
            self._pos = start + end

    # -- layout -----------------------------------------------------------------------------
    def _path(self, start: int) -> Path:
        return self.dir / f"{start:020d}.wal"

    def segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.dir.glob("*.wal"))

    def _open_segment(self, start: int) -> None:
        self._seg_start = start
        self._fd = os.open(self._path(start), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._pos = start
        dir_fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @staticmethod
    def _valid_end(path: Path) -> int:
        end = 0
        with open(path, "rb") as f:
            data = f.read()
        while end + HEADER.size <= len(data):
            length, crc = HEADER.unpack_from(data, end)
            body = data[end + HEADER.size : end + HEADER.size + length]
            if len(body) < length or zlib.crc32(body) != crc:
                break
            end += HEADER.size + length
        return end

    @property
    def position(self) -> int:
        return self._pos

    # -- writing ----------------------------------------------------------------------------
    def append_many(self, payloads: list[bytes]) -> int:
        """Append and fsync; return the log position after the last record."""
        buf = b"".join(HEADER.pack(len(p), zlib.crc32(p)) + p for p in payloads)
        with self._lock:
            if (
                self._pos - self._seg_start + len(buf) > SEGMENT_BYTES
                and self._pos > self._seg_start
            ):
                os.close(self._fd)
                self._open_segment(self._pos)
            view = memoryview(buf)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
            self._pos += len(buf)
            return self._pos

    # -- reading ----------------------------------------------------------------------------
    def read_from(
        self, position: int, max_bytes: int = 32 * 1024 * 1024
    ) -> Iterator[tuple[int, bytes]]:
        """Yield (position after record, payload) from ``position`` up to what is fsynced."""
        limit = self._pos
        taken = 0
        for start in self.segments():
            path = self._path(start)
            size = path.stat().st_size
            if start + size <= position:
                continue
            with open(path, "rb") as f:
                offset = max(position - start, 0)
                f.seek(offset)
                while start + offset < limit and taken < max_bytes:
                    head = f.read(HEADER.size)
                    if len(head) < HEADER.size:
                        break
                    length, crc = HEADER.unpack(head)
                    body = f.read(length)
                    if len(body) < length or zlib.crc32(body) != crc:
                        break
                    offset += HEADER.size + length
                    taken += HEADER.size + length
                    yield start + offset, body
            if taken >= max_bytes:
                return

    # -- checkpoint ---------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.dir / "checkpoint"

    def read_checkpoint(self) -> int:
        try:
            return int(self.checkpoint_path.read_text().strip() or 0)
        except FileNotFoundError:
            return self.segments()[0] if self.segments() else 0

    def write_checkpoint(self, position: int) -> None:
        tmp = self.checkpoint_path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            f.write(str(position))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.checkpoint_path)
        # Whole segments before the checkpoint are applied: drop them.
        segments = self.segments()
        for start, nxt in itertools.pairwise(segments):
            if nxt <= position:
                self._path(start).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            os.close(self._fd)


class GroupCommitter:
    """Gathers concurrent appends into one write + fsync on a dedicated thread."""

    def __init__(
        self,
        wal: WriteAheadLog,
        *,
        linger_s: float = 0.001,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.wal = wal
        self.linger_s = linger_s
        self.on_commit = on_commit
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="safar-wal", daemon=True)
        self._thread.start()

    async def append(self, payload: bytes) -> int:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        self._q.put((payload, loop, fut))
        return await fut

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            items = [item]
            deadline = time.monotonic() + self.linger_s
            stop = False
            while True:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(self.linger_s / 4)
                    continue
                if nxt is None:
                    stop = True
                    break
                items.append(nxt)
            try:
                pos = self.wal.append_many([i[0] for i in items])
                error: BaseException | None = None
            except BaseException as exc:
                log.exception("WAL append failed")
                pos, error = -1, exc
            for _, loop, fut in items:
                loop.call_soon_threadsafe(_resolve, fut, pos, error)
            if error is None and self.on_commit is not None:
                self.on_commit(pos)
            if stop:
                return

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(timeout=10)


def _resolve(fut: asyncio.Future[int], pos: int, error: BaseException | None) -> None:
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(pos)
