"""Segment Tracking API messages: validation and normalisation into store rows.

Validation runs before the acknowledgement, so every rejected message gets a 4xx naming the
field and nothing of its request is stored. Normalisation decides the message id, the hash
used for de-duplication, the skew-corrected timestamp and the channel.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from safar.errors import ValidationFailed
from safar.events.channels import NEUTRAL, infer_channel, normalize_channel

MessageType = Literal["track", "identify", "page", "screen", "group", "alias"]
MESSAGE_TYPES: tuple[str, ...] = ("track", "identify", "page", "screen", "group", "alias")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MIN_TS = datetime(1970, 1, 2, tzinfo=UTC)
MAX_TS = datetime(2200, 1, 1, tzinfo=UTC)


def _id_string(value: Any) -> Any:
    """Segment accepts numeric ids; store every id as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _no_control(value: str | None) -> str | None:
    if value is None:
        return None
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


#: The length limit sits on the ``str`` arm: on the union it would crash on an explicit null
#: (which SDKs send for the id they do not have).
IdText = Annotated[
    Annotated[str, StringConstraints(max_length=255)] | None,
    BeforeValidator(_id_string),
]


class SegmentMessage(BaseModel):
    """One message of the Segment spec; unknown top-level fields are kept but ignored."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: MessageType
    messageId: IdText = None
    userId: IdText = None
    anonymousId: IdText = None
    event: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    groupId: IdText = None
    previousId: IdText = None
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None
    timestamp: datetime | None = None
    originalTimestamp: datetime | None = None
    sentAt: datetime | None = None
    channel: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _check(self) -> SegmentMessage:
        for name in ("messageId", "userId", "anonymousId", "groupId", "previousId", "event"):
            try:
                _no_control(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name} {exc}") from None
        if self.userId == "":
            self.userId = None
        if self.anonymousId == "":
            self.anonymousId = None
        if self.userId is None and self.anonymousId is None:
            raise ValueError("userId or anonymousId is required")
        if self.type == "track" and not (self.event and self.event.strip()):
            raise ValueError("event is required for track calls")
        if self.type == "group" and not self.groupId:
            raise ValueError("groupId is required for group calls")
        if self.type == "alias" and not (self.previousId and self.userId):
            raise ValueError("previousId and userId are required for alias calls")
        for name in ("timestamp", "originalTimestamp", "sentAt"):
            value = getattr(self, name)
            if value is None:
                continue
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
                setattr(self, name, value)
            if not MIN_TS <= value <= MAX_TS:
                raise ValueError(f"{name} is outside the years 1970-2200")
        return self


def _loc(prefix: str, loc: tuple[int | str, ...]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_message(raw: Any, *, prefix: str = "") -> SegmentMessage:
    """Validate one raw message, raising ValidationFailed that names the offending field."""
    if not isinstance(raw, dict):
        raise ValidationFailed(f"{prefix or 'body'} must be a JSON object", field=prefix or "body")
    try:
        return SegmentMessage.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = _loc(prefix, tuple(err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "literal_error" and err["loc"] == ("type",):
            msg = "type must be one of " + ", ".join(MESSAGE_TYPES)
        if not err["loc"]:
            # Model-level rule: name the field the message mentions.
            first = msg.split(" ", 1)[0]
            field = _loc(prefix, (first,)) if first[:1].islower() else (prefix or "body")
        text = msg if msg.startswith(field.rsplit(".", 1)[-1] + " ") else f"{field}: {msg}"
        if not text.startswith(field):
            text = f"{field}: {text}"
        raise ValidationFailed(text, field=field) from None


def message_hash(workspace_id: str, message_id: str) -> int:
    """64-bit key of (workspace, messageId) used by the de-duplication filter."""
    digest = hashlib.blake2b(f"{workspace_id}\x00{message_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _micros(value: datetime) -> int:
    return int(value.timestamp() * 1_000_000)


def event_time(
    msg: SegmentMessage, received_at: datetime, batch_sent_at: datetime | None
) -> datetime:
    """Correct device clock skew the way Segment documents it.

    ``timestamp = receivedAt - (sentAt - originalTimestamp)`` when the client sent both; the
    client's own time otherwise; the time of receipt when it sent none.
    """
    original = msg.timestamp or msg.originalTimestamp
    sent = msg.sentAt or batch_sent_at
    if original is None:
        return received_at
    if sent is None:
        return original
    return received_at - (sent - original)


def normalize(
    msg: SegmentMessage,
    *,
    workspace_id: str,
    received_at: datetime,
    batch_sent_at: datetime | None = None,
    default_channel: str | None = None,
    source: str = "api",
    field: str = "",
) -> dict[str, Any]:
    """Turn a validated message into the row the WAL carries and the event store keeps."""
    context = msg.context or {}
    raw_channel = context.get("channel") or msg.channel
    channel: str | None = None
    if raw_channel is not None and str(raw_channel).strip().lower() not in NEUTRAL:
        channel = normalize_channel(str(raw_channel))
        if channel is None:
            where = f"{field}.context.channel" if field else "context.channel"
            raise ValidationFailed(
                f"{where}: unknown channel {str(raw_channel)[:40]!r}; use one of web, app, email, "
                "sms, chat, phone, social, store, voice, iot, other",
                field=where,
            )
    if channel is None:
        channel = infer_channel(msg.type, context, default_channel)
    message_id = msg.messageId
    if not message_id:
        # Deterministic, so a retried request without ids is still recognised as the same one.
        body = msg.model_dump(mode="json", exclude={"sentAt"})
        message_id = "gen-" + str(
            uuid.UUID(
                bytes=hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()[:16]
            )
        )
    ts = event_time(msg, received_at, batch_sent_at)
    original = msg.timestamp or msg.originalTimestamp
    sent = msg.sentAt or batch_sent_at
    return {
        "workspace_id": workspace_id,
        "message_id": message_id,
        "message_hash": message_hash(workspace_id, message_id),
        "type": msg.type,
        "event": msg.event if msg.type == "track" else None,
        "name": msg.name,
        "channel": channel,
        "user_id": msg.userId,
        "anonymous_id": msg.anonymousId,
        "group_id": msg.groupId,
        "previous_id": msg.previousId,
        "timestamp": _micros(ts),
        "original_timestamp": _micros(original) if original else None,
        "sent_at": _micros(sent) if sent else None,
        "received_at": _micros(received_at),
        "properties": msg.properties or {},
        "traits": msg.traits or {},
        "context": context,
        "source": source,
    }


def parse_time(value: Any, field: str) -> datetime | None:
    """Parse a top-level batch time (``sentAt``) with the same rules as message times."""
    if value is None:
        return None
    try:
        ts = SegmentMessage.model_validate(
            {"type": "identify", "userId": "x", "sentAt": value}
        ).sentAt
    except ValidationError:
        raise ValidationFailed(f"{field}: not a valid ISO-8601 time", field=field) from None
    return ts
