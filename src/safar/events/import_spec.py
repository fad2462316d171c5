"""What an import is asked to do: the mapping options, checked before any row is read.

``FIELD=COLUMN`` maps a column onto a Segment field (userId, anonymousId, event, type, name,
timestamp, messageId, channel, groupId, previousId, sentAt, originalTimestamp) or a nested one
(``properties.X``, ``traits.X``, ``context.X.Y``); ``EVENT=COLUMN`` turns a table of
operational data into one event per filled timestamp column. Every mistake names its option.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safar.errors import ValidationFailed
from safar.events.channels import normalize_channel
from safar.events.import_readers import detect_format
from safar.events.messages import MESSAGE_TYPES

TOP_FIELDS = (
    "type",
    "event",
    "name",
    "category",
    "userId",
    "anonymousId",
    "groupId",
    "previousId",
    "messageId",
    "timestamp",
    "originalTimestamp",
    "sentAt",
    "channel",
)
NESTED = ("properties", "traits", "context")
TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt")
UNMAPPED_TARGETS = ("properties", "traits", "context", "drop")


def _check_field(name: str, where: str) -> str:
    name = name.strip()
    head, _, rest = name.partition(".")
    if head in NESTED and rest and all(rest.split(".")):
        return name
    if name in TOP_FIELDS:
        return name
    raise ValidationFailed(
        f"{where}: unknown field {name!r}; use a Segment field ({', '.join(TOP_FIELDS)}) "
        "or properties.X, traits.X, context.X",
        field=where.lstrip("-"),
    )


def parse_mapping(items: list[str]) -> dict[str, str]:
    """Parse ``FIELD=COLUMN`` options into {field: column}."""
    out: dict[str, str] = {}
    for item in items:
        target, sep, column = item.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise ValidationFailed(
                f"--map: {item!r} is not FIELD=COLUMN (e.g. userId=customer_id)", field="map"
            )
        out[_check_field(target, "--map")] = column.strip()
    return out


def parse_events(items: list[str]) -> dict[str, str]:
    """Parse ``EVENT=TIMESTAMP_COLUMN`` options: one event per row for each filled column."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, column = item.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise ValidationFailed(
                f"--events: {item!r} is not EVENT=TIMESTAMP_COLUMN (e.g. order_shipped=shipped_at)",
                field="events",
            )
        out[name.strip()] = column.strip()
    return out


def load_mapping_file(path: Path) -> dict[str, Any]:
    """Read a JSON or YAML mapping file: keys map, events, event, type, channel, unmapped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationFailed(f"--mapping-file: cannot read {path} ({exc.strerror})") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:
        raise ValidationFailed(
            f"--mapping-file: {path.name} is not valid {path.suffix.lstrip('.') or 'JSON'} ({exc})",
            field="mapping_file",
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed("--mapping-file: must hold an object", field="mapping_file")
    allowed = {"map", "events", "event", "type", "channel", "unmapped"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(
            f"--mapping-file: unknown key {unknown[0]!r}; use {', '.join(sorted(allowed))}",
            field=f"mapping_file.{unknown[0]}",
        )
    for key in ("map", "events"):
        value = data.get(key)
        if value is not None and not (
            isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        ):
            raise ValidationFailed(
                f"--mapping-file: {key} must map names to column names",
                field=f"mapping_file.{key}",
            )
    data["map"] = {
        _check_field(str(k), "mapping_file.map"): v for k, v in (data.get("map") or {}).items()
    }
    return data


@dataclass
class ImportSpec:
    """What to import and how its columns become Segment messages."""

    path: Path
    workspace_id: str
    mapping: dict[str, str] = field(default_factory=dict)
    fmt: str | None = None
    event: str | None = None
    channel: str | None = None
    #: {event name: timestamp column}: each row yields one event per filled column.
    events: dict[str, str] = field(default_factory=dict)
    type: str | None = None
    unmapped: str = "properties"
    #: Columns left out of the messages altogether.
    drop: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.fmt = detect_format(self.path, self.fmt)
        if self.type is not None and self.type not in MESSAGE_TYPES:
            raise ValidationFailed(
                f"--type: {self.type!r} is not one of {', '.join(MESSAGE_TYPES)}", field="type"
            )
        if self.channel is not None and normalize_channel(self.channel) is None:
            raise ValidationFailed(
                f"--channel: unknown channel {self.channel!r}; use one of web, app, email, sms, "
                "chat, phone, social, store, voice, iot, other",
                field="channel",
            )
        if self.unmapped not in UNMAPPED_TARGETS:
            raise ValidationFailed(
                f"--unmapped: use one of {', '.join(UNMAPPED_TARGETS)}", field="unmapped"
            )
        if self.events and (self.event or "event" in self.mapping):
            raise ValidationFailed(
                "--events names the events itself; do not also give --event or --map event=...",
                field="events",
            )
        if self.events and self.type not in (None, "track"):
            raise ValidationFailed("--events makes track events; drop --type", field="type")
