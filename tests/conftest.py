"""Fixtures every domain's tests share: a fresh installation per test on either engine stack.

``stack`` is parametrised over the two supported combinations; the scale one (ClickHouse via
chdb + a real PostgreSQL) runs when ``SAFAR_TEST_PG_URL`` names a server (``.ci/run`` starts
one) and is skipped otherwise, unless ``SAFAR_TEST_REQUIRE_SCALE=1`` makes that a failure.

Installations start from a copy of one migrated template (``tests/installation.py``), not
from running the migrations again. Domain helpers live in ``tests/<domain>/factories.py``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from safar.app import create_app
from safar.config import Settings
from safar.db import Database
from safar.runtime import Runtime
from tests.installation import build_sqlite_template, fresh_data_dir
from tests.workspaces.factories import Workspace, make_workspace

__all__ = ["STACKS", "Workspace", "make_settings"]

pytest_plugins = ["pytester", "tests.skip_summary"]

STACKS = ["duckdb-sqlite", "clickhouse-postgres"]


def _scale_available() -> str | None:
    url = os.environ.get("SAFAR_TEST_PG_URL")
    if not url:
        return "SAFAR_TEST_PG_URL not set (no PostgreSQL server)"
    try:
        import chdb  # noqa: F401
        import clickhouse_connect  # noqa: F401
    except ImportError:
        return "chdb / clickhouse-connect not installed"
    return None


@pytest.fixture(scope="session", autouse=True)
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated empty state store every test's installation starts as a copy of."""
    return build_sqlite_template(tmp_path_factory.mktemp("template"))


def _skip_without_scale() -> None:
    reason = _scale_available()
    if reason:
        if os.environ.get("SAFAR_TEST_REQUIRE_SCALE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _admin_execute(base: str, *statements: tuple[str, dict[str, str]]) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for sql, params in statements:
                conn.execute(text(sql), params)
    finally:
        admin.dispose()


def _drop(base: str, name: str) -> None:
    _admin_execute(
        base,
        (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n",
            {"n": name},
        ),
        (f'DROP DATABASE IF EXISTS "{name}"', {}),
    )


def _database_url(base: str, name: str) -> str:
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated once per session; test databases are copies of it."""
    _skip_without_scale()
    base = os.environ["SAFAR_TEST_PG_URL"]
    name = "safar_tpl_" + uuid.uuid4().hex[:12]
    _admin_execute(base, (f'CREATE DATABASE "{name}"', {}))
    try:
        db = Database(_database_url(base, name))
        try:
            db.migrate()
        finally:
            # CREATE DATABASE ... TEMPLATE refuses while anyone is connected to the template.
            db.dispose()
        yield name
    finally:
        _drop(base, name)


@pytest.fixture
def pg_database(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the newest schema, empty; dropped afterwards."""
    base = os.environ["SAFAR_TEST_PG_URL"]
    name = "safar_t_" + uuid.uuid4().hex[:12]
    _admin_execute(base, (f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"', {}))
    try:
        yield _database_url(base, name)
    finally:
        _drop(base, name)


def make_settings(tmp_path: Path, stack: str, request: pytest.FixtureRequest) -> Settings:
    if stack == "duckdb-sqlite":
        return Settings(data_dir=fresh_data_dir(tmp_path / "safar"))
    pg_url = request.getfixturevalue("pg_database")
    return Settings(data_dir=tmp_path / "safar", event_engine="clickhouse", state_url=pg_url)


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path, stack: str, request: pytest.FixtureRequest) -> Settings:
    return make_settings(tmp_path, stack, request)


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    """Embedded defaults only, for tests that are not about engine parity."""
    return Settings(data_dir=fresh_data_dir(tmp_path / "safar"))


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def workspace(runtime: Runtime) -> Workspace:
    return make_workspace(runtime)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
        yield c
