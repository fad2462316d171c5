"""``safar import events`` through the running server, when it holds the event store.

The file is uploaded to ``POST /api/imports`` with the same options, the run is followed on
``GET /api/imports/{id}`` (a progress bar on stderr), and the outcome is printed as a local
import prints it, from the server's counts; the bad-row report is downloaded beside where a
local import writes it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safar.config import Settings
from safar.errors import SafarError
from safar.events.import_spec import ImportSpec
from safar.events.importer import ImportSummary
from safar.kit.remote import ServerClient

POLL_S = 0.3


def spec_fields(spec: ImportSpec) -> dict[str, list[str]]:
    """The spec as the API's form fields (named like the CLI's options)."""
    fields: dict[str, list[str]] = {
        "workspace": [spec.workspace_id],
        "map": [f"{f}={c}" for f, c in spec.mapping.items()],
        "events": [f"{e}={c}" for e, c in spec.events.items()],
        "drop": list(spec.drop),
        "unmapped": [spec.unmapped],
    }
    for name, value in (("event", spec.event), ("type", spec.type), ("channel", spec.channel),
                        ("format", spec.fmt)):  # fmt: skip
        if value:
            fields[name] = [value]
    return {k: v for k, v in fields.items() if v}


def summary_of(status: dict[str, Any]) -> ImportSummary:
    return ImportSummary(
        file=status["file"],
        format=status["format"],
        workspace_id=status["workspace_id"],
        rows=status["rows"],
        events=status["events"],
        stored=status["stored"],
        duplicates=status["duplicates"],
        bad_rows=status["bad_rows"],
        skipped_events=status["skipped_events"],
        seconds=status["seconds"],
        errors=list(status["errors"]),
    )


class _Bar:
    def __init__(self, name: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[stored]} stored, {task.fields[bad]} bad"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.task = self.progress.add_task(name, total=1.0, stored=0, bad=0)
        self.progress.start()

    def update(self, status: dict[str, Any]) -> None:
        self.progress.update(self.task, completed=status["progress"], stored=status["stored"],
                             bad=status["bad_rows"])  # fmt: skip

    def close(self) -> None:
        self.progress.stop()


def import_via_server(
    client: ServerClient,
    settings: Settings,
    spec: ImportSpec,
    *,
    progress: bool,
    report_path: Path | None,
) -> tuple[ImportSummary, str]:
    """Upload, follow to the end, fetch the report; the summary and the run's id."""
    with spec.path.open("rb") as fh:
        queued = client.json(
            "POST", "/api/imports", files={"file": (spec.path.name, fh)}, data=spec_fields(spec)
        )
    run_id = queued["id"]
    bar = _Bar(spec.path.name) if progress else None
    try:
        status = queued
        while status["state"] not in ("done", "failed"):
            time.sleep(POLL_S)
            status = client.json("GET", f"/api/imports/{run_id}")
            if bar is not None:
                bar.update(status)
    finally:
        if bar is not None:
            bar.close()
    if status["state"] == "failed":
        raise SafarError(f"import {run_id} failed on the server: {status['error']}", field="import")
    summary = summary_of(status)
    if status["report"]:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = report_path or (
            settings.data_dir / "import-reports" / f"{spec.path.name}-{stamp}.jsonl"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(client.request("GET", status["report"]).content)
        summary.report_path = str(target)
    return summary, run_id
