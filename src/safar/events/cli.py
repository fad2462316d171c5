"""``safar import``: bulk import of events and operational tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from safar.config import Settings
from safar.errors import SafarError
from safar.events.deps import IngestParts
from safar.kit.cli import fail, open_runtime

app = typer.Typer(help="Bulk import of events and operational tables", no_args_is_help=True)


@app.command("events")
def import_events(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", "-m", help="FIELD=COLUMN, e.g. userId=customer_id; repeatable"),
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl, csv or parquet")] = None,
    event: Annotated[
        str | None, typer.Option(help="event name for every row (tables of O-data)")
    ] = None,
    events: Annotated[
        list[str] | None,
        typer.Option(
            "--events",
            help="EVENT=TIMESTAMP_COLUMN: one event per row for each filled column, "
            "e.g. order_shipped=shipped_at; repeatable",
        ),
    ] = None,
    message_type: Annotated[
        str | None, typer.Option("--type", help="message type when rows carry none")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="channel for rows that do not say theirs")
    ] = None,
    unmapped: Annotated[
        str | None,
        typer.Option(help="where unmapped columns go: properties (default), traits, context, drop"),
    ] = None,
    mapping_file: Annotated[
        Path | None,
        typer.Option(
            "--mapping-file",
            exists=True,
            dir_okay=False,
            help="JSON or YAML with map, events, event, type, channel, unmapped",
        ),
    ] = None,
    report: Annotated[Path | None, typer.Option(help="write bad rows here (JSONL)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Import events from JSONL, CSV or Parquet; bad rows are reported, good rows kept."""
    from safar.errors import StoreBusy
    from safar.events.importer import (
        ImportSpec,
        load_mapping_file,
        parse_events,
        parse_mapping,
        run_import,
    )

    settings = Settings()
    try:
        base: dict[str, Any] = load_mapping_file(mapping_file) if mapping_file else {}
        spec = ImportSpec(
            path=file,
            workspace_id=workspace,
            mapping={**base.get("map", {}), **parse_mapping(mapping or [])},
            fmt=fmt,
            event=event or base.get("event"),
            channel=channel or base.get("channel"),
            events={**(base.get("events") or {}), **parse_events(events or [])},
            type=message_type or base.get("type"),
            unmapped=unmapped or base.get("unmapped") or "properties",
        )
        runtime: IngestParts = open_runtime(ctx, settings)
    except StoreBusy as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        typer.echo(
            "While the server runs, send the rows over HTTP instead: POST them in batches of "
            "Segment messages to /v1/batch with the workspace write key as the Basic username.",
            err=True,
        )
        raise typer.Exit(2) from None
    except SafarError as exc:
        fail(exc)
    try:
        summary = run_import(runtime, spec, progress=not as_json, report_path=report)
    except SafarError as exc:
        fail(exc)
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        typer.echo(summary.describe())
