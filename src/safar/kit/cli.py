"""What every domain's commands share: one way to fail."""

from __future__ import annotations

from typing import NoReturn

import typer

from safar.errors import SafarError


def fail(exc: SafarError) -> NoReturn:
    """Print the error's message (never a traceback) and exit 2."""
    typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)
