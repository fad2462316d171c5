"""Bulk import: files of events or of operational tables (O-data) into the event stores.

Each record of a JSONL, CSV or Parquet file becomes one Segment message (or several, one per
timestamp column, with ``events``), is validated by the same code as the HTTP API
(``parse_message`` + ``normalize``) and is stored through ``Applier.apply`` in chunks, the one
way events enter the stores. Bad records are reported with their line number and the field at
fault; good ones are kept.

Re-running an import stores nothing twice: a record's messageId is its mapped ``messageId``
column or, when the file has none, a hash of the workspace and the record's content (never
its position or the file name), and the applier drops messageIds it has already stored.

Mapping: ``FIELD=COLUMN`` where FIELD is a Segment field (userId, anonymousId, event, type,
name, timestamp, messageId, channel, groupId, previousId, sentAt, originalTimestamp) or a
nested one (``properties.X``, ``traits.X``, ``context.X.Y``). Columns named like a Segment field
map onto it without being told; every other column goes to ``properties`` (``unmapped``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from safar.errors import NotFound, SafarError, ValidationFailed
from safar.events.channels import normalize_channel
from safar.events.deps import IngestParts
from safar.events.import_readers import BadLine, Reader, detect_format
from safar.events.messages import MESSAGE_TYPES, normalize, parse_message

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
CHUNK = 5_000
ERROR_SAMPLES = 20
_INT = re.compile(r"-?(?:0|[1-9]\d{0,17})")
_FLOAT = re.compile(r"-?(?:0|[1-9]\d*)?\.\d+(?:[eE][-+]?\d+)?|-?(?:0|[1-9]\d*)[eE][-+]?\d+")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y/%m/%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y/%m/%d")


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
        field=where,
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


@dataclass
class ImportSummary:
    file: str
    format: str
    workspace_id: str
    rows: int = 0
    events: int = 0
    stored: int = 0
    duplicates: int = 0
    bad_rows: int = 0
    #: Multi-event rows whose timestamp column was empty for some event (not yet happened).
    skipped_events: int = 0
    seconds: float = 0.0
    report_path: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "workspace_id": self.workspace_id,
            "rows": self.rows,
            "events": self.events,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "bad_rows": self.bad_rows,
            "skipped_events": self.skipped_events,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second, 1),
            "report": self.report_path,
            "errors": self.errors,
        }

    def describe(self) -> str:
        lines = [
            f"{self.file} ({self.format}): {self.rows} rows read, {self.events} events valid, "
            f"{self.stored} stored, {self.duplicates} already there, {self.bad_rows} bad rows "
            f"in {self.seconds:.1f} s ({self.events_per_second:,.0f} events/s)"
        ]
        if self.skipped_events:
            lines.append(f"{self.skipped_events} events skipped: their timestamp column was empty")
        for err in self.errors[:5]:
            lines.append(f"  line {err['line']}: {err['error']}")
        if self.bad_rows > 5:
            lines.append(f"  ... {self.bad_rows - 5} more")
        if self.report_path:
            lines.append(f"bad rows written to {self.report_path}")
        return "\n".join(lines)


# -- values ----------------------------------------------------------------------------------
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


def _plain(value: Any) -> Any:
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
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
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
class _Builder:
    def __init__(self, spec: ImportSpec, columns: list[str] | None, typed: bool) -> None:
        self.spec = spec
        self.typed = typed
        self.used = set(spec.mapping.values()) | set(spec.events.values())
        # In a table of O-data the row's own id (say order_id) is what X-data joins on later:
        # keep it in the properties of each event it yields, besides deriving the messageIds.
        if spec.events and "messageId" in spec.mapping:
            self.used.discard(spec.mapping["messageId"])
        if columns is not None:
            for target, column in [
                *((f"--map {f}", c) for f, c in spec.mapping.items()),
                *((f"--events {e}", c) for e, c in spec.events.items()),
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
        return _plain(value)

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
                    node.update(_plain(raw))
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
            one = {**msg, "type": "track", "event": name, "timestamp": _time(_plain(when))}
            yield one, f"{own_id}:{name}" if own_id else None


def content_id(workspace_id: str, msg: dict[str, Any]) -> str:
    """Deterministic messageId of a record's content within a workspace."""
    body = orjson.dumps(msg, option=orjson.OPT_SORT_KEYS, default=str)
    digest = hashlib.sha256(workspace_id.encode() + b"\x00" + body).digest()[:16]
    return "imp-" + str(uuid.UUID(bytes=digest))


