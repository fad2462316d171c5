"""Users, passwords and sessions: argon2 hashes, one vague sign-in error, expiry, CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from safar.auth import service
from safar.cli import app as cli
from safar.config import Settings
from safar.db import Database, utcnow
from safar.errors import Conflict, Unauthorized, ValidationFailed
from safar.runtime import Runtime


@pytest.fixture
def db(runtime: Runtime) -> Database:
    return runtime.db


def test_create_and_authenticate(db: Database) -> None:
    with db.session() as s:
        user = service.create_user(
            s, email=" Admin@Example.com ", password="s3cret-pass", role="admin", name="Ada"
        )
        assert user.password_hash.startswith("$argon2id$")
        assert "s3cret-pass" not in user.password_hash
    with db.session() as s:
        assert service.authenticate(s, email="admin@example.com", password="s3cret-pass").id
        with pytest.raises(Unauthorized, match="email or password is wrong"):
            service.authenticate(s, email="admin@example.com", password="wrong-pass")
        with pytest.raises(Unauthorized, match="email or password is wrong"):
            service.authenticate(s, email="nobody@example.com", password="s3cret-pass")


@pytest.mark.parametrize(
    ("email", "password", "role", "field"),
    [
        ("not-an-email", "long-enough", "admin", "email"),
        ("a@example.com", "short", "admin", "password"),
        ("a@example.com", "long-enough", "owner", "role"),
    ],
)
def test_bad_user_input_names_the_field(
    db: Database, email: str, password: str, role: str, field: str
) -> None:
    with db.session() as s, pytest.raises(ValidationFailed) as err:
        service.create_user(s, email=email, password=password, role=role)
    assert err.value.field == field


def test_duplicate_email_conflicts(db: Database) -> None:
    with db.session() as s:
        service.create_user(s, email="a@example.com", password="long-enough", role="viewer")
    with db.session() as s, pytest.raises(Conflict):
        service.create_user(s, email="A@example.com", password="long-enough", role="viewer")


def test_sessions_expire_and_end(db: Database) -> None:
    with db.session() as s:
        user = service.create_user(s, email="a@example.com", password="long-enough", role="agent")
        _, token = service.start_session(s, user=user)
    with db.session() as s:
        web, found = service.resolve_session(s, token)
        assert found.id == user.id and len(web.csrf_token) > 30
    idle = utcnow() + service.SESSION_IDLE + timedelta(minutes=1)
    with db.session() as s, pytest.raises(Unauthorized, match="expired"):
        service.resolve_session(s, token, now=idle)
    with db.session() as s:
        service.end_session(s, token)
    with db.session() as s, pytest.raises(Unauthorized):
        service.resolve_session(s, token)


def test_disabled_user_cannot_sign_in(db: Database) -> None:
    with db.session() as s:
        admin = service.create_user(s, email="a@example.com", password="long-enough", role="admin")
        user = service.create_user(s, email="b@example.com", password="long-enough", role="agent")
        _, token = service.start_session(s, user=user)
        service.set_disabled(s, user_id=user.id, disabled=True, actor_id=admin.id)
    with db.session() as s:
        with pytest.raises(Unauthorized):
            service.authenticate(s, email="b@example.com", password="long-enough")
        with pytest.raises(Unauthorized):
            service.resolve_session(s, token)
        with pytest.raises(ValidationFailed):
            service.set_role(s, user_id=admin.id, role="viewer", actor_id=admin.id)


def test_permissions_table() -> None:
    assert service.allowed("admin", "unmerge") and not service.allowed("analyst", "unmerge")
    assert service.allowed("analyst", "manage_keys") and not service.allowed("agent", "manage_keys")
    assert not service.allowed("viewer", "settings")


def test_cli_creates_the_first_admin(
    embedded_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFAR_DATA_DIR", str(embedded_settings.data_dir))
    runner = CliRunner()
    res = runner.invoke(
        cli,
        ["user", "create", "--admin", "--email", "root@example.com", "--password", "long-enough"],
    )
    assert res.exit_code == 0, res.output
    assert "(admin)" in res.output
    again = runner.invoke(
        cli, ["user", "create", "--email", "root@example.com", "--password", "long-enough"]
    )
    assert again.exit_code == 2 and "already exists" in again.output
    prompted = runner.invoke(
        cli,
        ["user", "create", "--role", "agent"],
        input="p@example.com\nlong-enough\nlong-enough\n",
    )
    assert prompted.exit_code == 0, prompted.output
    listed = runner.invoke(cli, ["user", "list"])
    assert "root@example.com\tadmin" in listed.output and "p@example.com\tagent" in listed.output
