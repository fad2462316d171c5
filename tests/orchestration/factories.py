"""Real outbound servers for channel tests: a local SMTP server and a local SMS gateway.

Each records what it received and lets a test wait for a count on a condition (notified by
the server thread as each message lands), so a test waits exactly as long as delivery takes.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from sqlalchemy import select

from safar.identity.service import lookup
from safar.orchestration import service as orch
from safar.orchestration.models import ScheduledJob
from safar.orchestration.policy import SendPolicy
from tests.processes import free_port


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(msg)  # type: ignore[arg-type]
            self.arrived.notify_all()
        return "250 OK"

    def wait(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """The messages once ``count`` have arrived, or those there are after ``timeout``."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
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
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def record(self, request: dict[str, Any]) -> None:
        with self.arrived:
            self.received.append(request)
            self.arrived.notify_all()

    def wait(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The requests once ``count`` have arrived, or those there are after ``timeout``."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


@contextmanager
def sms_gateway_server() -> Iterator[Gateway]:
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
            gateway.record(
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


class PassClock:
    """A scheduler clock a test moves by hand, which says when the scheduler has read it.

    Every scheduler pass starts by reading its clock (an idle pass reads it once), so a test
    waits on the scheduler's own activity instead of sleeping: ``wait_until`` re-checks a
    condition after each read, ``wait_passes(n)`` returns after ``n`` more reads.
    """

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset
        self.reads = 0
        self._read = threading.Condition()

    def __call__(self) -> datetime:
        with self._read:
            self.reads += 1
            self._read.notify_all()
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def wait_passes(self, n: int, timeout: float = 15.0) -> bool:
        with self._read:
            target = self.reads + n
            return self._read.wait_for(lambda: self.reads >= target, timeout)

    def wait_until(self, done: Callable[[], bool], timeout: float = 15.0) -> bool:
        """Check ``done`` after each clock read (each bit of scheduler work) until it holds."""
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._read:
                self._read.wait_for(partial(self._read_since, self.reads), remaining)
        return True

    def _read_since(self, seen: int) -> bool:
        return self.reads > seen


@dataclass
class Reply:
    """One scripted answer of ``http_server``: status, JSON body, headers, a delay first."""

    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class HttpServer:
    """A real local HTTP server: records each request (method, path, headers, raw body) and
    answers with the next scripted ``Reply`` (then ``default``)."""

    url: str = ""
    replies: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_reply(self, request: dict[str, Any]) -> Reply:
        with self.lock:
            self.received.append(request)
            return self.replies.pop(0) if self.replies else self.default


@contextmanager
def http_server(*replies: Reply) -> Iterator[HttpServer]:
    state = HttpServer(replies=list(replies))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            request = {
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "raw": raw,
            }
            reply = state.next_reply(request)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            body = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up waiting (the timeout tests)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class ManualClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def profile(runtime: Any, workspace_id: str, user_id: str) -> str:
    with runtime.db.session() as s:
        return lookup(s, workspace_id=workspace_id, type_="user_id", value=user_id)


def enqueue(
    runtime: Any,
    workspace_id: str,
    key: str,
    *,
    params: dict[str, Any],
    policy: SendPolicy | None = None,
    channel: str = "email",
    profile_id: str | None = None,
    user_id: str | None = None,
    due_at: datetime | None = None,
) -> int:
    """A journey-style message job through ``service.enqueue_message``; its id."""
    payload: dict[str, Any] = {"params": params}
    if user_id:
        payload["user_id"] = user_id
    with runtime.db.session() as s:
        job = orch.enqueue_message(
            s,
            workspace_id=workspace_id,
            action="survey",
            channel=channel,
            payload=payload,
            policy=policy or SendPolicy(),
            key=key,
            due_at=due_at or runtime.scheduler.clock(),
            profile_id=profile_id,
        )
        s.flush()
        return job.id


def job_rows(runtime: Any) -> list[ScheduledJob]:
    """Every job, oldest first, detached (status, reason, outcome, result, due_at)."""
    with runtime.db.session() as s:
        rows = list(s.scalars(select(ScheduledJob).order_by(ScheduledJob.id)))
        s.expunge_all()
        return rows
