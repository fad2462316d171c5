"""Fixtures of the dashboard tests: an installation with users of every role and some data.

The seeded site (four argon2 password hashes and a few dozen events, about two seconds of
CPU) is built once per session and copied per test: each test gets its own files, as if it
had built them.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from safar.app import create_app
from safar.config import Settings
from safar.runtime import Runtime
from tests.installation import fresh_data_dir
from tests.web.factories import Site, launched_chromium, make_site, serving


@dataclass(frozen=True)
class SiteTemplate:
    data_dir: Path
    workspace_id: str
    write_key: str
    secret_key: str


@pytest.fixture(scope="session")
def site_template(tmp_path_factory: pytest.TempPathFactory) -> SiteTemplate:
    data_dir = fresh_data_dir(tmp_path_factory.mktemp("site-template") / "safar")
    runtime = Runtime(Settings(data_dir=data_dir))
    try:
        site = make_site(runtime)
    finally:
        # Closing drains the ingest log and finishes text analysis: the files are complete.
        runtime.close()
    return SiteTemplate(data_dir, site.workspace_id, site.write_key, site.secret_key)


@pytest.fixture
def site_runtime(embedded_settings: Settings, site_template: SiteTemplate) -> Iterator[Runtime]:
    shutil.copytree(site_template.data_dir, embedded_settings.data_dir, dirs_exist_ok=True)
    rt = Runtime(embedded_settings)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def site(site_runtime: Runtime, site_template: SiteTemplate) -> Site:
    return Site(
        site_runtime, site_template.workspace_id, site_template.write_key, site_template.secret_key
    )


@pytest.fixture
async def web(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=site.runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
        yield c


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, site_template: SiteTemplate
) -> Iterator[tuple[str, Site]]:
    """The seeded site behind a real uvicorn server, shared by one module's browser tests."""
    data_dir = tmp_path_factory.mktemp("browser") / "safar"
    shutil.copytree(site_template.data_dir, data_dir)
    runtime = Runtime(Settings(data_dir=data_dir))
    site = Site(
        runtime, site_template.workspace_id, site_template.write_key, site_template.secret_key
    )
    try:
        with serving(create_app(runtime=runtime)) as base:
            yield base, site
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def browser(served: tuple[str, Site]) -> Iterator[Any]:
    with launched_chromium() as b:
        yield b
