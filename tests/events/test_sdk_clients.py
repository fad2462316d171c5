"""The unmodified Segment and RudderStack Python SDKs against a real ``safar serve`` process.

segment-analytics-python and rudder-sdk-python from the dev extra, the legacy
analytics-python 1.4 from ``make sdk-packages`` (in a subprocess: its pins clash).

The server is started as a user would (``safar workspace create NAME --json``, then
``safar serve``); the SDKs send identify/track/page/screen/group/alias, and everything is read
back through the profile API: identities, channel of each event, and skew-corrected times.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import time_machine

from tests.events.sdk_support import LEGACY_PY, SDK_DIR, FlakyProxy, Reader, need
from tests.processes import ServerProcess, create_workspace_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    data_dir: Path = tmp_path_factory.mktemp("sdk") / "safar"
    keys = create_workspace_cli(data_dir, "SDK shop")
    proc = ServerProcess(data_dir).start()
    try:
        yield proc, keys
    finally:
        proc.stop()


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _check_calls(
    reader: Reader, prefix: str, sent_from: datetime, sent_to: datetime, old: datetime
) -> None:
    profile = reader.lookup("user_id", f"{prefix}-u1")
    assert sorted((i["type"], i["value"]) for i in profile["identities"]) == [
        ("anonymous_id", f"{prefix}-a1"),
        ("anonymous_id", f"{prefix}-old"),
        ("email", f"{prefix}@example.com"),
        ("user_id", f"{prefix}-u1"),
    ]
    assert profile["traits"]["name"] == "Sara"
    assert [(g["group_id"], g["type"]) for g in profile["groups"]] == [
        (f"{prefix}-home", "household")
    ]
    events = {k: e for k, e in reader.timeline(profile["id"]).items() if "-burst-" not in k}
    channels = {mid: e["channel"] for mid, e in events.items()}
    assert channels == {
        f"{prefix}-identify": "other",
        f"{prefix}-track": "email",
        f"{prefix}-old-track": "app",
        f"{prefix}-page": "web",
        f"{prefix}-screen": "app",
        f"{prefix}-group": "other",
        f"{prefix}-alias": "other",
    }
    track = events[f"{prefix}-track"]
    assert (track["type"], track["event"], track["properties"]) == (
        "track",
        "Order Completed",
        {"total": 120.5, "currency": "IRR"},
    )
    assert events[f"{prefix}-page"]["name"] == "Home"
    assert events[f"{prefix}-screen"]["name"] == "Cart"
    # An event the device queued three days ago keeps its own time (corrected by the few
    # milliseconds between the device's sentAt and our receivedAt), not the time it arrived.
    delayed = events[f"{prefix}-old-track"]
    assert abs(_when(delayed["timestamp"]) - old) < timedelta(seconds=5)
    assert sent_from - timedelta(seconds=1) <= _when(delayed["received_at"]) <= sent_to
    for mid, e in events.items():
        if mid != f"{prefix}-old-track":
            assert (
                sent_from - timedelta(seconds=5)
                <= _when(e["timestamp"])
                <= sent_to + timedelta(seconds=5)
            )


def _send_all(client: Any, prefix: str, old: datetime) -> None:
    """One of each call, through a client object or the SDK's module-level functions."""
    u, a = f"{prefix}-u1", f"{prefix}-a1"
    client.page(u, None, "Home", {"path": "/"}, anonymous_id=a, message_id=f"{prefix}-page")
    client.identify(
        u,
        {"email": f"{prefix.upper()}@Example.com", "name": "Sara"},
        anonymous_id=a,
        message_id=f"{prefix}-identify",
    )
    client.track(
        u,
        "Order Completed",
        {"total": 120.5, "currency": "IRR"},
        context={"channel": "email"},
        message_id=f"{prefix}-track",
    )
    client.track(
        u,
        "Cart Viewed",
        context={"channel": "app"},
        timestamp=old,
        message_id=f"{prefix}-old-track",
    )
    client.screen(u, None, "Cart", message_id=f"{prefix}-screen")
    client.group(
        u,
        f"{prefix}-home",
        {"type": "household", "name": "Ahmadi"},
        message_id=f"{prefix}-group",
    )
    client.alias(f"{prefix}-old", u, message_id=f"{prefix}-alias")
    client.flush()


