"""Bulk import: files of events or of operational tables (O-data) into the event stores.

Each record of a JSONL, CSV or Parquet file becomes one Segment message (or several, one per
timestamp column, with ``events``), is validated by the same code as the HTTP API
(``parse_message`` + ``normalize``) and is stored through ``Applier.apply`` in chunks, the one
way events enter the stores. Bad records are reported with their line number and the field at
fault; good ones are kept.

The options are checked in ``import_spec``, records become messages in ``import_build``; this
module runs an import and reports on it, and re-exports the public names of both.

Columns named like a Segment field map onto it without being told; every other column goes to
``properties`` (``unmapped``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from safar.errors import NotFound, SafarError, ValidationFailed
from safar.events.deps import IngestParts
from safar.events.import_build import Builder, content_id, plain
from safar.events.import_readers import BadLine, Reader
from safar.events.import_spec import (
    ImportSpec,
    load_mapping_file,
    parse_events,
    parse_mapping,
)
from safar.events.messages import normalize, parse_message
from safar.events.rows import EventRow

__all__ = [
    "ImportSpec",
    "ImportSummary",
    "content_id",
    "load_mapping_file",
    "parse_events",
    "parse_mapping",
    "run_import",
]

CHUNK = 5_000
ERROR_SAMPLES = 20


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


# -- the run ------------------------------------------------------------------------------
def _check_workspace(runtime: IngestParts, workspace_id: str) -> None:
    from safar.workspaces.service import get_workspace

    with runtime.db.session() as session:
        if get_workspace(session, workspace_id) is None:
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
    on_chunk: Callable[[ImportSummary, float], None] | None = None,
) -> ImportSummary:
    """Import one file; bad rows go to the report, good rows are stored in chunks.

    ``on_chunk(summary, fraction)`` is called after each stored chunk (the server's import
    runs record their progress there; an exception it raises stops the import).
    """
    assert spec.fmt is not None
    _check_workspace(runtime, spec.workspace_id)
    reader = Reader(spec.path, spec.fmt)
    builder = Builder(spec, reader.columns, typed=spec.fmt != "csv")
    summary = ImportSummary(file=spec.path.name, format=spec.fmt, workspace_id=spec.workspace_id)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    fallback = runtime.settings.data_dir / "import-reports" / f"{spec.path.name}-{stamp}.jsonl"
    report = _Report(report_path, fallback)
    max_bytes = runtime.settings.max_event_bytes
    started = time.perf_counter()
    pending: list[EventRow] = []

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
            try:
                built, skipped = _record_events(
                    builder, record, spec, received=received, max_bytes=max_bytes
                )
            except SafarError as exc:
                bad(line, exc.field, exc.message, plain(record))
                continue
            summary.skipped_events += skipped
            summary.events += len(built)
            pending.extend(built)
            if len(pending) >= CHUNK:
                flush()
                if bar is not None:
                    bar.update(summary)
                if on_chunk is not None:
                    on_chunk(summary, reader.done / reader.total if reader.total else 0.0)
        flush()
    finally:
        report.close()
        if bar is not None:
            bar.update(summary)
            bar.close()
    summary.seconds = time.perf_counter() - started
    summary.report_path = str(report.path) if summary.bad_rows else None
    return summary


def _record_events(
    builder: Builder,
    record: dict[str, Any],
    spec: ImportSpec,
    *,
    received: datetime,
    max_bytes: int,
) -> tuple[list[EventRow], int]:
    """The normalised events of one record and how many were skipped as not yet happened.

    Raises the first ``SafarError`` of any of its events, so the caller rejects the record.
    """
    built: list[EventRow] = []
    skipped = 0
    for msg, own_id in builder.messages(record):
        if not msg:
            skipped += 1
            continue
        size = len(orjson.dumps(msg, default=str))
        if size > max_bytes:
            raise ValidationFailed(
                f"row: message is {size} bytes; the limit is {max_bytes}", field="row"
            )
        msg["messageId"] = own_id or content_id(spec.workspace_id, msg)
        built.append(
            normalize(
                parse_message(msg),
                workspace_id=spec.workspace_id,
                received_at=received,
                default_channel=None,
                source=f"import:{spec.path.name}"[:200],
            )
        )
    return built, skipped


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
