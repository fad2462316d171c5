"""Dashboard helpers: a site with users of every role, sign-in and CSRF forms, a real server.

``serving`` runs the app under uvicorn on a thread, on a socket bound and listening before
the thread starts: the kernel queues connections until uvicorn accepts them, so nothing has
to wait for the server to come up.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn

from safar.auth.service import create_user
from safar.runtime import Runtime
from safar.surveys import presets
from safar.surveys import service as svc
from safar.surveys.models import Invitation
from safar.workspaces.service import create_workspace
from tests.surveys.factories import answer
from tests.web.seed import NOW, rows_for, seed

PASSWORD = "correct horse battery"
ROLES = ("admin", "analyst", "agent", "viewer")
CHROMIUM = os.environ.get("SAFAR_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    runtime: Runtime
    workspace_id: str
    write_key: str
    secret_key: str

    def email(self, role: str) -> str:
        return f"{role}@example.com"


def make_site(runtime: Runtime, *, data: bool = True) -> Site:
    """A workspace, one user per role (password ``PASSWORD``) and, with ``data``, some events."""
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


def listening_socket() -> socket.socket:
    """A loopback TCP socket already accepting connections (its port is the server's)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextmanager
def serving(app: Any, sock: socket.socket | None = None) -> Iterator[str]:
    """Serve ``app`` on a thread; yields its base URL, usable at once."""
    sock = sock or listening_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot under test-artifacts/screens/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in_page(page: Any, base: str, role: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", f"{role}@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def use_language(page: Any, lang: str) -> None:
    """Switch the signed-in user's dashboard to ``lang`` (the choice is stored on the user)."""
    if page.get_attribute("html", "lang") != lang:
        page.click("#lang-switch")
        page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == lang


#: Mark for tests that drive Debian's Chromium through Playwright.
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing (apt-get install chromium)"
)


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright with the flags this machine needs, closed after."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def answered_survey(site: Site) -> str:
    """User "u" answers the NPS preset five times in Mehr and Aban 1405, once with a comment."""
    rt = site.runtime
    with rt.db.session() as s:
        survey = svc.create_survey(s, workspace_id=site.workspace_id, data=presets.template("nps"))
        s.expunge(survey)
    for day, score in ((3, 10), (3, 9), (3, 2), (25, 10), (25, 6)):
        answer(
            rt,
            survey,
            site.workspace_id,
            datetime(2026, 10, day, 9, tzinfo=UTC),
            "email",
            nps=score,
        )
    # One respondent also wrote what went wrong.
    with rt.db.session() as s:
        resp = svc.list_responses(s, workspace_id=site.workspace_id, survey_id=survey.id)
        target = next(r for r in resp if r.nps == 6)
        inv = s.get(Invitation, target.invitation_id)
        opened = svc.Opened(inv, survey, svc.definition_of(survey), target)  # type: ignore[arg-type]
        svc.submit_step(
            s,
            opened=opened,
            raw={"what_wrong": "پیک خیلی دیر رسید"},
            step=1,
            now=datetime(2026, 10, 25, 10, tzinfo=UTC),
            tz="Asia/Tehran",
        )
    return survey.id


# -- a tour of every dashboard page, with data on each ------------------------------------------
#: The pages ``tour`` returns, by name (tests parametrise over them before the site exists).
TOUR_PAGES = (
    "overview", "overview-empty", "customers", "customer", "journeys", "journeys-errors",
    "listen", "automations", "automation", "surveys", "survey", "survey-csat", "survey-builder",
    "imports", "import", "settings", "journeys-empty", "listen-empty", "customers-empty",
)  # fmt: skip


def scored_customers(site: Site, n: int = 60) -> None:
    """``n`` customers answer an NPS question; half chatted with support first and scored low,
    so the key-driver card has a finding to say."""
    msgs: list[dict[str, Any]] = []
    for i in range(n):
        uid, chat = f"scored-{i}", i % 2 == 0
        t0 = NOW - timedelta(days=2, minutes=i)
        if chat:
            msgs.append({"type": "track", "userId": uid, "event": "Support Chat",
                         "messageId": f"chat-{i}", "timestamp": t0.isoformat()})  # fmt: skip
        msgs.append({"type": "track", "userId": uid, "event": "survey_answered",
                     "messageId": f"nps-{i}", "properties": {"nps": 3 + i % 3 if chat else 9},
                     "timestamp": (t0 + timedelta(minutes=5)).isoformat()})  # fmt: skip
    site.runtime.applier.apply(rows_for(site.workspace_id, msgs))
    if site.runtime.consumer is not None:
        site.runtime.consumer.wait_applied()


def tour(site: Site) -> dict[str, str]:
    """Give the site a survey with answers, a published journey, an import and scored customers;
    then {name: path} of every dashboard page, each showing data (and a few empty states)."""
    from safar.flows import service as flows
    from safar.identity import service as identity
    from tests.events.factories import import_csv, queue_import

    rt = site.runtime
    survey_id = answered_survey(site)
    scored_customers(site)
    definition = {
        "name": "خوش‌آمد پیامکی",
        "trigger": {"type": "event", "event": "Product Viewed", "where": []},
        "start": "hello",
        "nodes": [
            {"id": "hello", "type": "send", "channel": "sms",
             "texts": {"fa": {"subject": "", "body": "سلام {{ traits.name }}"},
                       "en": {"subject": "", "body": "Hello {{ traits.name }}"}},
             "next": "later"},
            {"id": "later", "type": "delay", "mode": "duration", "seconds": 3600, "next": "end"},
            {"id": "end", "type": "exit"},
        ],
    }  # fmt: skip
    with rt.db.session() as s:
        flow = flows.create_flow(
            s, workspace_id=site.workspace_id, definition=definition, user="test", now=NOW
        )
        flow_id = flow.id
        sara = identity.lookup(s, workspace_id=site.workspace_id, type_="email",
                               value="sara@example.com")  # fmt: skip
    run_id = queue_import(rt, site.workspace_id, "orders.csv", import_csv(6), {})
    with rt.db.session() as s:
        csat = svc.create_survey(s, workspace_id=site.workspace_id, data=presets.template("csat"))
        s.expunge(csat)
    for day, score in ((3, 5), (4, 4), (10, 2), (26, 5)):
        answer(
            rt, csat, site.workspace_id, datetime(2026, 10, day, 9, tzinfo=UTC), "sms", csat=score
        )
    journeys = urlencode({
        "steps": "Product Viewed, Order Completed",
        "stages": "browse: Product Viewed\nbuy: Order Completed",
        "breakdown": "channel",
        "unit": "ستاره",
    })  # fmt: skip
    nothing = "period=custom&from=2020-01-01&to=2020-01-02"
    return {
        "overview": "/?period=custom&from=2026-02-20&to=2026-03-01",
        "overview-empty": "/",
        "customers": "/customers",
        "customer": f"/customers/{sara}",
        "journeys": f"/journeys?{journeys}",
        "journeys-errors": "/journeys?steps=Product+Viewed%2C+Teleported&stages=no+colon",
        "listen": "/listen",
        "automations": "/automations",
        "automation": f"/automations/{flow_id}",
        "surveys": "/surveys",
        "survey": f"/surveys/{survey_id}",
        "survey-csat": f"/surveys/{csat.id}",
        "survey-builder": f"/surveys/{survey_id}/edit",
        "imports": "/imports",
        "import": f"/imports/{run_id}",
        "settings": "/settings",
        # Empty states: a period with nothing in it, a search that finds no one.
        "journeys-empty": f"/journeys?{nothing}&{journeys}",
        "listen-empty": f"/listen?{nothing}",
        "customers-empty": "/customers?q=nobody%40nowhere.example",
    }