def test_segment_sdk_module_level_sync(
    server: tuple[ServerProcess, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    proc, keys = server
    analytics = importlib.import_module("segment.analytics")
    errors: list[Any] = []
    monkeypatch.setattr(analytics, "write_key", keys["write_key"])
    monkeypatch.setattr(analytics, "host", proc.base_url)
    monkeypatch.setattr(analytics, "sync_mode", True)
    monkeypatch.setattr(analytics, "on_error", lambda error, _items: errors.append(error))
    monkeypatch.setattr(analytics, "default_client", None)
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    started = datetime.now(UTC)
    try:
        _send_all(analytics, "seg", old)
    finally:
        analytics.default_client = None
    assert errors == []
    reader = Reader(proc.base_url, keys["secret_key"])
    reader.flush()
    _check_calls(reader, "seg", started, datetime.now(UTC), old)


@pytest.mark.parametrize("gzip", [True, False], ids=["gzip", "plain"])
def test_segment_sdk_batched_client(
    server: tuple[ServerProcess, dict[str, str]], gzip: bool
) -> None:
    proc, keys = server
    analytics = importlib.import_module("segment.analytics")
    errors: list[Any] = []
    client = analytics.Client(
        keys["write_key"],
        host=proc.base_url,
        gzip=gzip,
        upload_size=50,
        max_retries=0,
        on_error=lambda error, _items: errors.append(error),
    )
    prefix = "segz" if gzip else "segp"
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    started = datetime.now(UTC)
    try:
        _send_all(client, prefix, old)
        # A burst the client packs into batches of up to 50 messages.
        for i in range(120):
            client.track(f"{prefix}-u1", "Scrolled", {"i": i}, message_id=f"{prefix}-burst-{i}")
        client.flush()
    finally:
        client.shutdown()
    assert errors == []
    reader = Reader(proc.base_url, keys["secret_key"])
    reader.flush()
    profile = reader.lookup("user_id", f"{prefix}-u1")
    r = reader.http.get(
        f"/api/profiles/{profile['id']}/timeline", params={"event": "Scrolled", "limit": 500}
    )
    assert sorted(e["properties"]["i"] for e in r.json()["events"]) == list(range(120))
    burst = {e["message_id"] for e in r.json()["events"]}
    events = {mid: e for mid, e in reader.timeline(profile["id"]).items() if mid not in burst}
    assert len(events) == 7
    # Resending what was already stored (a retry) stores nothing twice.
    again = analytics.Client(keys["write_key"], host=proc.base_url, gzip=gzip, sync_mode=True)
    again.track(f"{prefix}-u1", "Scrolled", {"i": 0}, message_id=f"{prefix}-burst-0")
    reader.flush()
    r = reader.http.get(
        f"/api/profiles/{profile['id']}/timeline", params={"event": "Scrolled", "limit": 500}
    )
    assert len(r.json()["events"]) == 120
    _check_calls(reader, prefix, started, datetime.now(UTC), old)


def test_segment_sdk_on_a_device_whose_clock_runs_two_hours_fast(
    server: tuple[ServerProcess, dict[str, str]],
) -> None:
    """Both the SDK's timestamps and its sentAt come from the wrong clock; the server's
    receivedAt puts the events back at the real time, keeping the delay the device measured."""
    proc, keys = server
    analytics = importlib.import_module("segment.analytics")
    errors: list[Any] = []
    client = analytics.Client(
        keys["write_key"],
        host=proc.base_url,
        sync_mode=True,
        max_retries=0,
        on_error=lambda error, _items: errors.append(error),
    )
    real_before = datetime.now(UTC)
    with time_machine.travel(real_before + timedelta(hours=2), tick=True):
        device_now = datetime.now(UTC)
        assert device_now - real_before > timedelta(hours=1, minutes=59)
        client.track("skew-u1", "Tapped", message_id="skew-now")
        client.track(
            "skew-u1",
            "Queued",
            timestamp=device_now - timedelta(minutes=10),
            message_id="skew-queued",
        )
    real_after = datetime.now(UTC)
    assert errors == []
    reader = Reader(proc.base_url, keys["secret_key"])
    reader.flush()
    events = reader.timeline(reader.lookup("user_id", "skew-u1")["id"])
    tapped, queued = (
        _when(events["skew-now"]["timestamp"]),
        _when(events["skew-queued"]["timestamp"]),
    )
    slack = timedelta(seconds=2)
    assert real_before - slack <= tapped <= real_after + slack
    assert real_before - timedelta(minutes=10) - slack <= queued
    assert queued <= real_after - timedelta(minutes=10) + slack


def test_rudderstack_sdk(
    server: tuple[ServerProcess, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    proc, keys = server
    rudder = importlib.import_module("rudderstack.analytics")
    errors: list[Any] = []
    monkeypatch.setattr(rudder, "write_key", keys["write_key"])
    monkeypatch.setattr(rudder, "dataPlaneUrl", proc.base_url)
    monkeypatch.setattr(rudder, "sync_mode", True)
    monkeypatch.setattr(rudder, "on_error", lambda error, _items: errors.append(error))
    monkeypatch.setattr(rudder, "default_client", None)
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    started = datetime.now(UTC)
    try:
        assert rudder.gzip is True  # RudderStack compresses by default
        _send_all(rudder, "rud", old)
    finally:
        rudder.default_client = None
    assert errors == []
    reader = Reader(proc.base_url, keys["secret_key"])
    reader.flush()
    _check_calls(reader, "rud", started, datetime.now(UTC), old)


def test_a_wrong_write_key_is_reported_to_the_sdk(
    server: tuple[ServerProcess, dict[str, str]],
) -> None:
    proc, keys = server
    analytics = importlib.import_module("segment.analytics")
    errors: list[Any] = []
    client = analytics.Client(
        "wk_wrong",
        host=proc.base_url,
        max_retries=0,
        on_error=lambda error, _items: errors.append(error),
    )
    client.track("nobody", "Nothing", message_id="refused-1")
    client.flush()
    client.shutdown()
    assert len(errors) == 1
    assert getattr(errors[0], "status", None) == 401
    reader = Reader(proc.base_url, keys["secret_key"])
    r = reader.http.get("/api/profiles/lookup", params={"type": "user_id", "value": "nobody"})
    assert r.status_code == 404


def _events_by_prefix(reader: Reader, prefix: str) -> dict[str, dict[str, Any]]:
    reader.flush()
    events = reader.events(reader.lookup("user_id", f"{prefix}-u1")["id"])
    ids = [e["message_id"] for e in events]
    assert len(ids) == len(set(ids)), "an event was stored twice"
    return {e["message_id"]: e for e in events}


def _expected(prefix: str, burst: int) -> set[str]:
    calls = ("identify", "track", "page", "screen", "group", "alias")
    return {f"{prefix}-{c}" for c in calls} | {f"{prefix}-burst-{i}" for i in range(burst)}


def _send_legacy(host: str, write_key: str, prefix: str, burst: int) -> list[str]:
    need(LEGACY_PY / "analytics" / "version.py", "legacy analytics-python 1.4")
    done = subprocess.run(
        [sys.executable, str(SDK_DIR / "send_legacy.py"), host, write_key, prefix, str(burst)],
        env={**os.environ, "PYTHONPATH": str(LEGACY_PY)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert out["version"] == "1.4.0"
    errors: list[str] = out["errors"]
    return errors


@pytest.mark.parametrize("sdk", ["segment", "rudder", "legacy"])
def test_python_sdk_after_a_503(server: tuple[ServerProcess, dict[str, str]], sdk: str) -> None:
    """A deploy or restart answers 503 to the first send: the SDK retries, nothing is lost."""
    proc, keys = server
    prefix, burst = f"py503{sdk}", 200
    proxy = FlakyProxy(proc.base_url, fail=1).start()
    errors: list[Any] = []
    try:
        if sdk == "legacy":
            errors = _send_legacy(proxy.url, keys["write_key"], prefix, burst)
        else:
            module = "segment.analytics" if sdk == "segment" else "rudderstack.analytics"
            client = importlib.import_module(module).Client(
                keys["write_key"],
                host=proxy.url,
                gzip=True,
                upload_size=50,
                max_retries=4,
                on_error=lambda error, _items: errors.append(error),
            )
            _send_all(client, prefix, datetime.now(UTC) - timedelta(days=1))
            for i in range(burst):
                client.track(f"{prefix}-u1", "Scrolled", {"i": i}, message_id=f"{prefix}-burst-{i}")
            client.flush()
            client.shutdown()
    finally:
        proxy.close()
    assert errors == []
    statuses = [seen.status for seen in proxy.posts()]
    assert statuses[0] == 503 and 503 not in statuses[1:] and len(statuses) >= 5
    assert all(seen.headers.get("content-encoding") == "gzip" for seen in proxy.posts())
    # _send_all also sends a delayed track; the legacy script does not.
    expected = _expected(prefix, burst) | ({f"{prefix}-old-track"} if sdk != "legacy" else set())
    stored = _events_by_prefix(Reader(proc.base_url, keys["secret_key"]), prefix)
    assert set(stored) == expected
    assert stored[f"{prefix}-track"]["channel"] == "email"


def test_segment_sdk_5000_events_gzip(server: tuple[ServerProcess, dict[str, str]]) -> None:
    proc, keys = server
    analytics = importlib.import_module("segment.analytics")
    errors: list[Any] = []
    client = analytics.Client(
        keys["write_key"],
        host=proc.base_url,
        gzip=True,
        max_retries=0,
        on_error=lambda error, _items: errors.append(error),
    )
    for i in range(5000):
        client.track("big5k-u1", "Viewed", {"i": i, "sku": f"SKU-{i % 97}"}, message_id=f"5k-{i}")
    client.flush()
    client.shutdown()
    assert errors == []
    reader = Reader(proc.base_url, keys["secret_key"])
    reader.flush()
    ids = [e["message_id"] for e in reader.events(reader.lookup("user_id", "big5k-u1")["id"])]
    assert sorted(ids) == sorted(f"5k-{i}" for i in range(5000))


def test_rudderstack_sdk_sends_multi_megabyte_batches(
    server: tuple[ServerProcess, dict[str, str]],
) -> None:
    """rudder-sdk-python packs up to 4 MB per request; Safar takes them whole."""
    proc, keys = server
    rudder = importlib.import_module("rudderstack.analytics")
    errors: list[Any] = []
    proxy = FlakyProxy(proc.base_url).start()
    client = rudder.Client(
        keys["write_key"],
        host=proxy.url,
        upload_size=1000,
        max_retries=0,
        on_error=lambda error, _items: errors.append(error),
    )
    try:
        for i in range(2000):
            client.track("rbig-u1", "Logged", {"i": i, "pad": "r" * 2500}, message_id=f"rbig-{i}")
        client.flush()
        client.shutdown()
    finally:
        proxy.close()
    assert errors == []
    assert max(seen.size for seen in proxy.posts()) > 2_000_000
    reader = Reader(proc.base_url, keys["secret_key"])
    reader.flush()
    ids = {e["message_id"] for e in reader.events(reader.lookup("user_id", "rbig-u1")["id"])}
    assert ids == {f"rbig-{i}" for i in range(2000)}


def test_rudderstack_sdk_reads_the_error_code_and_does_not_retry_a_4xx(
    server: tuple[ServerProcess, dict[str, str]],
) -> None:
    """Without ``code`` in the body it takes the 401 for a network error and retries it."""
    proc, _ = server
    rudder = importlib.import_module("rudderstack.analytics")
    errors: list[Any] = []
    client = rudder.Client(
        "wk_wrong",
        host=proc.base_url,
        max_retries=6,
        on_error=lambda error, _items: errors.append(error),
    )
    started = time.monotonic()
    client.track("nobody", "Nothing", message_id="rud-refused")
    client.flush()
    client.shutdown()
    assert time.monotonic() - started < 5
    assert [(e.status, e.code) for e in errors] == [(401, "unauthorized")]
