"""Imports the server runs: an uploaded file, its options, and the run's record.

A run is created from an upload (``create_run``), optionally waits for its column mapping
(state ``uploaded``, the dashboard's two steps), is queued, and is run by the server's
``ImportWorker`` (``import_worker.py``) through ``run_import``, the same path as
``safar import events``. Its file is kept under ``DATA_DIR/imports/<id>/`` with the bad-row
report beside it, so a failed run can be run again; a re-run stores nothing twice (messageIds
come from the file's ids or from each row's content).
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from safar.config import Settings
from safar.errors import Conflict, NotFound, ValidationFailed
from safar.events.import_build import Builder, plain
from safar.events.import_readers import BadLine, Reader, detect_format
from safar.events.import_spec import TOP_FIELDS, ImportSpec, parse_events, parse_mapping
from safar.events.models import ImportRun
from safar.events.repository import ImportRepository
from safar.kit.db import utcnow

STATES = ("uploaded", "queued", "running", "done", "failed")
REPORT = "bad-rows.jsonl"
#: Options a run takes, as the CLI names them (``--map`` ... ``--drop``).
OPTION_FIELDS = ("map", "events", "drop", "event", "type", "channel", "unmapped", "format")
SAMPLE_ROWS = 5


def new_run_id() -> str:
    return "imp_" + secrets.token_hex(10)


def run_dir(settings: Settings, run_id: str) -> Path:
    return settings.data_dir / "imports" / run_id


def report_path(settings: Settings, run: ImportRun) -> Path:
    return run_dir(settings, run.id) / REPORT


def file_path(settings: Settings, run: ImportRun) -> Path:
    return run_dir(settings, run.id) / run.file_name


def discard(settings: Settings, run_id: str) -> None:
    """Remove an upload that did not become a run."""
    shutil.rmtree(run_dir(settings, run_id), ignore_errors=True)


def report_file(settings: Settings, run: ImportRun) -> Path:
    """The run's bad-row report (JSON lines); 404 when it has none."""
    path = report_path(settings, run)
    if not run.bad_rows or not path.exists():
        raise NotFound("report: this import has no bad rows", field="import_id")
    return path


# -- options ------------------------------------------------------------------------------------
def parse_options(fields: dict[str, list[str]]) -> dict[str, Any]:
    """The run's options from form fields named like the CLI's options; unknown fields and
    malformed values are refused naming the field."""
    unknown = sorted(set(fields) - {*OPTION_FIELDS, "file", "workspace", "csrf_token"})
    if unknown:
        raise ValidationFailed(
            f"{unknown[0]}: unknown field; send file and any of {', '.join(OPTION_FIELDS)}",
            field=unknown[0],
        )

    def one(name: str) -> str | None:
        values = [v.strip() for v in fields.get(name, []) if v.strip()]
        if len(values) > 1:
            raise ValidationFailed(f"{name}: give it once", field=name)
        return values[0] if values else None

    mapping = parse_mapping([v for v in fields.get("map", []) if v.strip()])
    events = parse_events([v for v in fields.get("events", []) if v.strip()])
    drop = [v.strip() for v in fields.get("drop", []) if v.strip()]
    out: dict[str, Any] = {"map": mapping, "events": events, "drop": drop}
    for name in ("event", "type", "channel", "unmapped", "format"):
        value = one(name)
        if value is not None:
            out[name] = value
    return out


def spec_of(path: Path, workspace_id: str, options: dict[str, Any]) -> ImportSpec:
    """The ImportSpec of a run (checked: unknown fields, types and channels raise)."""
    return ImportSpec(
        path=path,
        workspace_id=workspace_id,
        mapping=dict(options.get("map") or {}),
        fmt=options.get("format"),
        event=options.get("event"),
        channel=options.get("channel"),
        events=dict(options.get("events") or {}),
        type=options.get("type"),
        unmapped=options.get("unmapped") or "properties",
        drop=list(options.get("drop") or []),
    )


def check_spec(spec: ImportSpec) -> None:
    """Fail now, with a 400 naming the option, if the file cannot be read or a mapped column
    is missing, rather than in the background."""
    assert spec.fmt is not None
    reader = Reader(spec.path, spec.fmt)
    reader.close()
    Builder(spec, reader.columns, typed=True)


# -- runs ---------------------------------------------------------------------------------------
def create_run(
    session: Session,
    settings: Settings,
    *,
    run_id: str,
    workspace_id: str,
    file_name: str,
    size: int,
    options: dict[str, Any],
    created_by: str,
    ready: bool,
) -> ImportRun:
    """Record an uploaded file as a run: ``queued`` when ``ready``, else ``uploaded`` (its
    mapping comes later). The options are checked against the file first."""
    path = run_dir(settings, run_id) / file_name
    try:
        if size == 0:
            raise ValidationFailed("file: the file is empty", field="file")
        fmt = detect_format(path, options.get("format"))
        if ready:
            check_spec(spec_of(path, workspace_id, options))
        else:
            Reader(path, fmt).close()
    except Exception:
        shutil.rmtree(run_dir(settings, run_id), ignore_errors=True)
        raise
    run = ImportRun(
        id=run_id,
        workspace_id=workspace_id,
        state="queued" if ready else "uploaded",
        file_name=file_name,
        format=fmt,
        size_bytes=size,
        options=options,
        created_by=created_by[:320],
        errors=[],
    )
    return ImportRepository(session).add(run)


