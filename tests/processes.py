"""A real ``safar`` in a subprocess: the CLI, and ``safar serve`` reachable over TCP.

For tests about what only a separate process shows: crashes (SIGKILL), restarts, real
sockets, SDKs that talk HTTP.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

SRC = Path(__file__).resolve().parents[1] / "src"


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
            # Between probes, wait on the process itself: an early exit is seen at once.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=0.05)
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
