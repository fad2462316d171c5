"""Fixtures of the dashboard tests: an installation with users of every role and some data."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from safar.app import create_app
from safar.auth.service import create_user
from safar.config import Settings
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.web.seed import seed

PASSWORD = "correct horse battery"
ROLES = ("admin", "analyst", "agent", "viewer")


@dataclass
class Site:
    runtime: Runtime
    workspace_id: str
    write_key: str
    secret_key: str

    def email(self, role: str) -> str:
        return f"{role}@example.com"


@pytest.fixture
def site_runtime(embedded_settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(embedded_settings)
    try:
        yield rt
    finally:
        rt.close()


def make_site(runtime: Runtime, *, data: bool = True) -> Site:
    with runtime.db.session() as session:
        ws, write, secret = create_workspace(session, name="Digikala demo")
        for role in ROLES:
            create_user(
                session,
                email=f"{role}@example.com",
                password=PASSWORD,
                role=role,
                name=role.title(),
            )
    if data:
        seed(runtime, ws.id)
    return Site(runtime, ws.id, write, secret)


@pytest.fixture
def site(site_runtime: Runtime) -> Site:
    return make_site(site_runtime)


@pytest.fixture
async def web(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=site.runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
        yield c


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, role: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={
            "email": f"{role}@example.com",
            "password": password,
            "csrf_token": csrf_of(form.text),
            "next": "/",
        },
    )


async def page_csrf(client: httpx.AsyncClient, path: str = "/") -> str:
    res = await client.get(path)
    assert res.status_code == 200, res.text[:500]
    return csrf_of(res.text)