def get_run(session: Session, *, workspace_id: str, run_id: str) -> ImportRun:
    run = ImportRepository(session).get(workspace_id, run_id[:40])
    if run is None:
        raise NotFound(f"import: no import {run_id!r} in this workspace", field="import_id")
    return run


def list_runs(session: Session, *, workspace_id: str, limit: int = 50) -> list[ImportRun]:
    return ImportRepository(session).recent(workspace_id, limit)


def map_run(
    session: Session, settings: Settings, run: ImportRun, options: dict[str, Any]
) -> ImportRun:
    """Give an uploaded run its options and queue it."""
    if run.state != "uploaded":
        raise Conflict(f"import: this import is {run.state}, not waiting for a mapping",
                       field="import_id")  # fmt: skip
    check_spec(spec_of(file_path(settings, run), run.workspace_id, options))
    run.options = options
    run.state = "queued"
    session.flush()
    return run


def rerun(session: Session, settings: Settings, run: ImportRun, *, created_by: str) -> ImportRun:
    """A new run of a failed run's file and options (its file moves to the new run)."""
    if run.state != "failed":
        raise Conflict(f"import: only a failed import runs again; this one is {run.state}",
                       field="import_id")  # fmt: skip
    source = file_path(settings, run)
    if not source.exists():
        raise NotFound("import: the uploaded file is gone; upload it again", field="import_id")
    run_id = new_run_id()
    target = run_dir(settings, run_id)
    target.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), target / run.file_name)
    again = create_run(
        session, settings, run_id=run_id, workspace_id=run.workspace_id,
        file_name=run.file_name, size=run.size_bytes, options=dict(run.options),
        created_by=created_by, ready=True,
    )  # fmt: skip
    again.rerun_of = run.id
    return again


def status(run: ImportRun) -> dict[str, Any]:
    """A run as the API shows it."""
    seconds = (
        (run.finished_at or utcnow()) - run.started_at
    ).total_seconds() if run.started_at else 0.0  # fmt: skip
    return {
        "id": run.id,
        "workspace_id": run.workspace_id,
        "state": run.state,
        "file": run.file_name,
        "format": run.format,
        "size_bytes": run.size_bytes,
        "options": run.options,
        "progress": round(run.progress, 4),
        "rows": run.rows,
        "events": run.events,
        "stored": run.stored,
        "duplicates": run.duplicates,
        "bad_rows": run.bad_rows,
        "skipped_events": run.skipped_events,
        "errors": run.errors,
        "error": run.error,
        "report": f"/api/imports/{run.id}/report" if run.bad_rows else None,
        "seconds": round(seconds, 3),
        "created_by": run.created_by,
        "rerun_of": run.rerun_of,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


# -- the mapping step: the file's columns and what they probably are ------------------------------
@dataclass
class Preview:
    columns: list[str]
    samples: list[dict[str, Any]]


def preview(settings: Settings, run: ImportRun) -> Preview:
    """The file's columns (a CSV's header, Parquet's schema, the keys of the first JSON lines)
    and its first rows."""
    reader = Reader(file_path(settings, run), run.format)
    samples: list[dict[str, Any]] = []
    columns = list(reader.columns or [])
    try:
        for _, record in islice(reader, 50):
            if isinstance(record, BadLine):
                continue
            if len(samples) < SAMPLE_ROWS:
                samples.append(plain(record))
            if reader.columns is None:
                columns += [k for k in record if k not in columns]
    finally:
        reader.close()
    return Preview(columns=columns, samples=samples)


#: Column names (lower case, ``-``/space as ``_``) and the field they most likely fill.
_GUESSES: dict[str, str] = {
    **dict.fromkeys(
        (
            "user_id",
            "userid",
            "customer_id",
            "customerid",
            "customer",
            "user",
            "client_id",
            "member_id",
            "case_id",
            "case",
        ),
        "userId",
    ),
    **dict.fromkeys(
        ("anonymous_id", "anonymousid", "anon_id", "device_id", "cookie_id"), "anonymousId"
    ),
    **dict.fromkeys(("email", "e_mail", "mail", "email_address"), "traits.email"),
    **dict.fromkeys(("phone", "mobile", "phone_number", "cell", "tel", "msisdn"), "traits.phone"),
    **dict.fromkeys(("full_name", "customer_name"), "traits.name"),
    **dict.fromkeys(
        (
            "timestamp",
            "time",
            "date",
            "datetime",
            "created_at",
            "event_time",
            "occurred_at",
            "at",
            "ts",
        ),
        "timestamp",
    ),
    **dict.fromkeys(("event", "event_name", "activity", "action"), "event"),
    **dict.fromkeys(("message_id", "messageid", "event_id"), "messageId"),
    "channel": "channel",
    "type": "type",
}


def suggest(columns: list[str]) -> dict[str, str]:
    """{column: field} for the columns whose names say what they hold; each field once."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        key = column.strip().lower().replace("-", "_").replace(" ", "_")
        target = column if column in TOP_FIELDS else _GUESSES.get(key)
        if target and target not in taken:
            out[column] = target
            taken.add(target)
    return out
