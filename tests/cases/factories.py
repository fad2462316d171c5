"""Cases test helpers: an installation with a settable clock, a secret key and a user; events
applied through the real ingestion path; the scheduler's due jobs run by hand."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from safar.app import create_app
from safar.auth import service as auth
from safar.config import Settings
from safar.events.messages import normalize, parse_message
from safar.events.rows import EventRow
from safar.identity import service as identity
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.flows.factories import Clock
from tests.installation import fresh_data_dir

#: Tuesday 8 December 2026, 09:00 UTC.
T0 = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


@dataclass
class Site:
    runtime: Runtime
    workspace_id: str
    secret: str
    client: httpx.AsyncClient
    clock: Clock
    #: An agent cases may be assigned to.
    agent_id: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    async def call(
        self, method: str, path: str, expect: int, json: Any = None, **params: Any
    ) -> Any:
        r = await self.client.request(method, path, json=json, params=params, headers=self.bearer)
        assert r.status_code == expect, r.text
        return r.json()


@asynccontextmanager
async def open_site(tmp_path: Path) -> AsyncIterator[Site]:
    """A runtime on fresh SQLite and DuckDB files, no background threads, its app over HTTP."""
    clock = Clock(T0)
    settings = Settings(data_dir=fresh_data_dir(tmp_path / "safar"), text_analysis=False)
    runtime = Runtime(settings, ingest=False, clock=clock)
    try:
        with runtime.db.session() as s:
            ws, _, secret = create_workspace(s, name="Shop")
            agent = auth.create_user(
                s, email="agent@example.com", password="agent-password-1", role="agent"
            )
            ids = ws.id, agent.id
        transport = httpx.ASGITransport(app=create_app(runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
            yield Site(runtime, ids[0], secret, c, clock, ids[1])
    finally:
        runtime.close()


def row(site: Site, **msg: Any) -> EventRow:
    msg.setdefault("messageId", "m-" + uuid.uuid4().hex)
    msg.setdefault("timestamp", site.clock.now.isoformat())
    return normalize(parse_message(msg), workspace_id=site.workspace_id, received_at=site.clock.now)


def ingest(site: Site, *rows: EventRow) -> int:
    """Apply rows as ingestion does; how many were new."""
    return site.runtime.applier.apply(list(rows)).inserted


def run_jobs(site: Site) -> int:
    """Run the scheduler's due jobs (timeline events, journey messages) until none is left."""
    total = 0
    for _ in range(10):
        n = site.runtime.scheduler.run_due()
        total += n
        if n == 0:
            break
    return total


def profile_of(site: Site, user_id: str) -> str:
    with site.runtime.db.session() as s:
        return identity.lookup(s, workspace_id=site.workspace_id, type_="user_id", value=user_id)


def timeline(site: Site, profile_id: str, prefix: str = "Case ") -> list[dict[str, Any]]:
    """The person's events whose names start with ``prefix``, oldest first."""
    with site.runtime.db.session() as s:
        _, events, _ = identity.timeline(
            s, site.runtime.store, workspace_id=site.workspace_id, profile_id=profile_id,
            limit=500,
        )  # fmt: skip
    return [e for e in reversed(events) if str(e.get("event") or "").startswith(prefix)]
