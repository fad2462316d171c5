"""Start a real `safar serve` in a subprocess on a fresh data dir, for benchmarks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    data_dir: Path
    workspace_id: str
    write_key: str
    secret_key: str

    def rss_mb(self) -> tuple[float, float]:
        """Current and peak resident memory of the server process, in MB."""
        cur = peak = 0.0
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
        return cur, peak

    def cpu_seconds(self) -> float:
        """CPU time the server process has used (all threads, user + system).

        Steadier than throughput on a machine shared with other work: it counts the server's
        own work per event, not how often the scheduler let it run.
        """
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _keys_for_existing(data_dir: Path) -> dict[str, str]:
    """Fresh keys for the first workspace of an existing data dir (raw keys are not stored)."""
    from safar.config import Settings
    from safar.db import Database
    from safar.workspaces.service import issue_key, list_workspaces

    db = Database(Settings(data_dir=data_dir).resolved_state_url)
    with db.session() as s:
        ws = list_workspaces(s)[0].id
        _, write = issue_key(s, workspace_id=ws, kind="write", name="bench")
        _, secret = issue_key(s, workspace_id=ws, kind="secret", name="bench")
    db.dispose()
    return {"workspace_id": ws, "write_key": write, "secret_key": secret}


@contextmanager
def running_server(
    extra_env: dict[str, str] | None = None, data_dir: Path | None = None
) -> Iterator[Server]:
    """Serve a fresh data dir, or ``data_dir`` when given (reusing its first workspace)."""
    reuse = data_dir is not None
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="safar-bench-"))
    env = {
        **os.environ,
        "SAFAR_DATA_DIR": str(data_dir),
        "SAFAR_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    if reuse:
        keys = _keys_for_existing(data_dir)
    else:
        out = subprocess.run(
            [sys.executable, "-m", "safar.cli", "workspace", "create", "Bench", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        keys = json.loads(out.stdout)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "safar.cli", "serve", "--port", str(port)],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("server did not start")
    try:
        yield Server(
            url, proc, data_dir, keys["workspace_id"], keys["write_key"], keys["secret_key"]
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
