"""The ``safar`` command: serve, demo, workspace and key admin, bulk import."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from safar.config import Settings
from safar.errors import SafarError
from safar.text.cli import app as text_app

app = typer.Typer(
    help="Safar customer experience management",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
workspace_app = typer.Typer(help="Workspaces and API keys", no_args_is_help=True)
import_app = typer.Typer(help="Bulk import of events and operational tables", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
app.add_typer(import_app, name="import")
app.add_typer(text_app, name="text")
user_app = typer.Typer(help="Dashboard users and roles", no_args_is_help=True)
app.add_typer(user_app, name="user")

from safar.journeys.cli import drivers_cmd, journeys_app  # noqa: E402

app.add_typer(journeys_app, name="journeys")
app.command("drivers")(drivers_cmd)


def _register_domains() -> None:
    from safar.events.cli import app as dead_letter_app
    from safar.surveys.cli import app as surveys_app

    app.add_typer(surveys_app, name="surveys")
    app.add_typer(dead_letter_app, name="dead-letter")


_register_domains()


def _settings() -> Settings:
    return Settings()


def _fail(exc: SafarError) -> None:
    typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Run the API (and dashboard) server."""
    import uvicorn

    from safar.app import create_app

    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # The ingest path hands each request between the event loop, the WAL committer and the
    # consumer threads; the default 5 ms GIL switch interval would add up to 5 ms per hand-off.
    sys.setswitchinterval(0.0005)
    app = create_app(settings)
    tune_gc()
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        access_log=False,
    )


def tune_gc() -> None:
    """Make the cyclic garbage collector cheap for a long-running ingest server.

    Every request and every consumer batch allocates thousands of short-lived dicts; with
    the default thresholds (700 allocations) the collector runs several times per request and
    promotes in-flight batches to the old generation, whose full scans then walk the whole
    application. Freezing what start-up loaded and collecting the young generation every
    20,000 allocations cut the server's CPU per ingested event by about a fifth (measured
    with bench/ingest.py; docs/benchmarks.md). Reference counting still frees almost all of
    it at once; the collector only finds cycles, which are rare here.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 100)


@workspace_app.command("create")
def workspace_create(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Create a workspace and print its write key and secret key (shown once)."""
    from safar.db import Database
    from safar.workspaces.service import create_workspace

    settings = _settings()
    settings.ensure_dirs()
    db = Database(settings.resolved_state_url)
    db.migrate()
    try:
        with db.session() as session:
            ws, write, secret = create_workspace(session, name=name)
            out = {"workspace_id": ws.id, "write_key": write, "secret_key": secret}
    except SafarError as exc:
        _fail(exc)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(out))
    else:
        typer.echo(
            f"workspace  {out['workspace_id']}\nwrite key  {out['write_key']}\nsecret key {out['secret_key']}"
        )
        typer.echo("Keep the keys: only their hashes are stored.")


@workspace_app.command("list")
def workspace_list() -> None:
    """List workspaces."""
    from safar.db import Database
    from safar.workspaces.service import list_workspaces

    settings = _settings()
    settings.ensure_dirs()
    db = Database(settings.resolved_state_url)
    db.migrate()
    with db.session() as session:
        for ws in list_workspaces(session):
            typer.echo(f"{ws.id}\t{ws.name}\t{ws.created_at:%Y-%m-%d}")
    db.dispose()


@import_app.command("events")
def import_events(
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
    from safar.runtime import Runtime

    settings = _settings()
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
        runtime = Runtime(settings, ingest=False)
    except StoreBusy as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        typer.echo(
            "While the server runs, send the rows over HTTP instead: POST them in batches of "
            "Segment messages to /v1/batch with the workspace write key as the Basic username.",
            err=True,
        )
        raise typer.Exit(2) from None
    except SafarError as exc:
        _fail(exc)
    try:
        summary = run_import(runtime, spec, progress=not as_json, report_path=report)
    except SafarError as exc:
        _fail(exc)
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        typer.echo(summary.describe())


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(prompt=True, help="sign-in email")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="password (8+ characters); prompted when omitted",
        ),
    ],
    admin: Annotated[bool, typer.Option("--admin", help="same as --role admin")] = False,
    role: Annotated[str, typer.Option(help="admin, analyst, agent or viewer")] = "viewer",
    name: Annotated[str, typer.Option(help="display name")] = "",
) -> None:
    """Create a dashboard user (the first admin: ``safar user create --admin``)."""
    from safar.auth.service import create_user
    from safar.db import Database

    settings = _settings()
    settings.ensure_dirs()
    db = Database(settings.resolved_state_url)
    db.migrate()
    try:
        with db.session() as session:
            user = create_user(
                session, email=email, password=password, role="admin" if admin else role, name=name
            )
            out = (user.id, user.email, user.role)
    except SafarError as exc:
        _fail(exc)
    finally:
        db.dispose()
    typer.echo(f"user {out[1]} ({out[2]}) created: {out[0]}")


@user_app.command("list")
def user_list() -> None:
    """List dashboard users."""
    from safar.auth.service import list_users
    from safar.db import Database

    settings = _settings()
    settings.ensure_dirs()
    db = Database(settings.resolved_state_url)
    db.migrate()
    with db.session() as session:
        for u in list_users(session):
            state = "disabled" if u.disabled_at else "active"
            typer.echo(f"{u.id}\t{u.email}\t{u.role}\t{state}")
    db.dispose()


@app.command()
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="only load the demo data")] = False,
    real_data: Annotated[
        Path | None,
        typer.Option("--real-data", help="build from real datasets in DIR (e.g. ../shared/data)"),
    ] = None,
    customers: Annotated[int, typer.Option(help="customers to generate")] = 400,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Load a realistic omnichannel demo workspace, then serve it."""
    from safar.demo.loader import load_demo

    settings = _settings()
    logging.basicConfig(level="WARNING")
    try:
        info = load_demo(settings, customers=customers, seed=seed, real_data=real_data)
    except SafarError as exc:
        _fail(exc)
    base = f"http://{settings.host}:{port or settings.port}"
    typer.echo(info.describe(base))
    if not no_serve:
        serve(host=None, port=port)


if __name__ == "__main__":  # pragma: no cover
    app()
