"""How fast ``safar import events`` runs on its own and through a running server.

Writes two CSV tables of ``--rows`` orders each (``--customers`` customers), imports the
first with ``safar import events`` while ``safar serve`` holds the store (the file goes to
``POST /api/imports`` and runs on the server's import thread), stops the server, and imports
the second with the same command opening the store itself. Each is a real process; the
figures are wall time and rows per second of the whole command. Not a timed test.
Run: `PYTHONPATH=src .venv/bin/python bench/imports.py [--rows 100000]`
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

SRC = Path(__file__).resolve().parents[1] / "src"


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFAR_")}
    env.update(PYTHONPATH=str(SRC), SAFAR_DATA_DIR=str(data_dir), SAFAR_PORT=str(port),
               SAFAR_LOG_LEVEL="warning", SAFAR_TEXT_ANALYSIS="false")  # fmt: skip
    return env


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "safar.cli", *args], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return done.stdout


def _table(path: Path, rows: int, customers: int, tag: str) -> Path:
    with path.open("w") as fh:
        fh.write("customer_id,order_id,total,purchased_at\n")
        for i in range(rows):
            fh.write(f"c{i % customers},{tag}{i},{i % 997}.5,2026-01-{1 + i % 28:02d}T10:00:00Z\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="safar-bench-imports-"))
    data_dir = root / "safar"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _env(data_dir, port)
    ws = json.loads(_cli(env, "workspace", "create", "Bench", "--json"))
    env["SAFAR_API_KEY"] = ws["secret_key"]
    import_args = ["-w", ws["workspace_id"], "--map", "userId=customer_id", "--map",
                   "messageId=order_id", "--map", "timestamp=purchased_at", "--event",
                   "Order Completed", "--json"]  # fmt: skip
    first = _table(root / "a.csv", args.rows, args.customers, "a")
    second = _table(root / "b.csv", args.rows, args.customers, "b")
    server = subprocess.Popen([sys.executable, "-m", "safar.cli", "serve"], env=env)
    try:
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        started = time.perf_counter()
        out = json.loads(_cli(env, "import", "events", str(first), *import_args))
        through = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(60)
    started = time.perf_counter()
    local = json.loads(_cli(env, "import", "events", str(second), *import_args))
    alone = time.perf_counter() - started
    assert out["stored"] == local["stored"] == args.rows, (out, local)
    print(f"{args.rows:,} rows through the running server: {through:.1f} s "
          f"({args.rows / through:,.0f} rows/s, server-side {out['seconds']:.1f} s)")  # fmt: skip
    print(f"{args.rows:,} rows with the store opened by the command: {alone:.1f} s "
          f"({args.rows / alone:,.0f} rows/s, import itself {local['seconds']:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
