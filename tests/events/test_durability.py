"""SIGKILL during a load: every acknowledged event survives, exactly once.

A real ``safar serve`` takes concurrent ``/v1/batch`` requests from several threads; it is
killed with SIGKILL mid-load (no shutdown, no flush), restarted on the same data directory, and
then every batch answered 200 must be fully present exactly once, and every batch in flight at
the kill either fully present or fully absent. The clients' retries after the restart store
nothing twice. Runs on both engine stacks.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.events.factories import T0, iso
from tests.processes import ServerProcess, create_workspace_cli

pytestmark = pytest.mark.slow
THREADS = 6
PER_BATCH = 25
KILL_AFTER_ACKED = 40


@dataclass
class Sent:
    thread: int
    batch: int
    acked: bool


def _batch(t: int, b: int) -> list[dict[str, Any]]:
    user = f"load-{t}"
    msgs: list[dict[str, Any]] = [
        {
            "type": "identify",
            "messageId": f"t{t}-b{b}-id",
            "userId": user,
            "traits": {"batch": b},
            "timestamp": iso(T0.replace(microsecond=b * 1000 + 1)),
        }
    ]
    for i in range(PER_BATCH - 1):
        msgs.append(
            {
                "type": "track",
                "messageId": f"t{t}-b{b}-e{i}",
                "userId": user,
                "event": "Scrolled",
                "properties": {"i": i, "pad": "x" * 64},
                "timestamp": iso(T0.replace(second=i % 60, microsecond=b * 1000)),
                "context": {"channel": "web"},
            }
        )
    return msgs


def _load(base_url: str, write_key: str, t: int, stop: threading.Event, out: list[Sent]) -> None:
    with httpx.Client(base_url=base_url, auth=(write_key, ""), timeout=20) as http:
        b = 0
        while not stop.is_set():
            try:
                r = http.post("/v1/batch", json={"batch": _batch(t, b)})
            except httpx.TransportError:
                out.append(Sent(t, b, False))
                return
            assert r.status_code == 200, r.text
            out.append(Sent(t, b, True))
            b += 1


def _stored_ids(base_url: str, secret_key: str) -> tuple[Counter[str], dict[str, list[int]], int]:
    """Message ids on each load user's timeline, trait observations, and the stored count."""
    found: Counter[str] = Counter()
    traits: dict[str, list[int]] = {}
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {secret_key}"}, timeout=60
    ) as http:
        r = http.post("/api/ingest/flush", params={"timeout": 120})
        assert r.status_code == 200 and r.json()["applied"], r.text
        for t in range(THREADS):
            r = http.get("/api/profiles/lookup", params={"type": "user_id", "value": f"load-{t}"})
            if r.status_code == 404:
                continue
            pid = r.json()["id"]
            cursor = None
            while True:
                params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
                page = http.get(f"/api/profiles/{pid}/timeline", params=params).json()
                found.update(e["message_id"] for e in page["events"])
                cursor = page["next_cursor"]
                if not cursor:
                    break
            history = http.get(f"/api/profiles/{pid}/traits/history").json()
            traits[f"load-{t}"] = sorted(h["value"] for h in history if h["key"] == "batch")
        events = int(http.get("/api/stats").json()["events"])
    return found, traits, events


def _engine_env(stack: str, request: pytest.FixtureRequest) -> dict[str, str]:
    if stack == "duckdb-sqlite":
        return {}
    return {
        "SAFAR_EVENT_ENGINE": "clickhouse",
        "SAFAR_STATE_URL": request.getfixturevalue("pg_database"),
    }


def test_sigkill_mid_load_loses_no_acknowledged_event(
    tmp_path: Path, stack: str, request: pytest.FixtureRequest
) -> None:
    env = _engine_env(stack, request)
    data_dir = tmp_path / "safar"
    keys = create_workspace_cli(data_dir, "Durable", **env)
    server = ServerProcess(data_dir, env=env).start()
    sent: list[Sent] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_load, args=(server.base_url, keys["write_key"], t, stop, sent))
        for t in range(THREADS)
    ]
    try:
        for th in threads:
            th.start()
        deadline = time.monotonic() + 60
        while sum(s.acked for s in sent) < KILL_AFTER_ACKED and time.monotonic() < deadline:
            time.sleep(0.005)
        server.kill()
        stop.set()
        for th in threads:
            th.join(timeout=30)
    finally:
        stop.set()
        server.kill()
    acked = [s for s in sent if s.acked]
    in_flight = [s for s in sent if not s.acked]
    assert len(acked) >= KILL_AFTER_ACKED, server.log()

    restarted = ServerProcess(data_dir, env=env).start()
    try:
        before_retry, _, _ = _stored_ids(restarted.base_url, keys["secret_key"])
        # The clients retry what they sent before the crash: still stored once.
        with httpx.Client(
            base_url=restarted.base_url, auth=(keys["write_key"], ""), timeout=20
        ) as http:
            for s in [*acked[:3], *in_flight]:
                r = http.post("/v1/batch", json={"batch": _batch(s.thread, s.batch)})
                assert r.status_code == 200, r.text
        found, traits, stored = _stored_ids(restarted.base_url, keys["secret_key"])
    finally:
        restarted.stop()

    duplicates = {m: n for m, n in found.items() if n > 1}
    assert duplicates == {}
    assert stored == sum(found.values())
    for s in acked:
        ids = [m["messageId"] for m in _batch(s.thread, s.batch)]
        missing = [m for m in ids if m not in found]
        assert missing == [], f"acknowledged batch {s} lost {len(missing)} events"
    for s in in_flight:
        present = sum(m["messageId"] in before_retry for m in _batch(s.thread, s.batch))
        assert present in (0, PER_BATCH), f"batch {s} is partly stored ({present})"
    assert all(before_retry[m] == 1 for m in before_retry)
    # In-flight batches were all retried, so now they are complete too.
    for s in in_flight:
        present = sum(m["messageId"] in found for m in _batch(s.thread, s.batch))
        assert present == PER_BATCH, f"retried batch {s} is partly stored ({present})"
    complete = {(s.thread, s.batch) for s in sent if f"t{s.thread}-b{s.batch}-id" in found}
    assert stored == len(complete) * PER_BATCH
    # The identity side was replayed without repeating an observation either.
    for t in range(THREADS):
        batches = sorted(b for (th, b) in complete if th == t)
        assert traits.get(f"load-{t}", []) == batches
