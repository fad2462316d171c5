"""The whole-request fast path of the ingest endpoints decides exactly like the per-message path.

``fast_rows`` may refuse a request (the per-message path then decides and names the field),
but whatever it accepts must give the rows ``parse_message`` + ``normalize`` give.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from safar.errors import ValidationFailed
from safar.events.messages import fast_rows, normalize, parse_message

RECEIVED = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
SENT = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
BASE: dict[str, Any] = {"type": "track", "messageId": "m-1", "userId": "u-1", "event": "Viewed"}

CASES: list[dict[str, Any]] = [
    BASE,
    {**BASE, "anonymousId": "a-1", "properties": {"sku": "X", "price": 12.5}},
    {**BASE, "userId": None, "anonymousId": "a-1"},
    {**BASE, "userId": "", "anonymousId": "a-1"},
    {**BASE, "userId": "", "anonymousId": ""},
    {**BASE, "userId": None},
    {**BASE, "userId": 42},
    {**BASE, "userId": 4.5},
    {**BASE, "userId": True},
    {**BASE, "userId": "x" * 255},
    {**BASE, "userId": "x" * 256},
    {**BASE, "userId": "bad\x00id"},
    {**BASE, "userId": "new\nline"},
    {**BASE, "messageId": ""},
    {**BASE, "messageId": None},
    {**BASE, "messageId": 7},
    {**BASE, "messageId": "ctl\x1f"},
    {**BASE, "event": ""},
    {**BASE, "event": "   "},
    {**BASE, "event": None},
    {**BASE, "event": "e\x7f"},
    {**BASE, "event": "e" * 201},
    {**BASE, "name": "n" * 201},
    {**BASE, "category": 5},
    {**BASE, "type": "page", "event": "ignored", "name": "Home"},
    {**BASE, "type": "screen", "event": None, "name": "Cart"},
    {**BASE, "type": "identify", "traits": {"email": "a@b.co"}},
    {**BASE, "type": "group", "groupId": "g-1", "traits": {"type": "household"}},
    {**BASE, "type": "group"},
    {**BASE, "type": "alias", "previousId": "a-9"},
    {**BASE, "type": "alias", "previousId": "a-9", "userId": ""},
    {**BASE, "type": "alias"},
    {**BASE, "type": "unknown"},
    {**BASE, "timestamp": "2026-03-01T10:00:00Z"},
    {**BASE, "timestamp": "2026-03-01T10:00:00.123Z"},
    {**BASE, "timestamp": "2026-03-01T13:30:00.000001+03:30"},
    {**BASE, "timestamp": "2026-03-01T10:00:00"},
    {**BASE, "timestamp": 1772359200},
    {**BASE, "timestamp": "1960-01-01T00:00:00Z"},
    {**BASE, "timestamp": "2300-01-01T00:00:00Z"},
    {**BASE, "timestamp": "not a time"},
    {**BASE, "originalTimestamp": "2026-03-01T10:00:00Z", "sentAt": "2026-03-01T10:00:30Z"},
    {**BASE, "timestamp": "2026-03-01T10:00:00Z", "sentAt": "2026-03-01T10:00:30"},
    {**BASE, "sentAt": "2026-03-01T10:00:30Z"},
    {**BASE, "context": {"channel": "SMS"}},
    {**BASE, "context": {"channel": "carrier-pigeon"}},
    {**BASE, "context": {"channel": "server"}},
    {**BASE, "context": {"library": {"name": "analytics-ios"}}},
    {**BASE, "context": "not an object"},
    {**BASE, "channel": "email"},
    {**BASE, "channel": "c" * 41},
    {**BASE, "properties": []},
    {**BASE, "properties": None, "traits": None, "context": None},
    {**BASE, "integrations": {"All": False}, "extra_field": [1, 2]},
    "not an object",
]


def _slow(
    raw: Any, *, sent: datetime | None, shared: dict[str, Any] | None
) -> dict[str, Any] | None:
    if shared and isinstance(raw, dict) and isinstance(raw.get("context"), dict | None):
        raw = {**raw, "context": {**shared, **(raw.get("context") or {})}}
    try:
        msg = parse_message(raw, prefix="batch[0]")
        return normalize(
            msg,
            workspace_id="ws_1",
            received_at=RECEIVED,
            batch_sent_at=sent,
            default_channel="app",
            source="key_1",
            field="batch[0]",
        )
    except ValidationFailed:
        return None


@pytest.mark.parametrize("sent", [None, SENT])
@pytest.mark.parametrize("shared", [None, {"channel": "web", "ip": "10.0.0.1"}])
@pytest.mark.parametrize("raw", CASES)
def test_fast_path_accepts_only_what_the_message_path_accepts(
    raw: Any, sent: datetime | None, shared: dict[str, Any] | None
) -> None:
    expected = _slow(raw, sent=sent, shared=shared)
    got = fast_rows(
        [raw],
        workspace_id="ws_1",
        received_at=RECEIVED,
        batch_sent_at=sent,
        shared_context=shared,
        default_channel="app",
        source="key_1",
    )
    if expected is None:
        assert got is None
    elif got is not None:
        assert got == [expected]


def test_fast_path_takes_ordinary_traffic() -> None:
    items = [c for c in CASES[:4] + CASES[24:28]]
    rows = fast_rows(items, workspace_id="ws_1", received_at=RECEIVED, batch_sent_at=SENT)
    assert rows is not None and len(rows) == len(items)


def test_one_bad_message_sends_the_whole_request_to_the_message_path() -> None:
    rows = fast_rows([BASE, {**BASE, "userId": None}], workspace_id="ws_1", received_at=RECEIVED)
    assert rows is None


def test_times_are_exact_microseconds() -> None:
    """Float seconds would turn .123 into .122999 for some times; the row keeps every digit."""
    raw = {**BASE, "timestamp": "2026-11-20T10:00:00.123456Z"}
    rows = fast_rows([raw], workspace_id="ws_1", received_at=RECEIVED)
    assert rows is not None
    expected = datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=UTC)
    assert rows[0]["timestamp"] == int(expected.timestamp()) * 1_000_000 + 123456
