"""``safar import``: bulk import of events and operational tables.

While ``safar serve`` holds the embedded event store, the import goes through its API
(``events.import_remote``) instead of failing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from safar.config import Settings
from safar.errors import SafarError
from safar.events.deps import IngestParts
from safar.kit.cli import fail, open_runtime
from safar.kit.remote import KEY_ENV

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
    drop: Annotated[
        list[str] | None, typer.Option("--drop", help="leave this column out; repeatable")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="write bad rows here (JSONL)")] = None,
    key: Annotated[
        str | None,
        typer.Option(
            envvar=KEY_ENV,
            help="secret key, to import through the running server when it holds the store "
            "(the demo's is found by itself)",
        ),
    ] = None,
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
            drop=list(drop or []),
        )
        runtime: IngestParts = open_runtime(ctx, settings)
    except StoreBusy as exc:
        _through_server(settings, spec, exc, key=key, report=report, as_json=as_json)
        return
    except SafarError as exc:
        fail(exc)
    try:
        summary = run_import(runtime, spec, progress=not as_json, report_path=report)
    except SafarError as exc:
        fail(exc)
    finally:
        runtime.close()
    _print(summary.as_dict(), summary.describe(), as_json)


def _print(data: dict[str, Any], text: str, as_json: bool) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False) if as_json else text)


def _through_server(
    settings: Settings,
    spec: Any,
    busy: SafarError,
    *,
    key: str | None,
    report: Path | None,
    as_json: bool,
) -> None:
    """The server holds the store: import through its API instead, or say why not."""
    from safar.events.import_remote import import_via_server
    from safar.kit.remote import ServerClient, ServerUnavailable, find_key, missing_key, server_url

    url = server_url(settings)
    secret = find_key(settings, key, spec.workspace_id)
    if not as_json:
        typer.echo(f"The server at {url} holds the event store; importing through it.", err=True)
    try:
        if secret is None:
            raise missing_key(url)
        with ServerClient(url, secret) as client:
            summary, run_id = import_via_server(
                client, settings, spec, progress=not as_json, report_path=report
            )
    except SafarError as exc:
        typer.secho(f"error: {busy.message}", fg=typer.colors.RED, err=True)
        typer.echo(exc.message, err=True)
        if secret is None or isinstance(exc, ServerUnavailable):
            typer.echo(
                "Or send the rows over HTTP: POST them in batches of Segment messages to "
                "/v1/batch with the workspace write key as the Basic username.",
                err=True,
            )
        raise typer.Exit(2) from None
    data = {**summary.as_dict(), "import_id": run_id, "server": url}
    _print(data, summary.describe() + f"\n(import {run_id} on {url})", as_json)
