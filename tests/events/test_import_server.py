"""``safar import`` and ``safar journeys funnel`` while a real ``safar serve`` holds the store.

The server is its own process, holding the embedded DuckDB file; the CLI, another process,
cannot open it and goes through the server's API instead. A server killed mid-import marks
the run failed when it starts again, and the re-run stores nothing twice.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.events.factories import import_csv
from tests.installation import fresh_data_dir
from tests.processes import ServerProcess, create_workspace_cli, safar_cli

ENV = {"SAFAR_TEXT_ANALYSIS": "false"}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return fresh_data_dir(tmp_path / "safar")


def test_cli_imports_and_asks_for_a_funnel_through_the_running_server(
    data_dir: Path, tmp_path: Path
) -> None:
    ws = create_workspace_cli(data_dir, **ENV)
    orders = tmp_path / "orders.csv"
    orders.write_bytes(import_csv(good=4, bad_lines=(3,)))
    delivered = tmp_path / "delivered.csv"
    delivered.write_text("customer,at\nc0,2026-03-02T09:00:00Z\nc1,2026-03-02T10:00:00Z\n")
    server = ServerProcess(data_dir, env=ENV).start()
    try:
        env = {**ENV, "SAFAR_PORT": str(server.port), "SAFAR_API_KEY": ws["secret_key"]}
        args = ["import", "events", str(orders), "-w", ws["workspace_id"],
                "--map", "userId=customer", "--event", "Order Completed"]  # fmt: skip
        done = safar_cli(data_dir, *args, "--json", "--report", str(tmp_path / "bad.jsonl"), **env)
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out["server"] == server.base_url and out["import_id"].startswith("imp_")
        assert (out["rows"], out["stored"], out["duplicates"], out["bad_rows"]) == (5, 4, 0, 1)
        report = [json.loads(x) for x in (tmp_path / "bad.jsonl").read_text().splitlines()]
        assert [(r["line"], r["field"]) for r in report] == [(3, "userId")]
        # The same file again, printed as a local import prints it: nothing stored twice.
        again = safar_cli(data_dir, *args, **env)
        assert again.returncode == 0, again.stderr
        assert "0 stored, 4 already there, 1 bad rows" in again.stdout
        assert "line 3: userId or anonymousId is required" in again.stdout
        assert "holds the event store; importing through it" in again.stderr
        more = safar_cli(data_dir, "import", "events", str(delivered), "-w", ws["workspace_id"],
                         "--map", "userId=customer", "--event", "Order Delivered", **env)  # fmt: skip
        assert more.returncode == 0, more.stderr
        funnel = ["journeys", "funnel", "-w", ws["workspace_id"],
                  "-s", "Order Completed", "-s", "Order Delivered", "--window", "30d"]  # fmt: skip
        asked = safar_cli(data_dir, *funnel, "--json", **env)
        assert asked.returncode == 0, asked.stderr
        assert [s["cases"] for s in json.loads(asked.stdout)["steps"]] == [4, 2]
        text = safar_cli(data_dir, *funnel, **env)
        assert text.returncode == 0 and "Order Delivered" in text.stdout, text.stderr
        xes = tmp_path / "log.xes"
        exported = safar_cli(data_dir, "journeys", "export", str(xes), "-w", ws["workspace_id"],
                             **env)  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        assert "6 events written" in exported.stdout and xes.read_bytes().count(b"<event>") == 6
        # Without a key the command says which one to give.
        env.pop("SAFAR_API_KEY")
        keyless = safar_cli(data_dir, *args, **env)
        assert keyless.returncode == 2
        assert "in use by another process" in keyless.stderr and "--key" in keyless.stderr
    finally:
        server.stop()


def test_a_server_killed_mid_import_fails_the_run_and_the_rerun_stores_the_rest(
    data_dir: Path, tmp_path: Path
) -> None:
    ws = create_workspace_cli(data_dir, **ENV)
    bearer = {"Authorization": f"Bearer {ws['secret_key']}"}
    rows = 40_000
    body = import_csv(good=rows)
    server = ServerProcess(data_dir, env=ENV).start()
    try:
        r = httpx.post(f"{server.base_url}/api/imports", headers=bearer,
                       files={"file": ("big.csv", body)},
                       data={"map": "userId=customer", "event": "Order Completed"})  # fmt: skip
        assert r.status_code == 202, r.text
        run_id = r.json()["id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = httpx.get(f"{server.base_url}/api/imports/{run_id}", headers=bearer).json()
            if status["stored"] > 0:
                break
            time.sleep(0.02)
        assert status["state"] == "running" and 0 < status["progress"] < 1, status
        server.kill()
    finally:
        server.stop()
    server = ServerProcess(data_dir, env=ENV, port=server.port).start()
    try:
        status = httpx.get(f"{server.base_url}/api/imports/{run_id}", headers=bearer).json()
        assert status["state"] == "failed" and "server stopped" in status["error"], status
        r = httpx.post(f"{server.base_url}/api/imports/{run_id}/rerun", headers=bearer)
        assert r.status_code == 202, r.text
        rerun_id = r.json()["id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            again = httpx.get(f"{server.base_url}/api/imports/{rerun_id}", headers=bearer).json()
            if again["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert again["state"] == "done", again
        assert again["duplicates"] > 0 and again["stored"] + again["duplicates"] == rows
        stats = httpx.get(f"{server.base_url}/api/stats", headers=bearer).json()
        assert stats["events"] == rows
    finally:
        server.stop()
