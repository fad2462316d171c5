"""The write-ahead log: torn tails are cut, corrupt records are skipped and quarantined, old
segments stay readable, and replays after a crash are idempotent."""

from __future__ import annotations

import asyncio
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from safar.app import create_app
from safar.config import Settings
from safar.events.messages import normalize, parse_message
from safar.events.pipeline import encode_record
from safar.events.wal import HEADER, MAGIC, WriteAheadLog, frame
from safar.identity.models import ConsentRecord, Identity, Profile, TraitValue
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace

RECORDS = [b'{"n":1}', b'{"n":2}', b"x" * 5000]


def _segment(wal_dir: Path) -> Path:
    (path,) = sorted(wal_dir.glob("*.wal"))
    return path


def _payloads(wal: WriteAheadLog) -> list[bytes]:
    return [payload for _, payload in wal.read_from(0)]


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(MAGIC + b"\x01\x00", id="part of a header"),
        pytest.param(frame(3, b"x" * 100)[: HEADER.size + 10], id="body shorter than its length"),
        pytest.param(frame(3, b"abcd")[:-1] + b"e", id="whole record, wrong checksum"),
    ],
)
def test_a_torn_tail_is_cut_and_the_log_stays_usable(tmp_path: Path, tail: bytes) -> None:
    wal = WriteAheadLog(tmp_path)
    end = wal.append_many(RECORDS)
    wal.close()
    with open(_segment(tmp_path), "ab") as f:
        f.write(tail)

    reopened = WriteAheadLog(tmp_path)
    assert reopened.position == end
    assert _segment(tmp_path).stat().st_size == end
    assert _payloads(reopened) == RECORDS
    (gap,) = reopened.recovery.gaps
    assert gap.tail and gap.length == len(tail)
    assert gap.quarantine and (tmp_path / gap.quarantine).read_bytes() == tail
    after = reopened.append_many([b'{"n":4}'])
    reopened.close()

    again = WriteAheadLog(tmp_path)
    assert again.position == after
    assert _payloads(again) == [*RECORDS, b'{"n":4}']
    assert again.recovery.gaps == []
    again.close()


def test_a_flipped_byte_in_the_last_record_drops_only_that_record(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path)
    wal.append_many(RECORDS[:2])
    end_of_two = wal.position
    wal.append_many(RECORDS[2:])
    wal.close()
    data = bytearray(_segment(tmp_path).read_bytes())
    data[-10] ^= 0xFF
    _segment(tmp_path).write_bytes(bytes(data))
    reopened = WriteAheadLog(tmp_path)
    assert reopened.position == end_of_two
    assert _payloads(reopened) == RECORDS[:2]
    assert reopened.recovery.skipped_records == 1
    reopened.close()


