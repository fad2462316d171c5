"""Segment Tracking API messages: validation and normalisation into store rows.

Validation runs before the acknowledgement and names the field of every message it refuses
(the endpoint stores the others, as Segment does). Normalisation decides the message id, the
hash used for de-duplication, the skew-corrected timestamp and the channel; what it had to
guess it records under ``context.safar`` (an unknown channel word, an epoch-zero time).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, NotRequired

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict

from safar.errors import ValidationFailed
from safar.events.channels import NEUTRAL, Channel, infer_channel, normalize_channel
from safar.events.rows import MESSAGE_TYPES as MESSAGE_TYPES  # re-exported for its callers
from safar.events.rows import EventRow, MessageType

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Times before this are a device clock that was never set (epoch zero): "unknown time".
MIN_TS = datetime(1970, 1, 2, tzinfo=UTC)
MAX_TS = datetime(2200, 1, 1, tzinfo=UTC)
#: Segment's own documentation and older SDKs write dates without zero padding
#: (``2015-2-02T00:30:08.276Z``); pydantic's ISO parser wants two digits.
_LENIENT_TIME = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(\.\d+)?)?)?"
    r"\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?"
)


def _id_string(value: Any) -> Any:
    """Segment accepts numeric ids; store every id as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _lenient_time(value: Any) -> Any:
    """Zero-pad the date and time parts of a loosely written ISO-8601 time."""
    if not isinstance(value, str) or not (m := _LENIENT_TIME.fullmatch(value.strip())):
        return value
    y, mo, d, h, mi, sec, frac, zone = m.groups()
    out = f"{y}-{int(mo):02d}-{int(d):02d}"
    if h is not None:
        out += f"T{int(h):02d}:{int(mi):02d}:{int(sec or 0):02d}{frac or ''}{zone or ''}"
    return out


LenientTime = Annotated[datetime | None, BeforeValidator(_lenient_time)]


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
    timestamp: LenientTime = None
    originalTimestamp: LenientTime = None
    sentAt: LenientTime = None
    channel: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _check(self) -> SegmentMessage:
        for name in ("messageId", "userId", "anonymousId", "groupId", "previousId", "event"):
            try:
                _no_control(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name} {exc}") from None
        error = _message_rules(self.__dict__)
        if error is not None:
            raise ValueError(error)
        return self


_TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt")


def _message_rules(m: dict[str, Any]) -> str | None:
    """The rules across a message's fields, on its fields by name (a model's ``__dict__`` or a
    fast-path dict), shared by both validation paths: the error, or None. Empty ids become None
    and times without a zone are taken as UTC, in place."""
    for name in ("userId", "anonymousId"):
        if m.get(name) == "":
            m[name] = None
    if m.get("userId") is None and m.get("anonymousId") is None:
        return "userId or anonymousId is required"
    kind = m["type"]
    if kind == "track" and not ((event := m.get("event")) and event.strip()):
        return "event is required for track calls"
    if kind == "group" and not m.get("groupId"):
        return "groupId is required for group calls"
    if kind == "alias" and not (m.get("previousId") and m.get("userId")):
        return "previousId and userId are required for alias calls"
    for name in _TIME_FIELDS:
        value = m.get(name)
        if value is None:
            continue
        if value.tzinfo is None:
            value = m[name] = value.replace(tzinfo=UTC)
        if not _EPOCH <= value <= MAX_TS:
            return f"{name} is outside the years 1970-2200"
    return None


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


_MICROSECOND = timedelta(microseconds=1)
_MIN_US = (MIN_TS - _EPOCH) // _MICROSECOND


def _micros(value: datetime) -> int:
    """Microseconds since the epoch, exactly (no float rounding)."""
    return (value - _EPOCH) // _MICROSECOND


def normalize(
    msg: SegmentMessage,
    *,
    workspace_id: str,
    received_at: datetime,
    batch_sent_at: datetime | None = None,
    default_channel: Channel | None = None,
    source: str = "api",
    field: str = "",
) -> EventRow:
    """Turn a validated message into the row the WAL carries and the event store keeps."""
    message_id = msg.messageId
    if not message_id:
        # Deterministic, so a retried request without ids is still recognised as the same one,
        # as long as the client stamped a time. Without one, nothing tells a retry from a new
        # send of the same thing: the time of receipt and the position keep them apart (two
        # identical sends are two events at Segment too).
        body = msg.model_dump(mode="json", exclude={"sentAt"})
        if msg.timestamp is None and msg.originalTimestamp is None:
            body["_received"] = [_micros(received_at), field]
        message_id = "gen-" + str(
            uuid.UUID(
                bytes=hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()[:16]
            )
        )
    return _row(
        msg.__dict__,
        message_id,
        workspace_id=workspace_id,
        received_us=_micros(received_at),
        batch_sent_us=_micros(batch_sent_at) if batch_sent_at else None,
        default_channel=default_channel,
        source=source,
    )


