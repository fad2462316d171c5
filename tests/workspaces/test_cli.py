"""``safar workspace create NAME --json``: the printed keys work, and only their hashes are kept."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from safar.cli import app
from safar.config import Settings
from safar.db import Database
from safar.workspaces.service import authenticate


def _env(tmp_path: Path, stack: str, request: pytest.FixtureRequest) -> dict[str, str]:
    env = {"SAFAR_DATA_DIR": str(tmp_path / "safar")}
    if stack == "clickhouse-postgres":
        env["SAFAR_STATE_URL"] = request.getfixturevalue("pg_database")
    return env


def _every_stored_value(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        values: list[str] = []
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    values += [str(v) for v in row]
        return values
    finally:
        engine.dispose()


def test_workspace_create_json_prints_working_keys_stored_hashed(
    tmp_path: Path, stack: str, request: pytest.FixtureRequest
) -> None:
    env = _env(tmp_path, stack, request)
    runner = CliRunner()
    done = runner.invoke(app, ["workspace", "create", "Tehran Bakery", "--json"], env=env)
    assert done.exit_code == 0, done.output
    out = orjson.loads(done.stdout)
    assert sorted(out) == ["secret_key", "workspace_id", "write_key"]
    assert out["write_key"].startswith("wk_") and out["secret_key"].startswith("sk_")
    assert len(out["write_key"]) > 40 and out["write_key"] != out["secret_key"]

    settings = Settings(data_dir=Path(env["SAFAR_DATA_DIR"]), state_url=env.get("SAFAR_STATE_URL"))
    db = Database(settings.resolved_state_url)
    try:
        with db.session() as s:
            write = authenticate(s, out["write_key"])
            secret = authenticate(s, out["secret_key"])
            assert authenticate(s, out["write_key"] + "x") is None
    finally:
        db.dispose()
    assert write is not None and secret is not None
    assert (write.kind, write.workspace_id) == ("write", out["workspace_id"])
    assert (secret.kind, secret.workspace_id) == ("secret", out["workspace_id"])

    stored = _every_stored_value(settings.resolved_state_url)
    for raw in (out["write_key"], out["secret_key"]):
        assert not any(raw in v for v in stored), "a raw key is stored"
        assert hashlib.sha256(raw.encode()).hexdigest() in stored
    if stack == "duckdb-sqlite":
        for path in Path(env["SAFAR_DATA_DIR"]).glob("state.db*"):
            blob = path.read_bytes()
            assert out["write_key"].encode() not in blob and out["secret_key"].encode() not in blob

    listed = runner.invoke(app, ["workspace", "list"], env=env)
    assert listed.exit_code == 0 and out["workspace_id"] in listed.stdout
    assert "Tehran Bakery" in listed.stdout


def test_workspace_create_refuses_an_empty_name(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app, ["workspace", "create", "   ", "--json"], env={"SAFAR_DATA_DIR": str(tmp_path)}
    )
    assert done.exit_code == 2
    assert "name" in done.stderr and done.stdout == ""


def test_workspace_create_without_json_shows_the_keys_once(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app, ["workspace", "create", "Shop"], env={"SAFAR_DATA_DIR": str(tmp_path)}
    )
    assert done.exit_code == 0
    lines = done.stdout.splitlines()
    assert lines[0].startswith("workspace  ws_")
    assert lines[1].startswith("write key  wk_") and lines[2].startswith("secret key sk_")