# -- the run ------------------------------------------------------------------------------
def _check_workspace(runtime: IngestParts, workspace_id: str) -> None:
    from safar.workspaces.models import Workspace

    with runtime.db.session() as session:
        if session.get(Workspace, workspace_id) is None:
            raise NotFound(
                f"--workspace: no workspace {workspace_id!r} (see `safar workspace list`)",
                field="workspace",
            )


class _Report:
    def __init__(self, path: Path | None, fallback: Path) -> None:
        self.path = path
        self.fallback = fallback
        self._file: Any = None

    def write(self, entry: dict[str, Any]) -> None:
        if self._file is None:
            target = self.path or self.fallback
            target.parent.mkdir(parents=True, exist_ok=True)
            self.path = target
            self._file = open(target, "wb")  # noqa: SIM115 - closed in close()
        self._file.write(orjson.dumps(entry, default=str) + b"\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def run_import(
    runtime: IngestParts,
    spec: ImportSpec,
    *,
    progress: bool = False,
    report_path: Path | None = None,
) -> ImportSummary:
    """Import one file; bad rows go to the report, good rows are stored in chunks."""
    assert spec.fmt is not None
    _check_workspace(runtime, spec.workspace_id)
    reader = Reader(spec.path, spec.fmt)
    builder = _Builder(spec, reader.columns, typed=spec.fmt != "csv")
    summary = ImportSummary(file=spec.path.name, format=spec.fmt, workspace_id=spec.workspace_id)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    fallback = runtime.settings.data_dir / "import-reports" / f"{spec.path.name}-{stamp}.jsonl"
    report = _Report(report_path, fallback)
    max_bytes = runtime.settings.max_event_bytes
    started = time.perf_counter()
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if pending:
            result = runtime.applier.apply(pending)
            summary.stored += result.inserted
            summary.duplicates += result.duplicates
            pending.clear()

    def bad(line: int, fld: str | None, message: str, record: Any) -> None:
        summary.bad_rows += 1
        entry = {"line": line, "field": fld, "error": message, "row": record}
        report.write(entry)
        if len(summary.errors) < ERROR_SAMPLES:
            summary.errors.append({"line": line, "field": fld, "error": message})

    bar = _ProgressBar(reader, spec.path.name) if progress else None
    received = datetime.now(UTC)
    try:
        for line, record in reader:
            summary.rows += 1
            if isinstance(record, BadLine):
                bad(line, None, record.message, None)
                continue
            # A record is all or nothing: one bad event of a multi-event row rejects the row.
            built: list[dict[str, Any]] = []
            try:
                for msg, own_id in builder.messages(record):
                    if not msg:
                        summary.skipped_events += 1
                        continue
                    size = len(orjson.dumps(msg, default=str))
                    if size > max_bytes:
                        raise ValidationFailed(
                            f"row: message is {size} bytes; the limit is {max_bytes}", field="row"
                        )
                    msg["messageId"] = own_id or content_id(spec.workspace_id, msg)
                    parsed = parse_message(msg)
                    built.append(
                        normalize(
                            parsed,
                            workspace_id=spec.workspace_id,
                            received_at=received,
                            default_channel=None,
                            source=f"import:{spec.path.name}"[:200],
                        )
                    )
            except SafarError as exc:
                bad(line, exc.field, exc.message, _plain(record))
                continue
            summary.events += len(built)
            pending.extend(built)
            if len(pending) >= CHUNK:
                flush()
                if bar is not None:
                    bar.update(summary)
        flush()
    finally:
        report.close()
        if bar is not None:
            bar.update(summary)
            bar.close()
    summary.seconds = time.perf_counter() - started
    summary.report_path = str(report.path) if summary.bad_rows else None
    return summary


class _ProgressBar:
    def __init__(self, reader: Reader, name: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.reader = reader
        columns: list[Any] = [TextColumn("[bold]{task.description}"), BarColumn()]
        if reader.unit == "bytes":
            columns += [TextColumn("{task.percentage:>3.0f}%"), TransferSpeedColumn()]
        else:
            columns.append(MofNCompleteColumn())
        columns += [
            TextColumn("{task.fields[stored]} stored, {task.fields[bad]} bad"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        ]
        self.progress = Progress(*columns, console=Console(stderr=True))
        self.task = self.progress.add_task(name, total=reader.total or None, stored=0, bad=0)
        self.progress.start()

    def update(self, summary: ImportSummary) -> None:
        self.progress.update(
            self.task, completed=self.reader.done, stored=summary.stored, bad=summary.bad_rows
        )

    def close(self) -> None:
        self.progress.update(self.task, completed=self.reader.total)
        self.progress.stop()
