"""Records to Segment messages: typed cell values, the mapping applied, ids from content.

A record's messageId is its mapped ``messageId`` column or, when the file has none, a hash of
the workspace and the record's content (never its position or the file name), so importing
the same file again stores nothing twice.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson

from safar.errors import ValidationFailed
from safar.events.import_spec import NESTED, TIME_FIELDS, TOP_FIELDS, ImportSpec

_INT = re.compile(r"-?(?:0|[1-9]\d{0,17})")
_FLOAT = re.compile(r"-?(?:0|[1-9]\d*)?\.\d+(?:[eE][-+]?\d+)?|-?(?:0|[1-9]\d*)[eE][-+]?\d+")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y/%m/%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y/%m/%d")


def _coerce(text: str) -> Any:
    """Typed value of a CSV cell: numbers and booleans, leading-zero codes kept as text."""
    if text == "":
        return None
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    return text


def plain(value: Any) -> Any:
    """JSON-ready value (Parquet hands over datetimes, decimals and bytes)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN: an empty cell
        return None
    return value


def _time(value: Any) -> Any:
    """Accept common table time formats besides ISO-8601; leave the rest to the validator."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        pass
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).isoformat()
        except ValueError:
            continue
    return text


def _set(msg: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = msg
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _get(record: dict[str, Any], column: str) -> Any:
    if column in record:
        return record[column]
    node: Any = record
    for part in column.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# -- records to messages ----------------------------------------------------------------------
class Builder:
    """Turns the records of one file into messages as its ImportSpec says."""

    def __init__(self, spec: ImportSpec, columns: list[str] | None, typed: bool) -> None:
        self.spec = spec
        self.typed = typed
        self.used = set(spec.mapping.values()) | set(spec.events.values()) | set(spec.drop)
        # In a table of O-data the row's own id (say order_id) is what X-data joins on later:
        # keep it in the properties of each event it yields, besides deriving the messageIds.
        if spec.events and "messageId" in spec.mapping:
            self.used.discard(spec.mapping["messageId"])
        if columns is not None:
            for target, column in [
                *((f"--map {f}", c) for f, c in spec.mapping.items()),
                *((f"--events {e}", c) for e, c in spec.events.items()),
                *(("--drop", c) for c in spec.drop),
            ]:
                if column not in columns:
                    raise ValidationFailed(
                        f"{target}={column}: no column {column!r} in the file "
                        f"(columns: {', '.join(columns[:30])})",
                        field=target.split(" ")[0].lstrip("-"),
                    )

    def _value(self, value: Any, *, top: bool) -> Any:
        if isinstance(value, str) and not self.typed:
            return (value if value != "" else None) if top else _coerce(value)
        return plain(value)

    def base(self, record: dict[str, Any]) -> dict[str, Any]:
        """The message a record describes, before per-event fields (content only, no ids)."""
        msg: dict[str, Any] = {}
        target = self.spec.unmapped
        for column, raw in record.items():
            if column in self.used:
                continue
            head, _, rest = column.partition(".")
            if column in TOP_FIELDS:
                value = self._value(raw, top=True)
                if not _empty(value):
                    msg[column] = value
            elif column in NESTED and isinstance(raw, dict):
                node = msg.setdefault(column, {})
                if isinstance(node, dict):
                    node.update(plain(raw))
            elif head in NESTED and rest:
                value = self._value(raw, top=False)
                if value is not None:
                    _set(msg, column, value)
            elif target != "drop":
                value = self._value(raw, top=False)
                if value is not None:
                    msg.setdefault(target, {})[column] = value
        for fld, column in self.spec.mapping.items():
            value = self._value(_get(record, column), top="." not in fld)
            if _empty(value):
                continue
            if fld in ("userId", "anonymousId", "groupId", "previousId", "messageId"):
                value = str(value) if not isinstance(value, str) else value
            _set(msg, fld, value)
        for name in TIME_FIELDS:
            if name in msg:
                msg[name] = _time(msg[name])
        if self.spec.channel and not msg.get("channel"):
            ctx = msg.get("context")
            if not (isinstance(ctx, dict) and ctx.get("channel")):
                msg["channel"] = self.spec.channel
        return msg

    def messages(self, record: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str | None]]:
        """Yield (message, messageId from the file or None) for each event of a record."""
        msg = self.base(record)
        own_id = msg.pop("messageId", None)
        if not self.spec.events:
            if self.spec.event:
                msg.setdefault("event", self.spec.event)
            if "type" not in msg:
                msg["type"] = self.spec.type or (
                    "identify" if msg.get("traits") and not msg.get("event") else "track"
                )
            yield msg, own_id
            return
        for name, column in self.spec.events.items():
            when = _get(record, column)
            if _empty(when):
                yield {}, None  # an event that has not happened yet
                continue
            one = {**msg, "type": "track", "event": name, "timestamp": _time(plain(when))}
            yield one, f"{own_id}:{name}" if own_id else None


def content_id(workspace_id: str, msg: dict[str, Any]) -> str:
    """Deterministic messageId of a record's content within a workspace."""
    body = orjson.dumps(msg, option=orjson.OPT_SORT_KEYS, default=str)
    digest = hashlib.sha256(workspace_id.encode() + b"\x00" + body).digest()[:16]
    return "imp-" + str(uuid.UUID(bytes=digest))
