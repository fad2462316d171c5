"""``safar dead-letter list|replay``: see parked messages and bring them back."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from safar.config import Settings
from safar.errors import SafarError
from safar.events.dead_letter import FILE_NAME, DeadLetters
from safar.kit.cli import fail, open_runtime

app = typer.Typer(help="Messages parked after failing on every retry", no_args_is_help=True)


@app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Show parked messages (one per workspace and messageId, with the latest error)."""
    entries = DeadLetters(Settings().data_dir / FILE_NAME).entries()
    for parked in entries:
        s = parked.summary()
        if as_json:
            typer.echo(json.dumps(s, ensure_ascii=False))
        else:
            what = s["event"] or s["type"]
            typer.echo(f"{s['at']}  {s['workspace_id']}  {s['message_id']}  {what}  {s['error']}")
    if not as_json:
        typer.echo(f"{len(entries)} parked message(s)", err=True)


@app.command("replay")
def replay_cmd(
    ctx: typer.Context,
    message_id: Annotated[
        list[str] | None, typer.Option("--message-id", help="only these (repeatable)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Apply parked messages again; those stored leave the file, the rest stay.

    Idempotent: a message stored meanwhile is recognised and not stored twice. Needs the event
    store to itself (stop ``safar serve`` when it uses the embedded DuckDB file).
    """
    settings = Settings()
    try:
        runtime = open_runtime(ctx, settings)
    except SafarError as exc:
        fail(exc)
    try:
        result = DeadLetters(settings.data_dir / FILE_NAME).replay(
            runtime.applier, message_ids=set(message_id) if message_id else None
        )
    finally:
        runtime.close()
    summary = {
        "replayed": result.replayed,
        "inserted": result.inserted,
        "still_failing": result.still_failing,
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(
            f"replayed {result.replayed}: {result.inserted} stored, "
            f"{result.still_failing} still failing (kept in the file)"
        )
    if result.still_failing:
        raise typer.Exit(1)
