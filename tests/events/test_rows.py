"""``EventRow`` is the one shape of an event row: the code that builds rows cannot drift from it.

Both ways of building rows (``normalize`` per message, ``fast_rows`` per request) must give
exactly its keys with values of its types, and the store's columns and the Literal vocabularies
must match what they type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

import pytest
from pydantic import TypeAdapter

from safar.events.messages import fast_rows, normalize, parse_message
from safar.events.pipeline import decode_record, encode_record
from safar.events.rows import MESSAGE_TYPES, EventRow, MessageType
from safar.events.store import COLUMNS
from safar.kit.channels import ALIASES, CHANNELS, Channel

RECEIVED = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
SENT = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
KEYS = set(EventRow.__annotations__)
ROW = TypeAdapter(EventRow)

MESSAGES: list[dict[str, Any]] = [
    {"type": "track", "messageId": "m-1", "userId": "u-1", "event": "Viewed"},
    {
        "type": "identify",
        "messageId": "m-2",
        "anonymousId": "a-1",
        "traits": {"email": "a@b.co"},
        "context": {"channel": "whatsapp", "library": {"name": "analytics.js"}},
        "timestamp": "2026-03-01T10:00:00Z",
        "sentAt": "2026-03-01T10:00:02Z",
    },
    {"type": "page", "messageId": "m-3", "userId": "u-1", "name": "Home", "channel": "amp"},
    {"type": "group", "messageId": "m-4", "userId": "u-1", "groupId": "g-1"},
    {"type": "alias", "messageId": "m-5", "userId": "u-1", "previousId": "a-1"},
    {"type": "screen", "messageId": "m-6", "userId": "u-1", "timestamp": "1970-01-01T00:00:00Z"},
]


def _slow(message: dict[str, Any]) -> EventRow:
    return normalize(
        parse_message(message), workspace_id="ws_1", received_at=RECEIVED, batch_sent_at=SENT
    )


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: str(m["type"]))
def test_both_paths_build_exactly_the_event_row(message: dict[str, Any]) -> None:
    slow = _slow(message)
    fast = fast_rows([message], workspace_id="ws_1", received_at=RECEIVED, batch_sent_at=SENT)
    assert fast is not None
    for row in (slow, fast[0]):
        assert set(row) == KEYS
        ROW.validate_python(row, strict=True)  # every value of its declared type


def test_a_message_without_id_still_builds_the_event_row() -> None:
    row = _slow({"type": "track", "anonymousId": "a-1", "event": "Opened"})
    assert set(row) == KEYS
    ROW.validate_python(row, strict=True)


def test_the_log_gives_back_the_rows_it_was_given() -> None:
    rows = [_slow(m) for m in MESSAGES]
    assert decode_record(encode_record(rows)) == rows


def test_the_store_columns_are_the_event_row_keys_in_order() -> None:
    assert tuple(EventRow.__annotations__) == COLUMNS


def test_the_literal_vocabularies_match_their_tuples() -> None:
    assert get_args(MessageType) == MESSAGE_TYPES
    assert get_args(Channel) == CHANNELS
    assert set(ALIASES.values()) <= set(CHANNELS)
