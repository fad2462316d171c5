"""What the real-SDK tests share: where the SDK packages are, a flaky proxy, a page server.

The SDK packages are installed by ``make sdk-packages`` (``.ci/run`` calls it): npm packages
into ``tests/events/sdk/node_modules`` from the committed lock file, and the legacy
``analytics-python`` into ``tests/events/sdk/py-legacy`` (its pins clash with the current SDK).
Tests skip with the reason when they are absent, and fail instead under
``SAFAR_TEST_REQUIRE_SDKS=1``.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SDK_DIR = Path(__file__).resolve().parent / "sdk"
NODE_MODULES = SDK_DIR / "node_modules"
LEGACY_PY = SDK_DIR / "py-legacy"


class Reader:
    """The profile API of a running server, with a secret key."""

    def __init__(self, base_url: str, secret_key: str) -> None:
        self.http = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {secret_key}"}, timeout=30
        )

    def flush(self) -> None:
        r = self.http.post("/api/ingest/flush")
        assert r.status_code == 200 and r.json()["applied"], r.text

    def lookup(self, type_: str, value: str) -> dict[str, Any]:
        r = self.http.get("/api/profiles/lookup", params={"type": type_, "value": value})
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    def events(self, profile_id: str) -> list[dict[str, Any]]:
        """Every event of the profile (following the timeline's cursors)."""
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 500}
        while True:
            r = self.http.get(f"/api/profiles/{profile_id}/timeline", params=params)
            assert r.status_code == 200, r.text
            out += r.json()["events"]
            if not r.json()["next_cursor"]:
                return out
            params["cursor"] = r.json()["next_cursor"]

    def timeline(self, profile_id: str) -> dict[str, dict[str, Any]]:
        return {e["message_id"]: e for e in self.events(profile_id)}


def _missing(reason: str) -> None:
    if os.environ.get("SAFAR_TEST_REQUIRE_SDKS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def need(path: Path | str, what: str) -> None:
    """Skip (or, in CI, fail) when an SDK package or tool is not installed here."""
    if not Path(path).exists():
        _missing(f"{what} not installed ({path}); run `make sdk-packages`")


def need_node_package(name: str) -> None:
    if shutil.which("node") is None:
        _missing("node is not on PATH (apt-get install nodejs npm)")
    need(NODE_MODULES / name / "package.json", f"npm package {name}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Threaded:
    """A uvicorn server on its own thread, stopped on ``close``."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started, "proxy did not start"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


#: Not forwarded. ``Host`` is, so what Safar derives from it (the settings' apiHost) names
#: the proxy, as behind a real load balancer.
_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}
EVENT_PATHS = ("/v1/t", "/v1/i", "/v1/p", "/v1/s", "/v1/g", "/v1/a", "/v1/b", "/v1/import")
EVENT_PATHS += ("/beacon/",)


@dataclass(frozen=True)
class Seen:
    """One request the proxy forwarded (or refused): ``size`` is the decompressed body."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    size: int


@dataclass
class FlakyProxy:
    """A real HTTP reverse proxy in front of Safar (what a load balancer is during a deploy):
    it forwards everything, and answers 503 to the next ``fail`` event posts."""

    upstream: str
    fail: int = 0
    log: list[Seen] = field(default_factory=list)
    _server: _Threaded | None = None

    def start(self) -> FlakyProxy:
        client = httpx.AsyncClient(base_url=self.upstream, timeout=60)

        async def forward(request: Request) -> Response:
            path = request.url.path
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
            is_event = request.method == "POST" and path.startswith(EVENT_PATHS)
            body = await request.body()
            gzipped = headers.get("content-encoding") == "gzip"
            size = len(gzip.decompress(body) if gzipped else body)
            if is_event and self.fail > 0:
                self.fail -= 1
                self.log.append(Seen(request.method, path, 503, headers, size))
                return Response(
                    b'{"error": "ServiceUnavailable", "code": "unavailable"}',
                    status_code=503,
                    media_type="application/json",
                    headers={"Access-Control-Allow-Origin": "*"},
                )
            upstream = await client.request(
                request.method,
                path,
                params=request.url.query,
                content=body,
                headers=headers,
            )
            self.log.append(Seen(request.method, path, upstream.status_code, headers, size))
            out = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in _HOP | {"content-encoding"}
            }
            return Response(upstream.content, status_code=upstream.status_code, headers=out)

        methods = ["GET", "POST", "OPTIONS", "PUT", "HEAD"]
        app = Starlette(routes=[Route("/{path:path}", forward, methods=methods)])
        self._server = _Threaded(app)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def posts(self) -> list[Seen]:
        return [seen for seen in self.log if seen.method == "POST"]

    def close(self) -> None:
        if self._server is not None:
            self._server.close()


class PageServer:
    """Static files on their own port, so pages are another origin than Safar (CORS applies)."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def run_node(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run one of the scripts in ``tests/events/sdk`` with the installed packages."""
    done = subprocess.run(
        ["node", str(SDK_DIR / script), *args],
        cwd=SDK_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    return done
