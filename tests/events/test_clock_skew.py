"""Clock skew (Segment: timestamp = receivedAt - (sentAt - originalTimestamp)) and the
deterministic ids of messages that arrive without a messageId."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from safar.config import Settings
from safar.events.messages import normalize, parse_message
from tests.events.factories import Api, iso, open_api

R = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)  # when the server received it
AHEAD = timedelta(hours=2, minutes=3)  # the device's clock runs this far ahead


def _msg(**fields: Any) -> Any:
    return parse_message({"type": "track", "event": "E", "userId": "u", **fields})


@pytest.mark.parametrize(
    ("fields", "batch_sent_at", "expected"),
    [
        pytest.param(
            {"timestamp": iso(R + AHEAD - timedelta(minutes=5)), "sentAt": iso(R + AHEAD)},
            None,
            R - timedelta(minutes=5),
            id="message sentAt corrects a clock two hours fast",
        ),
        pytest.param(
            {"timestamp": iso(R - AHEAD - timedelta(days=2))},
            R - AHEAD,
            R - timedelta(days=2),
            id="batch sentAt corrects a slow clock and keeps an offline delay",
        ),
        pytest.param(
            {"timestamp": iso(R + AHEAD - timedelta(seconds=30)), "sentAt": iso(R + AHEAD)},
            R - timedelta(hours=9),
            R - timedelta(seconds=30),
            id="message sentAt wins over the batch's",
        ),
        pytest.param(
            {"originalTimestamp": iso(R + AHEAD - timedelta(minutes=1))},
            R + AHEAD,
            R - timedelta(minutes=1),
            id="originalTimestamp when there is no timestamp",
        ),
        pytest.param(
            {"timestamp": "2026-03-01T10:00:00Z"},
            None,
            datetime(2026, 3, 1, 10, tzinfo=UTC),
            id="no sentAt: the client's time as sent",
        ),
        pytest.param(
            {"timestamp": "2026-03-01T13:30:00+03:30"},
            None,
            datetime(2026, 3, 1, 10, tzinfo=UTC),
            id="time zone offsets are honoured",
        ),
        pytest.param(
            {"timestamp": "2026-03-01T10:00:00"},
            None,
            datetime(2026, 3, 1, 10, tzinfo=UTC),
            id="a time without zone is UTC",
        ),
        pytest.param({}, R + AHEAD, R, id="no time at all: the time of receipt"),
    ],
)
def test_event_time(
    fields: dict[str, Any], batch_sent_at: datetime | None, expected: datetime
) -> None:
    row = normalize(_msg(**fields), workspace_id="w", received_at=R, batch_sent_at=batch_sent_at)
    assert row["timestamp"] == (expected - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
        microseconds=1
    )


def test_generated_message_ids_are_deterministic() -> None:
    body = {"event": "Viewed", "timestamp": "2026-03-01T10:00:00Z", "properties": {"a": 1}}

    def mid(ws: str = "ws_1", **fields: Any) -> str:
        row = normalize(_msg(**{**body, **fields}), workspace_id=ws, received_at=R)
        return str(row["message_id"])

    first = mid()
    assert first.startswith("gen-")
    # A retry re-sends the same message with a new sentAt: same id.
    assert mid(sentAt=iso(R)) == first == mid(sentAt=iso(R + AHEAD))
    # Key order in the JSON does not matter.
    assert mid(properties={"a": 1}) == first
    # Anything that makes it another event gives another id.
    assert mid(timestamp="2026-03-01T10:00:01Z") != first
    assert mid(properties={"a": 2}) != first
    assert mid(event="Viewed again") != first
    # The same id in two workspaces is two different events to the de-duplication filter.
    a = normalize(_msg(**body), workspace_id="ws_1", received_at=R)
    b = normalize(_msg(**body), workspace_id="ws_2", received_at=R)
    assert a["message_id"] == b["message_id"] and a["message_hash"] != b["message_hash"]


def test_explicit_null_ids_are_accepted() -> None:
    """SDKs send ``"userId": null`` for the id they do not have."""
    msg = parse_message(
        {"type": "page", "userId": None, "anonymousId": "a-1", "messageId": None, "groupId": None}
    )
    assert (msg.userId, msg.anonymousId, msg.messageId) == (None, "a-1", None)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(Settings(data_dir=tmp_path / "safar")) as api:
        yield api


def _at(e: dict[str, Any], key: str) -> datetime:
    return datetime.fromisoformat(e[key].replace("Z", "+00:00"))


async def test_skew_is_corrected_over_http(api: Api) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    device = now + AHEAD
    batch = [
        {
            "type": "track",
            "messageId": "k1",
            "userId": "u",
            "event": "Batch sentAt",
            "timestamp": iso(device - timedelta(minutes=10)),
        },
        {
            "type": "track",
            "messageId": "k2",
            "userId": "u",
            "event": "Own sentAt",
            "originalTimestamp": iso(device - timedelta(hours=1) - timedelta(minutes=7)),
            "sentAt": iso(device - timedelta(hours=1)),
        },
        {"type": "track", "messageId": "k3", "userId": "u", "event": "No time"},
    ]
    await api.batch(batch, sentAt=iso(device))
    await api.flush()
    pid = (await api.lookup("user_id", "u"))["id"]
    events = {e["message_id"]: e for e in await api.timeline(pid)}
    for mid, offset in (("k1", timedelta(minutes=10)), ("k2", timedelta(minutes=7))):
        e = events[mid]
        assert _at(e, "timestamp") == _at(e, "received_at") - offset
        assert abs(_at(e, "received_at") - now) < timedelta(seconds=30)
    assert _at(events["k3"], "timestamp") == _at(events["k3"], "received_at")


async def test_messages_without_ids_dedupe_over_http(api: Api) -> None:
    no_id = {"type": "track", "userId": "u", "event": "Viewed", "timestamp": "2026-03-01T10:00:00Z"}
    other = {**no_id, "timestamp": "2026-03-01T10:05:00Z"}
    await api.batch([no_id, other], sentAt="2026-03-01T10:06:00Z")
    # The SDK retries the whole batch later; only its sentAt changed.
    await api.batch([no_id, other], sentAt="2026-03-01T10:09:00Z")
    await api.send("track", {k: v for k, v in no_id.items() if k != "type"})
    stats = await api.stats()
    assert stats["events"] == 2
    pid = (await api.lookup("user_id", "u"))["id"]
    ids = await api.timeline_ids(pid)
    assert len(set(ids)) == 2 and all(i.startswith("gen-") for i in ids)
