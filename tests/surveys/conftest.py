"""Survey fixtures: a real local SMTP server, a real local SMS gateway, helpers to send events."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller

from safar.config import Settings
from safar.events.messages import normalize, parse_message
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"

    def wait(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            return list(self.messages)


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, box)
    finally:
        controller.stop()


@dataclass
class Gateway:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    def wait(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.received) < count:
            time.sleep(0.05)
        return list(self.received)


@pytest.fixture
def sms_gateway() -> Iterator[Gateway]:
    """A real HTTP server standing in for an SMS provider: records what it is asked to send."""
    gateway = Gateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode()
            if self.headers.get("content-type", "").startswith("application/json"):
                body = json.loads(raw)
            else:
                body = {k: v[0] for k, v in parse_qs(raw).items()}
            gateway.received.append(
                {"path": self.path, "auth": self.headers.get("authorization"), "body": body}
            )
            self.send_response(gateway.status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"return":{"status":200}}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()


def survey_settings(data_dir: Path, smtp: SmtpServer, gateway: Gateway, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_from": "surveys@shop.example",
        "sms_provider": "generic",
        "sms_url": gateway.url + "/send",
        "sms_api_key": "gw-key",
        "sms_sender": "3000",
        "secret_key": "test-secret-0123456789",
        "public_url": "http://safar.test",
        "scheduler_interval_s": 0.1,
    }
    values.update(extra)
    return Settings(**values)


@pytest.fixture
def svy_settings(
    tmp_path: Path,
    smtp: SmtpServer,
    sms_gateway: Gateway,
    stack: str,
    request: pytest.FixtureRequest,
) -> Settings:
    """Both engine stacks: SQLite + DuckDB, and PostgreSQL + ClickHouse (chdb)."""
    if stack == "duckdb-sqlite":
        return survey_settings(tmp_path / "safar", smtp, sms_gateway)
    pg_url = request.getfixturevalue("pg_database")
    return survey_settings(
        tmp_path / "safar", smtp, sms_gateway, state_url=pg_url, event_engine="clickhouse"
    )


@pytest.fixture
def rt(svy_settings: Settings) -> Iterator[Runtime]:
    """A runtime without background threads: tests run the scheduler by hand."""
    runtime = Runtime(svy_settings, background=False)
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture
def ws_id(rt: Runtime) -> str:
    with rt.db.session() as session:
        ws, _, _ = create_workspace(session, name="Shop")
        return ws.id


Send = Callable[..., dict[str, Any]]


def send_event(runtime: Runtime, workspace_id: str, **msg: Any) -> dict[str, Any]:
    """Apply one Segment message through the one ingestion path; return its stored row."""
    msg.setdefault("messageId", "m-" + uuid.uuid4().hex)
    msg.setdefault("timestamp", datetime.now(UTC).isoformat())
    row = normalize(parse_message(msg), workspace_id=workspace_id, received_at=datetime.now(UTC))
    runtime.applier.apply([row])
    return row


def survey_events(runtime: Runtime, workspace_id: str) -> list[tuple[Any, ...]]:
    """(message_id, user_id, channel, properties) of stored ``survey_answered`` events."""
    cols = "message_id, user_id, channel, properties"
    if runtime.store.engine_name == "clickhouse":
        sql = (
            f"SELECT {cols} FROM safar.events WHERE workspace_id = {{ws:String}} "
            "AND event = 'survey_answered' ORDER BY message_id"
        )
    else:
        sql = (
            f"SELECT {cols} FROM events WHERE workspace_id = $ws "
            "AND event = 'survey_answered' ORDER BY message_id"
        )
    return list(runtime.store.query(sql, {"ws": workspace_id})[1])


def customer(
    runtime: Runtime, workspace_id: str, user_id: str, *, email: str | None = None, **traits: Any
) -> None:
    if email:
        traits["email"] = email
    send_event(runtime, workspace_id, type="identify", userId=user_id, traits=traits)
