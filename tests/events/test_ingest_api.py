"""The single-message endpoints and the body encodings Segment clients use."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from safar.config import Settings
from tests.events.factories import Api, at, open_api


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(Settings(data_dir=tmp_path / "safar")) as api:
        yield api


async def test_every_single_message_endpoint(api: Api) -> None:
    u = {"userId": "u-1"}
    calls = {
        "identify": {**u, "traits": {"name": "Leila"}},
        "track": {**u, "event": "Signed Up"},
        "page": {**u, "name": "Pricing"},
        "screen": {**u, "name": "Home"},
        "group": {**u, "groupId": "acme", "traits": {"name": "Acme"}},
        "alias": {"previousId": "visitor-9", "userId": "u-1"},
    }
    for i, (kind, body) in enumerate(calls.items()):
        # The path decides the type, whatever the body claims.
        r = await api.send(kind, {**body, "type": "track", "messageId": kind, "timestamp": at(i)})
        assert r.json() == {"success": True}
    await api.flush()
    p = await api.lookup("anonymous_id", "visitor-9")
    events = await api.timeline(p["id"])
    assert [(e["message_id"], e["type"], e["event"], e["name"]) for e in events] == [
        ("alias", "alias", None, None),
        ("group", "group", None, None),
        ("screen", "screen", None, "Home"),
        ("page", "page", None, "Pricing"),
        ("track", "track", "Signed Up", None),
        ("identify", "identify", None, None),
    ]
    assert p["traits"] == {"name": "Leila"}
    assert [g["group_id"] for g in p["groups"]] == ["acme"]


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("identity", lambda b: b),
    ],
)
async def test_body_encodings(api: Api, encoding: str, compress: object) -> None:
    body = {"batch": [{"type": "track", "messageId": "z1", "userId": "u", "event": "E"}]}
    assert callable(compress)
    r = await api.client.post(
        "/v1/batch",
        content=compress(orjson.dumps(body)),
        # Browsers' sendBeacon sends text/plain; the content type is not what decides.
        headers={"Content-Encoding": encoding, "Content-Type": "text/plain"},
        auth=(api.write_key, ""),
    )
    assert r.status_code == 200, r.text
    assert (await api.stats())["events"] == 1
