"""Capture helpers: Segment calls to the real app, read-your-writes, profile and timeline reads.

``Api`` talks to the real app (in process through ASGITransport, or a real ``safar serve``
over TCP) exactly as a customer would: Basic write key for ``/v1``, Bearer secret key for
``/api``. Times are written relative to ``T0`` so scenarios read as minutes after it.
"""

from __future__ import annotations

import contextlib
import gzip
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from safar.app import create_app
from safar.config import Settings
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.installation import fresh_data_dir

#: The fixed moment scenarios are written around (every test time is relative to it).
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def at(minutes: float) -> str:
    """ISO time ``minutes`` after T0, as a client would send it."""
    return iso(T0 + timedelta(minutes=minutes))


def gz(body: Any) -> bytes:
    return gzip.compress(orjson.dumps(body))


@dataclass
class Api:
    client: httpx.AsyncClient
    write_key: str
    secret_key: str
    runtime: Runtime | None = None

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}

    async def send(
        self, kind: str, body: dict[str, Any], *, expect: int | None = 200
    ) -> httpx.Response:
        r = await self.client.post(f"/v1/{kind}", json=body, auth=(self.write_key, ""))
        if expect is not None:
            assert r.status_code == expect, r.text
        return r

    async def batch(
        self, messages: list[dict[str, Any]], *, expect: int | None = 200, **extra: Any
    ) -> httpx.Response:
        return await self.send("batch", {"batch": messages, **extra}, expect=expect)

    async def flush(self) -> None:
        r = await self.client.post("/api/ingest/flush", headers=self.bearer)
        assert r.status_code == 200, r.text
        assert r.json()["applied"] is True

    async def get(self, path: str, *, expect: int = 200, **params: Any) -> Any:
        r = await self.client.get(path, headers=self.bearer, params=params)
        assert r.status_code == expect, r.text
        return r.json()

    async def stats(self) -> dict[str, Any]:
        await self.flush()
        out: dict[str, Any] = await self.get("/api/stats")
        return out

    async def lookup(self, type_: str, value: str) -> dict[str, Any]:
        out: dict[str, Any] = await self.get("/api/profiles/lookup", type=type_, value=value)
        return out

    async def profile(self, profile_id: str) -> dict[str, Any]:
        out: dict[str, Any] = await self.get(f"/api/profiles/{profile_id}")
        return out

    async def timeline_page(self, profile_id: str, **params: Any) -> dict[str, Any]:
        out: dict[str, Any] = await self.get(f"/api/profiles/{profile_id}/timeline", **params)
        return out

    async def timeline(self, profile_id: str, **params: Any) -> list[dict[str, Any]]:
        """Every event of the profile, following cursors to the end."""
        events: list[dict[str, Any]] = []
        cursor = None
        for _ in range(1000):
            query = dict(params)
            if cursor:
                query["cursor"] = cursor
            page = await self.timeline_page(profile_id, **query)
            events += page["events"]
            cursor = page["next_cursor"]
            if not cursor:
                return events
        raise AssertionError("timeline pagination never ended")

    async def timeline_ids(self, profile_id: str, **params: Any) -> list[str]:
        return [e["message_id"] for e in await self.timeline(profile_id, **params)]

    async def unmerge(self, profile_id: str, merge_id: str | None = None) -> dict[str, Any]:
        body = {"merge_id": merge_id} if merge_id else None
        r = await self.client.post(
            f"/api/profiles/{profile_id}/unmerge", headers=self.bearer, json=body
        )
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out


@asynccontextmanager
async def open_api(settings: Settings, name: str = "Shop") -> AsyncIterator[Api]:
    """A runtime, one workspace and an in-process client on it (for single-stack tests)."""
    if settings.state_url is None:
        fresh_data_dir(settings.data_dir)
    runtime = Runtime(settings)
    try:
        with runtime.db.session() as session:
            _, write, secret = create_workspace(session, name=name)
        transport = httpx.ASGITransport(app=create_app(runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
            yield Api(c, write, secret, runtime)
    finally:
        runtime.close()


def by_message_id(events: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["message_id"]: e for e in events}


# -- imports sent to the server -----------------------------------------------------------------
def import_csv(good: int = 4, bad_lines: tuple[int, ...] = ()) -> bytes:
    """An orders table: ``good`` rows (customers c0, c1, ...) and, at the physical lines in
    ``bad_lines`` (the header is line 1), rows without a customer (total 99)."""
    lines = ["customer,total,at"]
    i = 0
    while i < good or len(lines) <= max(bad_lines, default=0):
        if len(lines) + 1 in bad_lines:
            lines.append(",99,2024-01-01T00:00:00Z")
            continue
        lines.append(f"c{i % 500},{i},{iso(T0 + timedelta(minutes=i))}")
        i += 1
    return ("\n".join(lines) + "\n").encode()


def queue_import(
    runtime: Runtime, workspace_id: str, name: str, body: bytes, options: dict[str, Any]
) -> str:
    """Queue a run of ``body`` as the API would (not yet handed to the worker); its id."""
    from safar.events import import_runs

    run_id = import_runs.new_run_id()
    folder = import_runs.run_dir(runtime.settings, run_id)
    folder.mkdir(parents=True)
    (folder / name).write_bytes(body)
    with runtime.db.session() as session:
        import_runs.create_run(
            session, runtime.settings, run_id=run_id, workspace_id=workspace_id, file_name=name,
            size=len(body), options=options, created_by="test", ready=True,
        )  # fmt: skip
    return run_id


class Died(Exception):
    """What a power cut does to an import, as far as its record can tell."""


def run_first_chunk_then_die(runtime: Runtime, workspace_id: str, run_id: str) -> None:
    """Start the run as the worker does and stop dead after its first stored chunk, leaving
    its record ``running`` (as ``kill -9`` of the server would)."""
    from safar.events import import_runs
    from safar.events.importer import run_import

    with runtime.db.session() as session:
        run = import_runs.get_run(session, workspace_id=workspace_id, run_id=run_id)
        run.state = "running"
        spec = import_runs.spec_of(
            import_runs.file_path(runtime.settings, run), workspace_id, dict(run.options)
        )

    def die(*_: Any) -> None:
        raise Died

    with contextlib.suppress(Died):
        run_import(runtime, spec, on_chunk=die)


def import_finished(runtime: Runtime, workspace_id: str, run_id: str) -> dict[str, Any]:
    """Wait for the server's worker to finish the run; its status."""
    from safar.events import import_runs

    for _ in range(1200):
        with runtime.db.session() as session:
            run = import_runs.get_run(session, workspace_id=workspace_id, run_id=run_id)
            out = import_runs.status(run)
        if out["state"] in ("done", "failed"):
            return out
        time.sleep(0.05)
    raise AssertionError(f"import {run_id} did not finish")
