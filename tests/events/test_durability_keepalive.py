"""An unhandled error is a 500 on a connection that stays open, over real HTTP (uvicorn);
a store error is a 503 with ``Retry-After``.

Ingest clients keep connections alive; a server that closed them after every 500 would turn
one bug into reconnect storms and lost in-flight requests on the client side.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx
import sqlalchemy.exc as sa
import uvicorn

from safar.app import create_app
from safar.config import Settings
from tests.processes import free_port


def test_a_500_keeps_the_keep_alive_connection(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "safar", text_analysis=False))

    def boom() -> None:
        raise RuntimeError("a bug, with secret details")

    def disk_full() -> None:
        # What SQLAlchemy raises when SQLite cannot grow its file.
        cause = sqlite3.OperationalError("database or disk is full")
        raise sa.OperationalError("INSERT INTO profiles ...", {}, cause)

    for path, endpoint in (("/api/test-boom", boom), ("/api/test-full", disk_full)):
        app.add_api_route(path, endpoint)
        app.router.routes.insert(0, app.router.routes.pop())  # before the dashboard's catch-all
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="critical"))
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            deadline = time.monotonic() + 30
            while not server.started and time.monotonic() < deadline:
                time.sleep(0.02)
            first = http.get("/api/test-boom")
            assert first.status_code == 500
            assert first.json() == {
                "error": "InternalError",
                "code": "internal_error",
                "message": "internal error; see the server log",
            }
            # A store error is no bug: 503, when to retry, and no internals.
            full = http.get("/api/test-full")
            assert full.status_code == 503 and full.headers["retry-after"] == "1"
            assert full.json()["field"] == "storage"
            assert full.json()["code"] == "storage_unavailable"
            assert "disk is full" not in full.text
            assert http.get("/healthz").status_code == 200
            (conn,) = http._transport._pool.connections  # type: ignore[attr-defined]
            assert "Request Count: 3" in str(conn)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
