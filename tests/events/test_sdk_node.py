"""The unmodified Node SDKs from npm against a real ``safar serve``, behind a proxy that answers
503 to their first send: every event arrives, once, in one profile.

@segment/analytics-node 3.1.0, legacy analytics-node 6.2.0 and @rudderstack/rudder-sdk-node
3.1.1 (gzip by default), as pinned in tests/events/sdk/package-lock.json.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.events.sdk_support import FlakyProxy, Reader, need_node_package, run_node
from tests.processes import ServerProcess, create_workspace_cli

pytestmark = pytest.mark.slow
PACKAGES = {
    "segment-node": "@segment/analytics-node",
    "analytics-node": "analytics-node",
    "rudder-node": "@rudderstack/rudder-sdk-node",
}
BURST = 150


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    data_dir: Path = tmp_path_factory.mktemp("sdk-node") / "safar"
    keys = create_workspace_cli(data_dir, "Node shop")
    proc = ServerProcess(data_dir).start()
    try:
        yield proc, keys
    finally:
        proc.stop()


@pytest.mark.parametrize("sdk", list(PACKAGES))
def test_node_sdk_after_a_503(server: tuple[ServerProcess, dict[str, str]], sdk: str) -> None:
    need_node_package(PACKAGES[sdk])
    proc, keys = server
    proxy = FlakyProxy(proc.base_url, fail=1).start()
    prefix = sdk.replace("-", "")
    try:
        done = run_node("send.cjs", sdk, proxy.url, keys["write_key"], prefix, str(BURST))
    finally:
        proxy.close()
    assert orjson.loads(done.stdout.strip().splitlines()[-1]) == {"errors": []}
    statuses = [seen.status for seen in proxy.posts()]
    assert statuses[0] == 503 and 503 not in statuses[1:] and len(statuses) >= 2
    if sdk == "rudder-node":
        assert all(seen.headers.get("content-encoding") == "gzip" for seen in proxy.posts())

    reader = Reader(proc.base_url, keys["secret_key"])
    reader.flush()
    profile = reader.lookup("user_id", f"{prefix}-u1")
    assert sorted((i["type"], i["value"]) for i in profile["identities"]) == [
        ("anonymous_id", f"{prefix}-a1"),
        ("anonymous_id", f"{prefix}-old"),
        ("email", f"{prefix}@example.com"),
        ("user_id", f"{prefix}-u1"),
    ]
    events = reader.events(profile["id"])
    ids = [e["message_id"] for e in events]
    expected = {f"{prefix}-{k}" for k in ("identify", "track", "page", "screen", "group", "alias")}
    expected |= {f"{prefix}-burst-{i}" for i in range(BURST)}
    assert len(ids) == len(set(ids)) and set(ids) == expected
    by_id = {e["message_id"]: e for e in events}
    assert by_id[f"{prefix}-track"]["channel"] == "email"
    assert by_id[f"{prefix}-track"]["properties"] == {"total": 120.5, "currency": "IRR"}
    assert by_id[f"{prefix}-page"]["channel"] == "web"
    assert [(g["group_id"], g["type"]) for g in profile["groups"]] == [
        (f"{prefix}-home", "household")
    ]
