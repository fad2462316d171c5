"""``safar flows ...``: journeys from the command line (templates, create, publish, stats).

Creating, listing and pausing touch only the state store; publishing reads the event store's
event names, so it runs where the event store can be opened (or through the API while a server
holds the embedded DuckDB file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

from safar.config import Settings
from safar.db import utcnow
from safar.errors import SafarError, ValidationFailed
from safar.flows import analytics, library, service
from safar.kit.cli import fail, open_runtime, state_session

app = typer.Typer(help="Journeys: templates, create, publish, pause, stats", no_args_is_help=True)
Workspace = Annotated[str, typer.Option("--workspace", "-w", help="workspace id")]


def _read(path: Path) -> dict[str, object]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        fail(ValidationFailed(f"file: cannot read {path} ({exc})", field="file"))
    if not isinstance(data, dict):
        fail(ValidationFailed("file: a journey definition is an object", field="file"))
    return data


@app.command("templates")
def templates() -> None:
    """List the shipped journeys (birthday SMS, abandoned cart, win-back, ...)."""
    for name in library.names():
        typer.echo(f"{name}\t{library.load(name)['name']}")


@app.command("create")
def create(
    workspace: Workspace,
    file: Annotated[Path | None, typer.Argument(help="a JSON or YAML definition")] = None,
    template: Annotated[
        str | None, typer.Option(help="a shipped journey instead of a file")
    ] = None,
) -> None:
    """Create a journey (a draft) and print its id."""
    if (file is None) == (template is None):
        fail(ValidationFailed("file: give a file or --template", field="file"))
    try:
        data = library.load(template) if template else _read(file)  # type: ignore[arg-type]
    except SafarError as exc:
        fail(exc)
    with state_session() as s:
        flow = service.create_flow(
            s, workspace_id=workspace, definition=data, user="cli", now=utcnow()
        )
        typer.echo(flow.id)


@app.command("list")
def list_flows(workspace: Workspace) -> None:
    """Journeys of the workspace: id, status, version, name."""
    with state_session() as s:
        for f in service.list_flows(s, workspace_id=workspace):
            live = f"v{f.published_version}" if f.published_version else "-"
            typer.echo(f"{f.id}\t{f.status}\tv{f.version} (live {live})\t{f.name}")


@app.command("publish")
def publish(ctx: typer.Context, workspace: Workspace, flow_id: str) -> None:
    """Check the newest version against the workspace and make it live."""
    runtime = open_runtime(ctx, Settings())
    try:
        with runtime.db.session() as s:
            flow = runtime.flows.publish(s, workspace_id=workspace, flow_id=flow_id)
            typer.echo(f"{flow.id} published v{flow.published_version}")
    except SafarError as exc:
        fail(exc)
    finally:
        runtime.close()


@app.command("pause")
def pause(workspace: Workspace, flow_id: str) -> None:
    """Stop new entries (running instances hold at their next action)."""
    with state_session() as s:
        service.set_status(
            s, workspace_id=workspace, flow_id=flow_id, status="paused", now=utcnow()
        )
        typer.echo(f"{flow_id} paused")


@app.command("resume")
def resume(workspace: Workspace, flow_id: str) -> None:
    with state_session() as s:
        service.set_status(
            s, workspace_id=workspace, flow_id=flow_id, status="published", now=utcnow()
        )
        typer.echo(f"{flow_id} published")


@app.command("export")
def export(
    workspace: Workspace,
    flow_id: str,
    format: Annotated[str, typer.Option(help="json or yaml")] = "yaml",
) -> None:
    """Print the newest version's definition."""
    with state_session() as s:
        flow = service.get_flow(s, workspace_id=workspace, flow_id=flow_id)
        row = service.version_of(s, workspace_id=workspace, flow_id=flow_id, version=flow.version)
        if format == "json":
            typer.echo(json.dumps(row.definition, ensure_ascii=False, indent=2))
        else:
            typer.echo(yaml.safe_dump(row.definition, allow_unicode=True, sort_keys=False))


@app.command("stats")
def stats(workspace: Workspace, flow_id: str) -> None:
    """Entered, waiting, exits, per-step counts and the goal against the holdout, as JSON."""
    with state_session() as s:
        service.get_flow(s, workspace_id=workspace, flow_id=flow_id)
        data = analytics.flow_stats(s, workspace_id=workspace, flow_id=flow_id)
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
