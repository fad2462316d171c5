"""What every domain's commands share: a runtime to open, and one way to fail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, Protocol

import typer
from sqlalchemy.orm import Session

from safar.config import Settings
from safar.errors import SafarError
from safar.kit.db import Database


class Opener(Protocol):
    def __call__(self, settings: Settings, *, ingest: bool) -> Any: ...


def open_runtime(ctx: typer.Context, settings: Settings, *, ingest: bool = False) -> Any:
    """The runtime for one command, built by the opener the ``safar`` command put in the
    context, so a domain's commands never import ``safar.runtime`` (they sit below it)."""
    opener: Opener | None = ctx.find_root().obj
    if opener is None:
        raise RuntimeError("domain commands run under the safar command (safar.cli.app)")
    return opener(settings, ingest=ingest)


def fail(exc: SafarError) -> NoReturn:
    """Print the error's message (never a traceback) and exit 2."""
    typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@contextmanager
def state_session() -> Iterator[Session]:
    """One unit of work on the state store alone (migrated first), for commands that need no
    event store, so they also work while a server holds the embedded DuckDB file. An expected
    failure is printed and exits 2."""
    settings = Settings()
    settings.ensure_dirs()
    db = Database(settings.resolved_state_url)
    db.migrate()
    try:
        with db.session() as session:
            yield session
    except SafarError as exc:
        fail(exc)
    finally:
        db.dispose()