def _row(
    m: dict[str, Any],
    message_id: str,
    *,
    workspace_id: str,
    received_us: int,
    batch_sent_us: int | None,
    default_channel: Channel | None,
    source: str,
) -> EventRow:
    """The store row of a validated message (``m``: its fields by name; absent means None)."""
    get = m.get
    context = get("context") or {}
    notes: dict[str, Any] | None = None
    raw_channel = context.get("channel") or get("channel")
    channel: Channel | None = None
    if raw_channel is not None and str(raw_channel).strip().lower() not in NEUTRAL:
        channel = normalize_channel(str(raw_channel))
        if channel is None:
            # A word outside Safar's list (amp, webhook, cloud...) is still a real event.
            channel = "other"
            notes = {"channelWord": str(raw_channel)[:40]}
    kind = m["type"]
    if channel is None:
        channel = infer_channel(kind, context, default_channel)
    original = get("timestamp") or get("originalTimestamp")
    original_us = _micros(original) if original is not None else None
    if original_us is not None and original_us < _MIN_US:
        # Epoch zero: the device's clock was never set. Use the time of receipt.
        original_us = None
        notes = {**(notes or {}), "timestampUnknown": True}
    sent = get("sentAt")
    sent_us = _micros(sent) if sent is not None else batch_sent_us
    if sent_us is not None and sent_us < _MIN_US:
        sent_us = None
    if notes is not None:
        own = context.get("safar")
        context = {**context, "safar": {**(own if isinstance(own, dict) else {}), **notes}}
    # Device clock skew, corrected the way Segment documents it, in exact microseconds:
    # ``timestamp = receivedAt - (sentAt - originalTimestamp)`` when the client sent both; the
    # client's own time otherwise; the time of receipt when it sent none.
    if original_us is None:
        ts = received_us
    elif sent_us is None:
        ts = original_us
    else:
        ts = received_us - (sent_us - original_us)
    return {
        "workspace_id": workspace_id,
        "message_id": message_id,
        "message_hash": message_hash(workspace_id, message_id),
        "type": kind,
        "event": get("event") if kind == "track" else None,
        "name": get("name"),
        "channel": channel,
        "user_id": get("userId"),
        "anonymous_id": get("anonymousId"),
        "group_id": get("groupId"),
        "previous_id": get("previousId"),
        "timestamp": ts,
        "original_timestamp": original_us,
        "sent_at": sent_us,
        "received_at": received_us,
        "properties": get("properties") or {},
        "traits": get("traits") or {},
        "context": context,
        "source": source,
    }


# -- fast path -------------------------------------------------------------------------------
# The ingest endpoints validate whole requests at once against the TypedDict below, in
# pydantic-core, without a Python model per message. It accepts a subset of what
# ``SegmentMessage`` accepts (ids must already be strings and messageId must be present) and
# produces the same rows; anything it refuses is handed to the per-message path, which
# either accepts it or names the offending field. So errors are always the slow path's.
_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
_FastId = Annotated[str, StringConstraints(max_length=255, pattern=_NO_CONTROL)] | None
_FastName = Annotated[str, StringConstraints(max_length=200)] | None


@with_config(ConfigDict(extra="ignore"))
class _FastMessage(TypedDict):
    type: MessageType
    messageId: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=_NO_CONTROL)]
    userId: NotRequired[_FastId]
    anonymousId: NotRequired[_FastId]
    event: NotRequired[
        Annotated[str, StringConstraints(max_length=200, pattern=_NO_CONTROL)] | None
    ]
    name: NotRequired[_FastName]
    category: NotRequired[_FastName]
    groupId: NotRequired[_FastId]
    previousId: NotRequired[_FastId]
    properties: NotRequired[dict[str, Any] | None]
    traits: NotRequired[dict[str, Any] | None]
    context: NotRequired[dict[str, Any] | None]
    integrations: NotRequired[dict[str, Any] | None]
    timestamp: NotRequired[datetime | None]
    originalTimestamp: NotRequired[datetime | None]
    sentAt: NotRequired[datetime | None]
    channel: NotRequired[Annotated[str, StringConstraints(max_length=40)] | None]


_FAST_MESSAGES: TypeAdapter[list[_FastMessage]] = TypeAdapter(list[_FastMessage])


def fast_rows(
    items: list[Any],
    *,
    workspace_id: str,
    received_at: datetime,
    batch_sent_at: datetime | None = None,
    shared_context: dict[str, Any] | None = None,
    default_channel: Channel | None = None,
    source: str = "api",
) -> list[EventRow] | None:
    """Rows for a whole list of raw messages, or None when the per-message path must decide.

    Same rules and rows as ``parse_message`` + ``normalize`` for what it accepts.
    """
    try:
        messages = _FAST_MESSAGES.validate_python(items)
    except ValidationError:
        return None
    received_us = _micros(received_at)
    batch_sent_us = _micros(batch_sent_at) if batch_sent_at else None
    rows: list[EventRow] = []
    for m in messages:
        # Control characters are refused by the schema; the rest as the slow path does.
        if _message_rules(m) is not None:  # type: ignore[arg-type]
            return None
        if shared_context:
            m["context"] = {**shared_context, **(m.get("context") or {})}
        rows.append(
            _row(
                m,  # type: ignore[arg-type]
                m["messageId"],
                workspace_id=workspace_id,
                received_us=received_us,
                batch_sent_us=batch_sent_us,
                default_channel=default_channel,
                source=source,
            )
        )
    return rows


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
