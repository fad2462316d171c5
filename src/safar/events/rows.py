"""The event row: what ingest normalises a message into, the write-ahead log carries, the
``Applier`` and its hooks receive, and the event store keeps.

It is a ``TypedDict`` so every boundary names one shape while the rows stay the plain dicts
the hot path builds and orjson serialises: it costs nothing at run time and nothing checks it
there. ``tests/events/test_rows.py`` holds ``normalize`` and ``fast_rows`` to exactly these keys.
"""

from __future__ import annotations

from typing import Any, Literal

# typing_extensions: pydantic can then check rows against the type on Python 3.11 (tests do).
from typing_extensions import TypedDict

from safar.kit.channels import Channel

MessageType = Literal["track", "identify", "page", "screen", "group", "alias"]
MESSAGE_TYPES: tuple[MessageType, ...] = ("track", "identify", "page", "screen", "group", "alias")


class EventRow(TypedDict):
    """One normalised message. Times are microseconds since the epoch, in UTC."""

    workspace_id: str
    message_id: str
    #: 64-bit key of (workspace, message id) for the de-duplication filter.
    message_hash: int
    type: MessageType
    #: The track call's event name; None for every other type.
    event: str | None
    name: str | None
    channel: Channel
    user_id: str | None
    anonymous_id: str | None
    group_id: str | None
    previous_id: str | None
    #: Skew-corrected time of the event.
    timestamp: int
    original_timestamp: int | None
    sent_at: int | None
    received_at: int
    properties: dict[str, Any]
    traits: dict[str, Any]
    context: dict[str, Any]
    #: Where the row came from: ``api``, ``import``, ``demo``, ...
    source: str
