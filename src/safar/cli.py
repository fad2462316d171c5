"""The ``safar`` command: serve and demo here; every domain's commands from its module."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from safar.config import Settings
from safar.domains import DOMAINS
from safar.errors import SafarError
from safar.kit.cli import fail
from safar.kit.domain import load

app = typer.Typer(
    help="Safar customer experience management",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _open_runtime(settings: Settings, *, ingest: bool) -> Any:
    from safar.runtime import Runtime  # here, so commands that need none skip the engines

    return Runtime(settings, ingest=ingest)


@app.callback()
def main(ctx: typer.Context) -> None:
    """Safar customer experience management"""
    # Domain commands open their runtime through the context (kit.cli.open_runtime).
    ctx.obj = _open_runtime


def register_domains(root: typer.Typer) -> None:
    """Add each domain's commands: a Typer app becomes a group, a function one command."""
    for domain in DOMAINS:
        for name, ref in domain.cli.items():
            part = load(ref)
            if isinstance(part, typer.Typer):
                root.add_typer(part, name=name)
            else:
                root.command(name)(part)


register_domains(app)


def _settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Run the API (and dashboard) server."""
    import uvicorn

    from safar.app import create_app

    # Into the settings, not only uvicorn's: survey links (``resolved_public_url``) must name
    # the address really served, unless SAFAR_PUBLIC_URL says otherwise.
    given = {"host": host, "port": port}
    settings = _settings(**{k: v for k, v in given.items() if v is not None})
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
        host=settings.host,
        port=settings.port,
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


privacy_app = typer.Typer(help="Privacy requests about one person", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")


@privacy_app.command("export")
def privacy_export(
    profile_id: str,
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
) -> None:
    """Print, as JSON, what every domain holds about the person with this profile."""
    from safar.runtime import Runtime, export_person

    runtime = Runtime(_settings(), ingest=False)
    try:
        data = export_person(runtime, workspace_id=workspace, profile_id=profile_id)
    except SafarError as exc:
        fail(exc)
    finally:
        runtime.close()
    typer.echo(json.dumps(data, ensure_ascii=False, default=str, indent=2))


@privacy_app.command("erase")
def privacy_erase(
    profile_id: str,
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Erase the person with this profile from every domain (cannot be undone)."""
    from safar.runtime import Runtime, erase_person

    if not yes:
        typer.confirm(f"Erase everything about {profile_id}?", abort=True)
    runtime = Runtime(_settings(), ingest=False)
    try:
        erased = erase_person(runtime, workspace_id=workspace, profile_id=profile_id)
    except SafarError as exc:
        fail(exc)
    finally:
        runtime.close()
    typer.echo(json.dumps(erased))


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
        fail(exc)
    base = f"http://{settings.host}:{port or settings.port}"
    typer.echo(info.describe(base))
    if settings.outbox_dir is None:
        # No customer is reached from a demo: messages of channels without a provider (all of
        # them, unless SMTP or an SMS gateway is configured) go to files to read.
        outbox = (settings.data_dir / "outbox").resolve()
        os.environ["SAFAR_OUTBOX_DIR"] = str(outbox)
        typer.echo(f"Messages:     written to {outbox}/<channel>.jsonl (SAFAR_OUTBOX_DIR)")
    if not no_serve:
        serve(host=None, port=port)


if __name__ == "__main__":  # pragma: no cover
    app()