@pytest.mark.parametrize(("damaged", "where"), [(1, "payload"), (3, "payload"), (1, "length")])
def test_corrupt_records_mid_segment_lose_only_themselves(
    tmp_path: Path, damaged: int, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    payloads = [f'{{"n":{i},"pad":"{"p" * 200}"}}'.encode() for i in range(20)]
    wal = WriteAheadLog(tmp_path)
    starts = []
    for p in payloads:
        starts.append(wal.position)
        wal.append_many([p])
    end = wal.position
    wal.close()
    data = bytearray(_segment(tmp_path).read_bytes())
    bad = list(range(8, 8 + damaged))
    for i in bad:
        # A byte in the middle of the record's payload, or one of its length field's.
        at = starts[i] + (HEADER.size + 100 if where == "payload" else 12)
        data[at] ^= 0x5A
    _segment(tmp_path).write_bytes(bytes(data))
    damaged_bytes = bytes(data[starts[bad[0]] : starts[bad[-1] + 1]])

    reopened = WriteAheadLog(tmp_path)
    assert _payloads(reopened) == [p for i, p in enumerate(payloads) if i not in bad]
    assert reopened.position == end
    assert reopened.recovery.skipped_records == damaged
    (gap,) = reopened.recovery.gaps
    assert (gap.offset, gap.tail) == (starts[bad[0]], False)
    assert gap.quarantine and (tmp_path / gap.quarantine).read_bytes() == damaged_bytes
    assert f"{damaged} record(s) skipped" in caplog.text
    later = reopened.append_many([b'{"n":"later"}'])
    reopened.close()

    # Reported once: the damaged bytes were moved out, so the next open finds a clean log.
    again = WriteAheadLog(tmp_path)
    assert again.recovery.gaps == []
    assert again.position == later
    assert _payloads(again)[-1] == b'{"n":"later"}'
    again.close()


def test_a_damaged_first_record_keeps_the_segment_in_the_new_layout(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path)
    wal.append_many(RECORDS)
    wal.close()
    data = bytearray(_segment(tmp_path).read_bytes())
    data[0] ^= 0xFF  # the first record's magic
    _segment(tmp_path).write_bytes(bytes(data))
    for _ in range(2):  # damaged, then zeroed by the quarantine: the same records either way
        reopened = WriteAheadLog(tmp_path)
        assert _payloads(reopened) == RECORDS[1:]
        reopened.close()


def test_segments_in_the_layout_before_sequence_numbers_are_still_read(tmp_path: Path) -> None:
    legacy = b"".join(struct.pack("<II", len(p), zlib.crc32(p)) + p for p in RECORDS)
    (tmp_path / f"{0:020d}.wal").write_bytes(legacy + b"\x07\x00")  # and a torn tail
    wal = WriteAheadLog(tmp_path)
    assert _payloads(wal) == RECORDS
    assert wal.position == len(legacy)
    wal.append_many([b'{"n":"new"}'])
    wal.close()
    again = WriteAheadLog(tmp_path)
    assert len(again.segments()) == 2
    assert _payloads(again) == [*RECORDS, b'{"n":"new"}']
    assert [p for _, p in again.read_from(len(legacy))] == [b'{"n":"new"}']
    again.close()


def test_read_from_a_checkpoint_yields_only_later_records(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path)
    first = wal.append_many(RECORDS[:1])
    wal.append_many(RECORDS[1:])
    assert [p for _, p in wal.read_from(first)] == RECORDS[1:]
    wal.write_checkpoint(first)
    assert wal.read_checkpoint() == first
    wal.close()


def _rows(workspace_id: str) -> list[dict[str, object]]:
    received = datetime(2026, 3, 1, 12, tzinfo=UTC)
    raw = [
        {
            "type": "identify",
            "messageId": "r1",
            "userId": "u-1",
            "anonymousId": "a-1",
            "traits": {"email": "u1@example.com", "plan": "pro"},
        },
        {"type": "track", "messageId": "r2", "userId": "u-1", "event": "Paid"},
        {
            "type": "page",
            "messageId": "r3",
            "anonymousId": "a-2",
            "name": "Home",
            "context": {"traits": {"email": "u1@example.com"}},
        },
        {
            "type": "track",
            "messageId": "r4",
            "userId": "u-1",
            "event": "Opted out",
            "context": {"consent": {"categoryPreferences": {"marketing": False}}},
        },
    ]
    return [
        normalize(parse_message(m), workspace_id=workspace_id, received_at=received) for m in raw
    ]


def _counts(rt: Runtime, ws: str) -> tuple[int, int, int, int, int]:
    with rt.db.session() as s:
        profiles = s.scalar(
            select(func.count()).select_from(Profile).where(Profile.merged_into.is_(None))
        )
        idents = s.scalar(select(func.count()).select_from(Identity))
        traits = s.scalar(select(func.count()).select_from(TraitValue))
        consent = s.scalar(select(func.count()).select_from(ConsentRecord))
    return (
        rt.store.count(ws),
        int(profiles or 0),
        int(idents or 0),
        int(traits or 0),
        int(consent or 0),
    )


def test_replay_after_a_crash_between_identity_and_event_store_is_idempotent(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "safar")
    # The crash: identities were committed, the events never reached the event store, and the
    # checkpoint never moved past the acknowledged record.
    first = Runtime(settings, ingest=False)
    with first.db.session() as s:
        ws, _, _ = create_workspace(s, name="Crash")
    rows = _rows(ws.id)
    with first.db.session() as s:
        first.resolver.apply(s, rows)
    assert _counts(first, ws.id) == (0, 1, 4, 3, 1)
    first.close()
    wal = WriteAheadLog(settings.wal_dir)
    wal.append_many([encode_record(rows)])
    wal.close()

    # Restart: the log is applied before anything new, and nothing is applied twice.
    second = Runtime(settings, background=False)
    assert _counts(second, ws.id) == (4, 1, 4, 3, 1)
    second.close()

    # Even a replay of the whole log from the start changes nothing.
    (settings.wal_dir / "checkpoint").unlink()
    third = Runtime(settings, background=False)
    assert _counts(third, ws.id) == (4, 1, 4, 3, 1)
    third.close()


def test_a_corrupt_record_loses_only_its_events_and_healthz_says_so(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "safar", text_analysis=False)
    first = Runtime(settings, ingest=False)
    with first.db.session() as s:
        ws, _, _ = create_workspace(s, name="Bit rot")
    first.close()
    rows = _rows(ws.id)
    wal = WriteAheadLog(settings.wal_dir)
    starts = []
    for row in rows:  # one record per event
        starts.append(wal.position)
        wal.append_many([encode_record([row])])
    wal.close()
    segment = _segment(settings.wal_dir)
    data = bytearray(segment.read_bytes())
    data[starts[1] + HEADER.size + 5] ^= 0x01  # one flipped bit in the second record
    segment.write_bytes(bytes(data))

    rt = Runtime(settings, background=False)
    try:
        _, found = rt.store.query(
            "SELECT message_id FROM events WHERE workspace_id = $ws ORDER BY 1", {"ws": ws.id}
        )
        assert [m for (m,) in found] == ["r1", "r3", "r4"]

        async def health() -> httpx.Response:
            transport = httpx.ASGITransport(app=create_app(runtime=rt))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                return await c.get("/healthz")

        r = asyncio.run(health())
        assert r.status_code == 200
        consumer = r.json()["consumer"]
        assert consumer["skipped_records_at_open"] == 1
        assert consumer["lag_bytes"] == 0
        (copy,) = consumer["quarantined"]
        assert (settings.wal_dir / copy).stat().st_size == starts[2] - starts[1]
    finally:
        rt.close()
