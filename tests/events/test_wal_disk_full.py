"""A full disk under the log and the stores, on a real small tmpfs (no mocked writes).

The log alone: records acknowledged before and after ENOSPC are all readable, in order, before
and after reopening; the failed append leaves no bytes behind. The stores: a batch that cannot
be applied because the disk is full is retried, never parked in the dead-letter file, and is
stored exactly once when space returns.
"""

from __future__ import annotations

import asyncio
import errno
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from safar.config import Settings
from safar.errors import StorageFull
from safar.events.committer import GroupCommitter
from safar.events.messages import normalize, parse_message
from safar.events.pipeline import encode_record
from safar.events.wal import WriteAheadLog
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.events.small_disk import fill, small_tmpfs


def _payloads(wal: WriteAheadLog) -> list[bytes]:
    return [payload for _, payload in wal.read_from(0)]


def test_records_acknowledged_around_enospc_all_survive(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "1m") as disk:
        wal = WriteAheadLog(disk / "wal")
        acked: list[bytes] = []
        filler = fill(disk, leave=150_000)
        failed = 0
        for i in range(40):
            record = f'{{"n":{i},"pad":"{"x" * 20_000}"}}'.encode()
            try:
                wal.append_many([record])
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                failed += 1
                continue
            acked.append(record)
        assert failed > 0 and len(acked) >= 3
        segment = next((disk / "wal").glob("*.wal"))
        assert segment.stat().st_size == wal.position, "the failed appends left bytes behind"
        filler.unlink()
        for i in range(5):
            record = f'{{"after":{i}}}'.encode()
            wal.append_many([record])
            acked.append(record)
        assert _payloads(wal) == acked
        wal.close()
        reopened = WriteAheadLog(disk / "wal")
        assert _payloads(reopened) == acked
        assert reopened.recovery.gaps == []
        reopened.close()


def test_the_committer_refuses_while_the_disk_is_full_and_probes_again(tmp_path: Path) -> None:
    now = [100.0]
    with small_tmpfs(tmp_path / "disk", "1m") as disk:
        wal = WriteAheadLog(disk / "wal")
        committer = GroupCommitter(wal, retry_after_s=2, clock=lambda: now[0])
        big = b"y" * 300_000
        filler = fill(disk, leave=100_000)

        async def scenario() -> None:
            with pytest.raises(StorageFull) as first:
                await committer.append(big)
            assert first.value.status_code == 507
            assert first.value.headers() == {"Retry-After": "2"}
            assert "disk is full (ENOSPC)" in first.value.message
            # Refused at once, without touching the disk, while the error is fresh.
            with pytest.raises(StorageFull):
                await committer.append(b"{}")
            assert committer.status()["accepting"] is False
            filler.unlink()
            now[0] += 2
            assert committer.refusing() is None
            assert await committer.append(big) == wal.position

        asyncio.run(scenario())
        committer.close()
        assert _payloads(wal) == [big]
        assert committer.failed_appends == 1
        wal.close()


def _rows(workspace_id: str, n: int) -> list[dict[str, Any]]:
    received = datetime(2026, 3, 1, 12, tzinfo=UTC)
    raw = [
        {
            "type": "track",
            "messageId": f"full-{i}",
            "userId": f"u-{i % 7}",
            "event": "Paid",
            "properties": {"pad": "z" * 300},
        }
        for i in range(n)
    ]
    return [
        normalize(parse_message(m), workspace_id=workspace_id, received_at=received) for m in raw
    ]


def test_a_full_disk_under_the_stores_parks_nothing_and_applies_once_later(
    tmp_path: Path,
) -> None:
    with small_tmpfs(tmp_path / "disk", "24m") as disk:
        settings = Settings(data_dir=disk / "safar", text_analysis=False)
        rt = Runtime(settings, background=False)
        assert rt.wal is not None and rt.consumer is not None
        with rt.db.session() as s:
            ws, _, _ = create_workspace(s, name="Full")
        rows = _rows(ws.id, 2_000)
        for i in range(0, len(rows), 200):
            rt.wal.append_many([encode_record(rows[i : i + 200])])
        # Room for a line in the dead-letter file, none for the stores' transactions.
        filler = fill(disk, leave=4096)
        assert rt.consumer.drain() is False
        status = rt.consumer.status()
        assert status["retrying"] and status["lag_bytes"] > 0
        assert "full" in (status["last_error"] or "")
        assert not (settings.data_dir / "dead-letter.jsonl").exists()
        assert rt.consumer.dead_letters.count() == 0

        filler.unlink()
        assert rt.consumer.drain() is True
        assert rt.consumer.status()["retrying"] is False
        assert rt.store.count(ws.id) == len(rows)
        assert rt.consumer.dead_letters.entries() == []
        rt.close()
