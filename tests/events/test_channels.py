"""How a message's channel is decided: its context, the SDK, the batch, or the write key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from safar.config import Settings
from safar.events.messages import normalize, parse_message
from tests.events.factories import Api, at, open_api


@pytest.mark.parametrize(
    ("message", "default", "expected"),
    [
        ({"type": "track", "context": {"channel": "SMS"}}, None, "sms"),
        ({"type": "track", "context": {"channel": " WhatsApp "}}, None, "chat"),
        ({"type": "track", "context": {"channel": "call_center"}}, None, "phone"),
        ({"type": "track", "channel": "mobile"}, None, "app"),
        ({"type": "track", "channel": "mobile", "context": {"channel": "email"}}, None, "email"),
        ({"type": "page", "channel": "server"}, None, "web"),
        ({"type": "screen", "context": {"channel": "server"}}, None, "app"),
        (
            {
                "type": "track",
                "channel": "server",
                "context": {"library": {"name": "analytics-python"}},
            },
            None,
            "other",
        ),
        ({"type": "track", "context": {"library": {"name": "analytics.js"}}}, None, "web"),
        (
            {"type": "track", "context": {"library": {"name": "@segment/analytics-next"}}},
            None,
            "web",
        ),
        ({"type": "identify", "context": {"library": {"name": "analytics-ios"}}}, None, "app"),
        (
            {"type": "track", "context": {"library": {"name": "analytics-android"}}},
            "store",
            "store",
        ),
        ({"type": "track"}, "email", "email"),
        ({"type": "page", "context": {"channel": "sms"}}, "email", "sms"),
    ],
)
def test_channel_of_a_message(message: dict[str, Any], default: str | None, expected: str) -> None:
    msg = parse_message({"userId": "u", "event": "E", **message})
    row = normalize(msg, workspace_id="ws", received_at=datetime.now(UTC), default_channel=default)
    assert row["channel"] == expected


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(Settings(data_dir=tmp_path / "safar")) as api:
        yield api


async def test_batch_context_and_write_key_default_channel(api: Api) -> None:
    # The batch-level context applies to messages that do not say otherwise.
    await api.batch(
        [
            {
                "type": "track",
                "messageId": "b1",
                "userId": "u",
                "event": "Opened",
                "timestamp": at(0),
            },
            {
                "type": "track",
                "messageId": "b2",
                "userId": "u",
                "event": "Replied",
                "timestamp": at(1),
                "context": {"channel": "sms"},
            },
        ],
        context={"channel": "email", "campaign": {"name": "Nowruz"}},
    )
    # A write key made for the shop's tills labels what it sends as in-store.
    r = await api.client.post(
        "/api/keys", headers=api.bearer, json={"kind": "write", "default_channel": "store"}
    )
    assert r.status_code == 201, r.text
    till = Api(api.client, r.json()["key"], api.secret_key)
    await till.send(
        "track", {"messageId": "s1", "userId": "u", "event": "Paid", "timestamp": at(2)}
    )
    bad = await api.client.post(
        "/api/keys", headers=api.bearer, json={"kind": "write", "default_channel": "pigeon"}
    )
    assert bad.status_code == 400 and bad.json()["field"] == "default_channel"
    await api.flush()
    pid = (await api.lookup("user_id", "u"))["id"]
    events = await api.timeline(pid)
    assert [(e["message_id"], e["channel"]) for e in events] == [
        ("s1", "store"),
        ("b2", "sms"),
        ("b1", "email"),
    ]
    assert events[2]["context"]["campaign"] == {"name": "Nowruz"}
    assert events[1]["context"]["campaign"] == {"name": "Nowruz"}
