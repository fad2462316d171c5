"""Fixtures every domain's tests share: a fresh installation per test on either engine stack.

``stack`` is parametrised over the two supported combinations; the scale one (ClickHouse via
chdb + a real PostgreSQL) runs when ``SAFAR_TEST_PG_URL`` names a server (``.ci/run`` starts
one) and is skipped otherwise, unless ``SAFAR_TEST_REQUIRE_SCALE=1`` makes that a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from safar.app import create_app
from safar.config import Settings
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace

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


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database; dropped afterwards."""
    reason = _scale_available()
    if reason:
        if os.environ.get("SAFAR_TEST_REQUIRE_SCALE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    base = os.environ["SAFAR_TEST_PG_URL"]
    name = "safar_t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def make_settings(tmp_path: Path, stack: str, request: pytest.FixtureRequest) -> Settings:
    if stack == "duckdb-sqlite":
        return Settings(data_dir=tmp_path / "safar")
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
    return Settings(data_dir=tmp_path / "safar")


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    try:
        yield rt
    finally:
        rt.close()


@dataclass
class Workspace:
    id: str
    write_key: str
    secret_key: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}

    @property
    def basic(self) -> tuple[str, str]:
        return (self.write_key, "")


@pytest.fixture
def workspace(runtime: Runtime) -> Workspace:
    with runtime.db.session() as session:
        ws, write, secret = create_workspace(session, name="Test shop")
    return Workspace(ws.id, write, secret)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
        yield c
