"""Partial batches, lenient input and error bodies, the way Segment answers them.

A batch with bad messages stores every valid one, answers 200 and names the refused ones by
index and field (in the body and in the workspace's rejection record); Segment's documented
payload shapes (with their unpadded dates) are accepted; errors carry a ``code`` SDKs read.
All through the real app over httpx.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from safar.config import Settings
from tests.events.factories import Api, open_api


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(Settings(data_dir=tmp_path / "safar")) as api:
        yield api


@pytest.fixture
async def api_any(settings: Settings) -> AsyncIterator[Api]:
    """Both stacks: the rejection record is an upsert written per dialect."""
    async with open_api(settings) as api:
        yield api


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _events(api: Api, user: str) -> list[dict[str, Any]]:
    await api.flush()
    return await api.timeline((await api.lookup("user_id", user))["id"])


async def _rejected(api: Api) -> dict[str, Any]:
    out: dict[str, Any] = await api.get("/api/ingest/rejected")
    return out


async def test_one_bad_message_does_not_lose_the_ninety_nine_good_ones(api: Api) -> None:
    batch = [
        {"type": "track", "messageId": f"g-{i}", "userId": "u-1", "event": "Scrolled"}
        for i in range(100)
    ]
    batch[37]["event"] = "Scrolled\tdown"
    r = await api.batch(batch)
    assert r.json() == {
        "success": True,
        "rejected": [
            {
                "index": 37,
                "field": "batch[37].event",
                "message": "batch[37].event: event must not contain control characters",
            }
        ],
    }
    stored = {e["message_id"] for e in await _events(api, "u-1")}
    assert stored == {f"g-{i}" for i in range(100)} - {"g-37"}
    record = await _rejected(api)
    assert record["total"] == 1
    [row] = record["fields"]
    assert (row["field"], row["count"]) == ("event", 1)
    assert orjson.loads(row["last_sample"])["messageId"] == "g-37"


async def test_refusals_are_counted_per_field_across_requests(api_any: Api) -> None:
    api = api_any
    good = {"type": "track", "userId": "u-2", "event": "Viewed"}
    await api.batch(
        [{**good, "messageId": "a"}, {"type": "page", "name": "no ids"}, "not an object"]
    )
    await api.batch([{**good, "messageId": "b"}, {"type": "page", "name": "again"}])
    # A single call with nothing to store answers 400, and is recorded too.
    r = await api.send("identify", {"traits": {"x": 1}}, expect=400)
    assert (r.json()["code"], r.json()["field"]) == ("invalid_request", "userId")
    record = await _rejected(api)
    counts = {f["field"]: f["count"] for f in record["fields"]}
    assert counts == {"userId": 3, "message": 1}
    assert record["total"] == 4
    assert {e["message_id"] for e in await _events(api, "u-2")} == {"a", "b"}


async def test_a_batch_with_nothing_valid_is_a_400_listing_every_refusal(api: Api) -> None:
    r = await api.batch(
        [{"type": "track", "userId": "u"}, {"type": "buy", "userId": "u"}], expect=400
    )
    body = r.json()
    assert (body["code"], body["field"]) == ("invalid_request", "batch[0].event")
    assert [(x["index"], x["field"]) for x in body["details"]["rejected"]] == [
        (0, "batch[0].event"),
        (1, "batch[1].type"),
    ]


async def test_an_oversized_message_is_refused_alone(api: Api) -> None:
    big = {"type": "track", "messageId": "big", "userId": "u-3", "event": "Big"}
    big["properties"] = {"blob": "x" * (33 * 1024)}
    small = {"type": "track", "messageId": "small", "userId": "u-3", "event": "Small"}
    r = await api.batch([small, big])
    assert [(x["index"], x["field"]) for x in r.json()["rejected"]] == [(1, "batch[1]")]
    assert [e["message_id"] for e in await _events(api, "u-3")] == ["small"]


def _documented_batch() -> dict[str, Any]:
    """The shape of the batch example on Segment's HTTP API page (our own values), dates
    written without zero padding as that page writes them."""
    return {
        "batch": [
            {
                "type": "identify",
                "userId": "doc-user-1",
                "traits": {"email": "leila@example.com", "name": "Leila Karimi", "age": 31},
                "timestamp": "2015-2-02T00:30:08.276Z",
            },
            {
                "type": "track",
                "userId": "doc-user-1",
                "event": "Song Played",
                "properties": {"name": "Gole Sangam", "artist": "Banan"},
                "timestamp": "2015-2-02T00:30:12.984Z",
            },
            {
                "type": "identify",
                "userId": "doc-user-2",
                "traits": {"email": "reza@example.com", "name": "Reza Amini", "age": 24},
                "context": {"ip": "203.0.113.7"},
                "timestamp": "2015-2-02T00:30:08.276Z",
            },
            {
                "type": "page",
                "userId": "doc-user-2",
                "name": "Dashboard",
                "timestamp": "2015-2-02T00:30:08.276Z",
            },
        ],
        "context": {"device": {"type": "phone", "name": "Pixel 8"}},
    }


async def test_segments_documented_batch_is_accepted_as_segment_accepts_it(api: Api) -> None:
    r = await api.send("batch", _documented_batch())
    assert r.json() == {"success": True}
    events = await _events(api, "doc-user-1")
    assert sorted(e["type"] for e in events) == ["identify", "track"]
    for e in events:
        assert _when(e["timestamp"]).date() == datetime(2015, 2, 2).date()
        assert e["context"]["device"]["name"] == "Pixel 8"
    track = next(e for e in events if e["type"] == "track")
    assert _when(track["timestamp"]) == datetime(2015, 2, 2, 0, 30, 12, 984000, tzinfo=UTC)
    other = await _events(api, "doc-user-2")
    assert sorted(e["type"] for e in other) == ["identify", "page"]
    assert (await api.lookup("user_id", "doc-user-2"))["traits"]["name"] == "Reza Amini"


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("identify", {"userId": "doc-3", "traits": {"email": "a@example.com", "plan": "Free"}}),
        ("track", {"userId": "doc-3", "event": "Item Purchased", "properties": {"revenue": 39.95}}),
        ("page", {"userId": "doc-3", "category": "Docs", "name": "Setup", "properties": {}}),
        ("screen", {"userId": "doc-3", "name": "Home", "properties": {"variation": "blue"}}),
        ("group", {"userId": "doc-3", "groupId": "g-1", "traits": {"name": "Acme", "size": 12}}),
        ("alias", {"previousId": "anon-doc-3", "userId": "doc-3"}),
    ],
)
async def test_segments_documented_single_calls(api: Api, kind: str, body: dict[str, Any]) -> None:
    body = {**body, "timestamp": "2012-12-2T0:30:08.276Z", "context": {"ip": "203.0.113.9"}}
    assert (await api.send(kind, body)).json() == {"success": True}
    [event] = await _events(api, "doc-3")
    assert event["type"] == kind
    assert _when(event["timestamp"]) == datetime(2012, 12, 2, 0, 30, 8, 276000, tzinfo=UTC)


@pytest.mark.parametrize("word", ["amp", "webhook", "cloud", "sources"])
async def test_an_unknown_channel_word_is_other_and_kept(api: Api, word: str) -> None:
    r = await api.batch(
        [
            {
                "type": "track",
                "messageId": "c1",
                "userId": "u-ch",
                "event": "Opened",
                "context": {"channel": word},
            },
            {
                "type": "track",
                "messageId": "c2",
                "userId": "u-ch",
                "event": "Opened",
                "channel": word,
            },
        ]
    )
    assert r.json() == {"success": True}
    events = await _events(api, "u-ch")
    assert [(e["channel"], e["context"]["safar"]["channelWord"]) for e in events] == [
        ("other", word),
        ("other", word),
    ]


async def test_epoch_zero_is_an_unknown_time_on_import(api: Api) -> None:
    before = datetime.now(UTC)
    await api.send(
        "import",
        {
            "batch": [
                {
                    "type": "track",
                    "messageId": "z1",
                    "userId": "u-z",
                    "event": "Booted",
                    "timestamp": "1970-01-01T00:00:00.000Z",
                },
                {
                    "type": "track",
                    "messageId": "z2",
                    "userId": "u-z",
                    "event": "Known",
                    "timestamp": "2026-03-01T10:00:00Z",
                },
            ]
        },
    )
    events = {e["message_id"]: e for e in await _events(api, "u-z")}
    zero = events["z1"]
    assert zero["context"]["safar"] == {"timestampUnknown": True}
    assert zero["timestamp"] == zero["received_at"]
    assert before - timedelta(seconds=1) <= _when(zero["timestamp"]) <= datetime.now(UTC)
    assert "safar" not in events["z2"]["context"]
    assert _when(events["z2"]["timestamp"]) == datetime(2026, 3, 1, 10, tzinfo=UTC)


async def test_two_sends_without_id_or_time_are_two_events(api: Api) -> None:
    same = {"type": "track", "userId": "u-twice", "event": "Rang"}
    await api.send("batch", {"batch": [same, same]})
    await api.send("track", {k: v for k, v in same.items() if k != "type"})
    await api.send("track", {k: v for k, v in same.items() if k != "type"})
    events = await _events(api, "u-twice")
    assert len({e["message_id"] for e in events}) == 4


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
async def test_a_batch_of_nearly_4_mb_is_accepted(api: Api, compressed: bool) -> None:
    batch = [
        {
            "type": "track",
            "messageId": f"m-{i}",
            "userId": "u-big",
            "event": "Logged",
            "properties": {"pad": f"{i:06d}" + "y" * 30_000},
        }
        for i in range(130)
    ]
    raw = orjson.dumps({"batch": batch})
    assert 3.5 * 2**20 < len(raw) < 4 * 2**20
    headers = {"Content-Type": "application/json"}
    if compressed:
        raw, headers = gzip.compress(raw), {**headers, "Content-Encoding": "gzip"}
    r = await api.client.post("/v1/batch", content=raw, headers=headers, auth=(api.write_key, ""))
    assert r.status_code == 200, r.text
    assert len(await _events(api, "u-big")) == 130


async def test_a_streamed_body_over_the_limit_is_refused_early(api: Api) -> None:
    """A chunked upload with no Content-Length is cut off once it passes 4 MB."""
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"batch": [{"type": "track", "userId": "u", "event": "x", "properties": {"p": "'
        for _ in range(64):
            sent += 1
            yield b"z" * 2**17
        yield b'"}}]}'

    r = await api.client.post("/v1/batch", content=chunks(), auth=(api.write_key, ""))
    assert r.status_code == 413, r.text
    assert (r.json()["code"], r.json()["field"]) == ("payload_too_large", "body")
    assert sent < 40  # stopped reading at the limit (32 chunks of 128 KB), not at the end


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Basic d2tfbm9wZTo="}, 401, "unauthorized"),
        ({"Content-Encoding": "br"}, 400, "invalid_request"),
    ],
)
async def test_error_bodies_carry_a_code(
    api: Api, headers: dict[str, str], status: int, code: str
) -> None:
    r = await api.client.post(
        "/v1/track", content=b'{"userId": "u", "event": "x"}', headers=headers
    )
    assert r.status_code == status
    assert r.json()["code"] == code and r.json()["message"]
