"""A full disk mid-load, then freed, under a real ``safar serve``: nothing acknowledged is lost.

The data directory is a small real tmpfs. Client threads send ``/v1/batch`` requests over
keep-alive connections; the disk is filled mid-load and freed later. Every request must be
answered 200 or 507/503 (with ``Retry-After``) on a connection that stays usable; after the
load, and again after a restart, every acknowledged batch is stored exactly once and no
refused batch is stored at all; nothing is dead-lettered.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.events.factories import T0, iso
from tests.events.small_disk import fill, small_tmpfs
from tests.processes import ServerProcess, create_workspace_cli

pytestmark = pytest.mark.slow
THREADS = 3
PER_BATCH = 20


def _batch(t: int, b: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "track",
            "messageId": f"t{t}-b{b}-e{i}",
            "userId": f"full-{t}",
            "event": "Scrolled",
            "properties": {"i": i, "pad": "x" * 200},
            "timestamp": iso(T0.replace(second=i % 60, microsecond=b)),
        }
        for i in range(PER_BATCH)
    ]


class Load:
    def __init__(self, base_url: str, write_key: str) -> None:
        self.base_url, self.write_key = base_url, write_key
        self.acked: set[tuple[int, int]] = set()
        self.refused: set[tuple[int, int]] = set()
        self.statuses: Counter[int] = Counter()
        self.retry_after: set[str | None] = set()
        self.connections: Counter[int] = Counter()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(t,)) for t in range(THREADS)]

    def _run(self, t: int) -> None:
        with httpx.Client(base_url=self.base_url, auth=(self.write_key, ""), timeout=30) as http:
            b = 0
            while not self.stop.is_set():
                r = http.post("/v1/batch", json={"batch": _batch(t, b)})
                with self.lock:
                    self.statuses[r.status_code] += 1
                    if r.status_code == 200:
                        self.acked.add((t, b))
                    else:
                        self.refused.add((t, b))
                        self.retry_after.add(r.headers.get("retry-after"))
                b += 1
                if r.status_code != 200:
                    time.sleep(0.02)
            pool = http._transport._pool  # type: ignore[attr-defined]
            with self.lock:
                self.connections[t] = len(pool.connections)

    def wait_for(self, what: str, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                seen = len(self.acked) if what == "acked" else len(self.refused)
            if seen >= count:
                return
            time.sleep(0.01)
        raise AssertionError(f"never saw {count} {what} batches: {self.statuses}")


def _stored(base_url: str, secret_key: str) -> tuple[Counter[str], int]:
    found: Counter[str] = Counter()
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {secret_key}"}, timeout=60
    ) as http:
        r = http.post("/api/ingest/flush", params={"timeout": 120})
        assert r.status_code == 200 and r.json()["applied"], r.text
        for t in range(THREADS):
            r = http.get("/api/profiles/lookup", params={"type": "user_id", "value": f"full-{t}"})
            if r.status_code == 404:
                continue
            pid, cursor = r.json()["id"], None
            while True:
                params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
                page = http.get(f"/api/profiles/{pid}/timeline", params=params).json()
                found.update(e["message_id"] for e in page["events"])
                cursor = page["next_cursor"]
                if not cursor:
                    break
        events = int(http.get("/api/stats").json()["events"])
    return found, events


def _check(found: Counter[str], events: int, load: Load) -> None:
    assert {m: n for m, n in found.items() if n > 1} == {}
    assert events == sum(found.values())
    stored_batches = {tuple(int(x[1:]) for x in m.split("-")[:2]) for m in found}
    assert stored_batches == load.acked, (
        f"lost: {sorted(load.acked - stored_batches)[:5]}, "
        f"stored though refused: {sorted(stored_batches - load.acked)[:5]}"
    )
    assert events == len(load.acked) * PER_BATCH


def test_disk_full_mid_load_then_freed_loses_nothing_acknowledged(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "safar", "40m") as data_dir:
        env = {"SAFAR_TEXT_ANALYSIS": "false"}
        keys = create_workspace_cli(data_dir, "Full disk", **env)
        server = ServerProcess(data_dir, env=env).start()
        load = Load(server.base_url, keys["write_key"])
        try:
            for th in load.threads:
                th.start()
            load.wait_for("acked", 30)
            filler = fill(data_dir)
            load.wait_for("refused", 20)
            health = httpx.get(server.base_url + "/healthz", timeout=10)
            assert health.json()["log"]["failed_appends"] > 0, health.text
            filler.unlink()
            acked_before_free = len(load.acked)
            load.wait_for("acked", acked_before_free + 30)
            load.stop.set()
            for th in load.threads:
                th.join(timeout=60)
            assert set(load.statuses) <= {200, 503, 507}, load.statuses
            assert load.statuses[507] > 0 and load.retry_after <= {"1"}
            # Every refusal was an ordinary response: each client kept one connection.
            assert all(n == 1 for n in load.connections.values()), load.connections

            found, events = _stored(server.base_url, keys["secret_key"])
            _check(found, events, load)
            health = httpx.get(server.base_url + "/healthz", timeout=10).json()
            assert health["status"] == "ok" and health["consumer"]["lag_bytes"] == 0, health
            assert health["consumer"]["dead_letters"] == 0
        finally:
            load.stop.set()
            server.stop()
        assert not (data_dir / "dead-letter.jsonl").exists(), server.log()

        restarted = ServerProcess(data_dir, env=env).start()
        try:
            found, events = _stored(restarted.base_url, keys["secret_key"])
        finally:
            restarted.stop()
        _check(found, events, load)
        assert "torn" not in restarted.log() and "corrupt" not in restarted.log()
