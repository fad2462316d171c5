"""Helpers the capture-and-unify tests share: Segment calls, read-your-writes, profile reads.

``Api`` talks to the real app (in process through ASGITransport, or a real ``safar serve``
over TCP) exactly as a customer would: Basic write key for ``/v1``, Bearer secret key for
``/api``.
"""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from safar.app import create_app
from safar.config import Settings
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace

#: The fixed moment scenarios are written around (every test time is relative to it).
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SRC = Path(__file__).resolve().parents[1] / "src"


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
    runtime = Runtime(settings)
    try:
        with runtime.db.session() as session:
            _, write, secret = create_workspace(session, name=name)
        transport = httpx.ASGITransport(app=create_app(runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
            yield Api(c, write, secret, runtime)
    finally:
        runtime.close()


class Labels:
    """Stable names (P1, P2, ...) for random profile ids, in order of first appearance."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def __call__(self, profile_id: str) -> str:
        return self.names.setdefault(profile_id, f"P{len(self.names) + 1}")


def identity_set(profile: dict[str, Any]) -> list[str]:
    return sorted(f"{i['type']}:{i['value']}" for i in profile["identities"])


# -- a real server in a subprocess ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFAR_")}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["SAFAR_DATA_DIR"] = str(data_dir)
    env["SAFAR_LOG_LEVEL"] = "warning"
    env.update(extra)
    return env


def safar_cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "safar.cli", *args],
        env=cli_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class ServerProcess:
    """``safar serve`` as its own process, reachable at ``base_url``."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        self.log_path = self.data_dir.parent / f"serve-{self.port}-{time.time_ns()}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "safar.cli", "serve", "--port", str(self.port)],
                env=cli_env(self.data_dir, **self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"safar serve exited early:\n{self.log()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"safar serve did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush; what a power cut leaves."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def create_workspace_cli(data_dir: Path, name: str = "Shop", **env: str) -> dict[str, str]:
    done = safar_cli(data_dir, "workspace", "create", name, "--json", **env)
    assert done.returncode == 0, done.stderr
    out: dict[str, str] = orjson.loads(done.stdout.strip().splitlines()[-1])
    return out


def by_message_id(events: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["message_id"]: e for e in events}
