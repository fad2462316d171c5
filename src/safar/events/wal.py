"""Ingest write-ahead log: the durable acknowledgement point.

A request is answered only after its validated events are appended here and fsynced; many
concurrent requests share one fsync (group commit). A consumer thread later applies the log to
the identity graph and the event store and records how far it got in a checkpoint, so a crash
at any moment loses nothing that was acknowledged: on restart the log is replayed from the
checkpoint, and de-duplication by messageId makes the replay idempotent.

Record layout: ``<magic 4><seq u64><length u32><crc32 u32><payload>``, the CRC covering the
sequence number, the length and the payload. The magic's bytes 0xFE and 0xFF never occur in
UTF-8 text, so after a corrupt record the reader finds the next one by searching for it; the
sequence numbers say how many records a damaged stretch held. Opening the log copies damaged
bytes to ``quarantine/`` (and zeroes them in the segment), cuts a torn tail, and reports what
it skipped in ``recovery``. A failed append (a full disk) is truncated back to the last good
record before anything else is written. Segments written before this layout
(``<length u32><crc32 u32><payload>``) are still read; new records go to a new segment.
"""

from __future__ import annotations

import itertools
import logging
import mmap
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("safar.wal")
#: As a little-endian u32 this is larger than any record, so it never reads as a legacy length.
MAGIC = b"\xfeW\xa1\xff"
HEADER = struct.Struct("<4sQII")
_SEQ_LEN = struct.Struct("<QI")
LEGACY_HEADER = struct.Struct("<II")
SEGMENT_BYTES = 64 * 1024 * 1024


def frame(seq: int, payload: bytes) -> bytes:
    """One record: header (magic, sequence number, length, CRC) and the payload."""
    crc = zlib.crc32(payload, zlib.crc32(_SEQ_LEN.pack(seq, len(payload))))
    return HEADER.pack(MAGIC, seq, len(payload), crc) + payload


@dataclass(slots=True)
class Gap:
    """A damaged stretch of a segment: where, how long, and how many records it held."""

    segment: int
    offset: int
    length: int
    records: int
    tail: bool
    quarantine: str | None = None


@dataclass(slots=True)
class Recovery:
    """What opening the log found; shown in ``/healthz``."""

    gaps: list[Gap] = field(default_factory=list)

    @property
    def skipped_records(self) -> int:
        return sum(g.records for g in self.gaps)

    @property
    def skipped_bytes(self) -> int:
        return sum(g.length for g in self.gaps)


def _record_at(buf: mmap.mmap | bytes, off: int, end: int) -> tuple[int, int, bytes] | None:
    """(seq, end of record, payload) when a whole valid record starts at ``off``, else None."""
    if off + HEADER.size > end:
        return None
    magic, seq, length, crc = HEADER.unpack_from(buf, off)
    stop = off + HEADER.size + length
    if magic != MAGIC or stop > end:
        return None
    body = buf[off + HEADER.size : stop]
    if zlib.crc32(body, zlib.crc32(_SEQ_LEN.pack(seq, length))) != crc:
        return None
    return seq, stop, body


def _resync(buf: mmap.mmap | bytes, off: int, end: int) -> int:
    """Offset of the next valid record after ``off`` (``end`` when there is none)."""
    at = off
    while True:
        at = buf.find(MAGIC, at + 1, end)
        if at < 0:
            return end
        if _record_at(buf, at, end) is not None:
            return at


def _is_legacy(path: Path) -> bool:
    """Whether the segment starts with a valid record of the layout before sequence numbers.

    Decided by validating that first record, not by the absence of the magic: a new segment
    whose first record is damaged (or was zeroed by quarantine) is still read as new.
    """
    with open(path, "rb") as f:
        head = f.read(LEGACY_HEADER.size)
        if len(head) < LEGACY_HEADER.size or head.startswith(MAGIC):
            return False
        length, crc = LEGACY_HEADER.unpack(head)
        if length == 0:
            return False
        body = f.read(length)
    return len(body) == length and bool(zlib.crc32(body) == crc)


