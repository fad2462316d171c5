"""``safar segments ...``: list, create from a JSON file, members, refresh now."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from safar.config import Settings
from safar.errors import SafarError, ValidationFailed
from safar.kit.cli import fail, open_runtime, state_session
from safar.segments import service
from safar.segments.schemas import SegmentCreate

app = typer.Typer(
    help="Saved segments (audiences): list, create, members, refresh", no_args_is_help=True
)

Workspace = Annotated[str, typer.Option("--workspace", "-w", help="workspace id")]


@app.command("list")
def list_(workspace: Workspace) -> None:
    """List the workspace's segments: id, members at the last refresh, name."""
    with state_session() as session:
        for s in service.list_segments(session, workspace_id=workspace):
            typer.echo(f"{s.id}\t{s.member_count}\t{s.name}")


@app.command("create")
def create(
    workspace: Workspace,
    file: Annotated[Path, typer.Argument(help="JSON: name, description, match, conditions")],
) -> None:
    """Create a segment from a JSON definition and print its id."""
    try:
        data = SegmentCreate.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "file"
            fail(ValidationFailed(f"{where}: {err['msg']}", field=where))
        fail(ValidationFailed(f"file: {exc}", field="file"))
    with state_session() as session:
        typer.echo(service.create_segment(session, workspace_id=workspace, data=data).id)


@app.command("members")
def members(ctx: typer.Context, segment_id: str, workspace: Workspace) -> None:
    """Print the segment's members now, one profile id a line."""
    runtime = open_runtime(ctx, Settings())
    try:
        with runtime.db.session() as session:
            found = service.members(
                session, runtime.store, workspace_id=workspace, segment_id=segment_id
            )
        for pid in sorted(found):
            typer.echo(pid)
    except SafarError as exc:
        fail(exc)
    finally:
        runtime.close()


@app.command("refresh")
def refresh(ctx: typer.Context, workspace: Workspace) -> None:
    """Refresh every segment of the workspace now; the change events are stored by the
    scheduler (the server's), and the next periodic refresh is scheduled."""
    runtime = open_runtime(ctx, Settings())
    try:
        now = runtime.clock()
        with runtime.db.session() as session:
            diffs = service.refresh_all(
                session, runtime.store, workspace_id=workspace, now=now, jobs=runtime.jobs
            )
            interval = runtime.settings.segment_refresh_s
            service.schedule_refresh(
                session,
                runtime.jobs,
                workspace_id=workspace,
                due_at=service.next_refresh(now, interval),
                interval_s=interval,
            )
        for segment_id, d in diffs.items():
            state = "baseline" if d.baseline else f"+{len(d.entered)} -{len(d.left)}"
            typer.echo(f"{segment_id}\t{state}")
    except SafarError as exc:
        fail(exc)
    finally:
        runtime.close()
