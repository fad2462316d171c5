"""``safar user``: dashboard users and roles."""

from __future__ import annotations

from typing import Annotated

import typer

from safar.kit.cli import state_session

app = typer.Typer(help="Dashboard users and roles", no_args_is_help=True)


@app.command("create")
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

    with state_session() as session:
        user = create_user(
            session, email=email, password=password, role="admin" if admin else role, name=name
        )
        out = (user.id, user.email, user.role)
    typer.echo(f"user {out[1]} ({out[2]}) created: {out[0]}")


@app.command("list")
def user_list() -> None:
    """List dashboard users."""
    from safar.auth.service import list_users

    with state_session() as session:
        for u in list_users(session):
            state = "disabled" if u.disabled_at else "active"
            typer.echo(f"{u.id}\t{u.email}\t{u.role}\t{state}")