class WriteAheadLog:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._legacy: dict[int, bool] = {}
        #: The error of an append whose bytes could not be cut off yet; appends repair first.
        self._broken: OSError | None = None
        self.recovery = Recovery()
        #: Damaged records met while reading after the log was opened (new corruption).
        self.skipped_while_reading = 0
        segments = self.segments()
        if not segments:
            self._seq = 0
            self._open_segment(0)
            return
        self._recover(segments)
        last = segments[-1]
        size = self._path(last).stat().st_size
        self._seq = self._next_seq(segments)
        if _is_legacy(self._path(last)):
            # Never mix layouts in one segment: new records start a fresh one.
            self._open_segment(last + size)
        else:
            self._seg_start = last
            self._fd = os.open(self._path(last), os.O_WRONLY | os.O_APPEND)
            self._pos = last + size

    # -- layout -----------------------------------------------------------------------------
    def _path(self, start: int) -> Path:
        return self.dir / f"{start:020d}.wal"

    def segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.dir.glob("*.wal"))

    @property
    def quarantine_dir(self) -> Path:
        return self.dir / "quarantine"

    def _open_segment(self, start: int) -> None:
        fd = os.open(self._path(start), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _fsync_dir(self.dir)
        except OSError:
            os.close(fd)
            self._path(start).unlink(missing_ok=True)
            raise
        self._seg_start, self._fd, self._pos = start, fd, start

    @property
    def position(self) -> int:
        return self._pos

    # -- recovery -----------------------------------------------------------------------------
    def _recover(self, segments: list[int]) -> None:
        """Cut torn tails and quarantine damaged records after the checkpoint."""
        checkpoint = self.read_checkpoint()
        last = segments[-1]
        for start in segments:
            path = self._path(start)
            size = path.stat().st_size
            if start + size <= checkpoint or size == 0:
                continue
            if _is_legacy(path):
                end = _legacy_valid_end(path)
                if start == last and end != size:
                    self._cut(path, start, end, size, records=1)
                continue
            self._scan_segment(path, start, size, max(checkpoint - start, 0), start == last)
        for gap in self.recovery.gaps:
            level = logging.WARNING if gap.tail else logging.ERROR
            log.log(
                level,
                "WAL: %s in segment %d at offset %d: %d bytes, %d record(s) skipped; copy in %s",
                "torn tail" if gap.tail else "corrupt record(s)",
                gap.segment,
                gap.offset,
                gap.length,
                gap.records,
                gap.quarantine,
            )

    def _scan_segment(self, path: Path, start: int, size: int, off: int, last: bool) -> None:
        gaps: list[tuple[int, int, int]] = []  # (offset, end, records)
        prev_seq: int | None = None
        with open(path, "rb") as f, mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ) as m:
            while off < size:
                found = _record_at(m, off, size)
                if found is not None:
                    prev_seq, off, _ = found
                    continue
                nxt = _resync(m, off, size)
                # A zeroed stretch is one quarantined before; a zeroed tail is still cut.
                if m[off:nxt].count(0) != nxt - off or (last and nxt == size):
                    after = _record_at(m, nxt, size) if nxt < size else None
                    if after is not None and prev_seq is not None:
                        records = max(after[0] - prev_seq - 1, 1)
                    else:
                        records = max(m[off:nxt].count(MAGIC), 1)
                    gaps.append((off, nxt, records))
                off = nxt
        for g_off, g_end, records in gaps:
            if last and g_end == size:
                self._cut(path, start, g_off, size, records=records)
            else:
                self._quarantine(path, start, g_off, g_end, records)

    def _quarantine(self, path: Path, start: int, off: int, end: int, records: int) -> None:
        """Copy the damaged bytes aside, then zero them so they are never parsed again."""
        copy = self._keep_copy(path, start, off, end)
        with open(path, "r+b") as f:
            f.seek(off)
            f.write(bytes(end - off))
            f.flush()
            os.fsync(f.fileno())
        self.recovery.gaps.append(Gap(start, off, end - off, records, False, copy))

    def _cut(self, path: Path, start: int, end: int, size: int, *, records: int) -> None:
        copy = self._keep_copy(path, start, end, size)
        with open(path, "r+b") as f:
            f.truncate(end)
            os.fsync(f.fileno())
        self.recovery.gaps.append(Gap(start, end, size - end, records, True, copy))

    def _keep_copy(self, path: Path, start: int, off: int, end: int) -> str | None:
        """Copy the bytes to ``quarantine/``; None (logged) when the disk has no room."""
        target = self.quarantine_dir / f"{start:020d}-{off:012d}.bad"
        try:
            self.quarantine_dir.mkdir(exist_ok=True)
            with open(path, "rb") as src, open(target, "wb") as dst:
                src.seek(off)
                dst.write(src.read(end - off))
                dst.flush()
                os.fsync(dst.fileno())
            _fsync_dir(self.quarantine_dir)
        except OSError as exc:
            # The log must still open (a full disk is what we recover from): the damaged
            # bytes are already unreadable, so only their copy is lost.
            log.error(
                "WAL: no quarantine copy of %d bytes at %s:%d (%s)", end - off, path, off, exc
            )
            target.unlink(missing_ok=True)
            return None
        return str(target.relative_to(self.dir))

    def _next_seq(self, segments: list[int]) -> int:
        for start in reversed(segments):
            path = self._path(start)
            size = path.stat().st_size
            if size == 0 or _is_legacy(path):
                continue
            last_seq = -1
            with open(path, "rb") as f, mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ) as m:
                off = 0
                while off < size:
                    found = _record_at(m, off, size)
                    if found is None:
                        off = _resync(m, off, size)
                        continue
                    last_seq, off, _ = found
            if last_seq >= 0:
                return last_seq + 1
        return 0

    # -- writing ----------------------------------------------------------------------------
    def append_many(self, payloads: list[bytes]) -> int:
        """Append and fsync; return the log position after the last record.

        On an ``OSError`` (ENOSPC, EIO) the segment is truncated back to the last good record
        and fsynced before the error is raised; if even that fails, the next append repairs
        first and raises again rather than write after unacknowledged bytes.
        """
        with self._lock:
            if self._broken is not None:
                self._repair()
            seq = self._seq
            buf = b"".join(frame(seq + i, p) for i, p in enumerate(payloads))
            if (
                self._pos - self._seg_start + len(buf) > SEGMENT_BYTES
                and self._pos > self._seg_start
            ):
                old = self._fd
                self._open_segment(self._pos)
                os.close(old)
            try:
                view = memoryview(buf)
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
                os.fsync(self._fd)
            except OSError as exc:
                self._broken = exc
                try:
                    self._repair()
                except OSError:
                    log.exception("WAL: cannot cut the failed append off yet; will retry")
                raise
            self._pos += len(buf)
            self._seq = seq + len(payloads)
            return self._pos

    def _repair(self) -> None:
        good = self._pos - self._seg_start
        if os.fstat(self._fd).st_size != good:
            os.ftruncate(self._fd, good)
        os.fsync(self._fd)
        if self._broken is not None:
            log.warning("WAL: cut a failed append (%s) back to position %d", self._broken, good)
        self._broken = None

    # -- reading ----------------------------------------------------------------------------
    def read_from(
        self, position: int, max_bytes: int = 32 * 1024 * 1024
    ) -> Iterator[tuple[int, bytes]]:
        """Yield (position after record, payload) from ``position`` up to what is fsynced."""
        limit = self._pos
        taken = 0
        for start in self.segments():
            path = self._path(start)
            try:
                size = min(path.stat().st_size, limit - start)
            except FileNotFoundError:
                continue  # dropped by a checkpoint meanwhile: already applied
            if size <= 0 or start + size <= position:
                continue
            legacy = self._legacy.get(start)
            if legacy is None:
                legacy = self._legacy[start] = _is_legacy(path)
            reader = _legacy_records if legacy else self._records
            for end, body in reader(path, size, max(position - start, 0)):
                taken += len(body)
                yield start + end, body
                if taken >= max_bytes:
                    return

    def _records(self, path: Path, size: int, off: int) -> Iterator[tuple[int, bytes]]:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ) as m:
            while off < size:
                found = _record_at(m, off, size)
                if found is None:
                    nxt = _resync(m, off, size)
                    if m[off:nxt].count(0) != nxt - off:
                        self.skipped_while_reading += 1
                        log.error("WAL: skipped %d damaged bytes at %s:%d", nxt - off, path, off)
                    off = nxt
                    continue
                _, off, body = found
                yield off, body

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


def _fsync_dir(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _legacy_valid_end(path: Path) -> int:
    ends = [end for end, _ in _legacy_records(path, path.stat().st_size, 0)]
    return ends[-1] if ends else 0


def _legacy_records(path: Path, size: int, off: int) -> Iterator[tuple[int, bytes]]:
    """Records of a segment in the layout before sequence numbers; stops at damage."""
    with open(path, "rb") as f:
        f.seek(off)
        while off + LEGACY_HEADER.size <= size:
            length, crc = LEGACY_HEADER.unpack(f.read(LEGACY_HEADER.size))
            body = f.read(length)
            if len(body) < length or off + LEGACY_HEADER.size + length > size:
                return
            if zlib.crc32(body) != crc:
                return
            off += LEGACY_HEADER.size + length
            yield off, body
