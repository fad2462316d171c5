"""``safar workspace``: create and list workspaces (keys are printed once)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from safar.kit.cli import state_session

app = typer.Typer(help="Workspaces and API keys", no_args_is_help=True)


@app.command("create")
def workspace_create(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Create a workspace and print its write key and secret key (shown once)."""
    from safar.workspaces.service import create_workspace

    with state_session() as session:
        ws, write, secret = create_workspace(session, name=name)
        out = {"workspace_id": ws.id, "write_key": write, "secret_key": secret}
    if as_json:
        typer.echo(json.dumps(out))
    else:
        typer.echo(
            f"workspace  {out['workspace_id']}\nwrite key  {out['write_key']}\nsecret key {out['secret_key']}"
        )
        typer.echo("Keep the keys: only their hashes are stored.")


@app.command("list")
def workspace_list() -> None:
    """List workspaces."""
    from safar.workspaces.service import list_workspaces

    with state_session() as session:
        for ws in list_workspaces(session):
            typer.echo(f"{ws.id}\t{ws.name}\t{ws.created_at:%Y-%m-%d}")
