"""The import API: upload while the server runs, follow the run, the bad-row report, re-runs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest

from safar.config import Settings
from safar.events import import_runs
from safar.runtime import Runtime
from tests.events.factories import (
    import_csv,
    import_finished,
    queue_import,
    run_first_chunk_then_die,
)
from tests.workspaces.factories import Workspace

pytestmark = pytest.mark.parametrize("stack", ["duckdb-sqlite"], indirect=True)


async def _upload(
    client: httpx.AsyncClient,
    ws: Workspace,
    body: bytes,
    name: str = "orders.csv",
    fields: list[tuple[str, str]] | None = None,
    expect: int = 202,
) -> dict[str, Any]:
    data: dict[str, list[str]] = {}
    for key, value in fields or []:
        data.setdefault(key, []).append(value)
    r = await client.post(
        "/api/imports", headers=ws.bearer, files={"file": (name, body)}, data=data
    )
    assert r.status_code == expect, r.text
    out: dict[str, Any] = r.json()
    return out


async def _wait(client: httpx.AsyncClient, ws: Workspace, run_id: str) -> dict[str, Any]:
    for _ in range(400):
        r = await client.get(f"/api/imports/{run_id}", headers=ws.bearer)
        assert r.status_code == 200, r.text
        if r.json()["state"] in ("done", "failed"):
            out: dict[str, Any] = r.json()
            return out
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish")


async def test_upload_imports_through_the_servers_applier_and_reports_bad_rows(
    client: httpx.AsyncClient, workspace: Workspace, runtime: Runtime
) -> None:
    body = import_csv(good=4, bad_lines=(3,))
    first = await _upload(
        client, workspace, body, fields=[("map", "userId=customer"), ("event", "Order Completed")]
    )
    assert first["state"] == "queued" and first["file"] == "orders.csv"
    done = await _wait(client, workspace, first["id"])
    assert done["state"] == "done" and done["progress"] == 1.0
    assert (done["rows"], done["stored"], done["duplicates"], done["bad_rows"]) == (5, 4, 0, 1)
    assert done["errors"] == [
        {"line": 3, "field": "userId", "error": "userId or anonymousId is required"}
    ]
    assert runtime.store.count(workspace.id) == 4
    report = await client.get(done["report"], headers=workspace.bearer)
    assert report.status_code == 200
    lines = [orjson.loads(x) for x in report.content.splitlines()]
    assert [(x["line"], x["row"]["total"]) for x in lines] == [(3, "99")]
    # The same rows again (another file name): nothing is stored twice.
    again = await _wait(
        client,
        workspace,
        (
            await _upload(
                client,
                workspace,
                body,
                name="orders-again.csv",
                fields=[("map", "userId=customer"), ("event", "Order Completed")],
            )
        )["id"],
    )
    assert (again["stored"], again["duplicates"], again["bad_rows"]) == (0, 4, 1)
    # A done run's upload is removed (its report stays); a failed one's is kept to run again.
    run_dir = runtime.settings.data_dir / "imports" / done["id"]
    assert sorted(p.name for p in run_dir.iterdir()) == ["bad-rows.jsonl"]
    listed = await client.get("/api/imports", headers=workspace.bearer)
    assert [r["id"] for r in listed.json()["imports"]] == [again["id"], done["id"]]


@pytest.mark.parametrize(
    ("fields", "name", "status", "field"),
    [
        ([("map", "userId=nope")], "o.csv", 400, "map"),
        ([("map", "x=customer")], "o.csv", 400, "map"),
        ([("type", "purchase")], "o.csv", 400, "type"),
        ([("channel", "pigeon")], "o.csv", 400, "channel"),
        ([("colour", "red")], "o.csv", 400, "colour"),
        ([], "o.xlsx", 400, "format"),
        ([("workspace", "ws_other")], "o.csv", 403, "workspace"),
    ],
)
async def test_bad_options_are_refused_naming_the_field(
    client: httpx.AsyncClient,
    workspace: Workspace,
    settings: Settings,
    fields: list[tuple[str, str]],
    name: str,
    status: int,
    field: str,
) -> None:
    out = await _upload(client, workspace, import_csv(), name=name, fields=fields, expect=status)
    assert out["field"] == field, out
    # Nothing is left behind in the data dir.
    assert not any((settings.data_dir / "imports").glob("imp_*/*"))


async def test_an_uploaded_file_name_cannot_leave_its_folder(
    client: httpx.AsyncClient, workspace: Workspace, settings: Settings
) -> None:
    out = await _upload(client, workspace, import_csv(), name="../../../etc/orders.csv",
                        fields=[("map", "userId=customer"), ("event", "x")])  # fmt: skip
    assert out["file"] == "orders.csv"
    assert not (settings.data_dir.parent / "etc").exists()
    assert not list(settings.data_dir.parent.glob("**/etc/orders.csv"))


async def test_size_cap_auth_and_workspace_scoping(
    client: httpx.AsyncClient, workspace: Workspace, runtime: Runtime
) -> None:
    runtime.settings.max_import_bytes = 100
    big = await _upload(client, workspace, import_csv(good=50), expect=413)
    assert big["field"] == "file" and "SAFAR_MAX_IMPORT_BYTES" in big["message"]
    runtime.settings.max_import_bytes = 1024 * 1024
    r = await client.post("/api/imports", files={"file": ("o.csv", import_csv())})
    assert r.status_code == 401
    r = await client.post(
        "/api/imports", headers={"Authorization": f"Bearer {workspace.write_key}"}, content=b""
    )
    assert r.status_code == 403
    r = await client.post("/api/imports", headers=workspace.bearer, data={"event": "x"})
    assert r.status_code == 400 and r.json()["field"] in ("file", "Content-Type")
    missing = await client.get("/api/imports/imp_nope", headers=workspace.bearer)
    assert missing.status_code == 404 and missing.json()["field"] == "import_id"


def test_a_run_the_server_was_doing_when_it_stopped_fails_and_reruns_without_doubles(
    settings: Settings,
) -> None:
    """Stopped dead mid-import: the next start marks the run failed; the re-run stores only
    the rest."""
    from tests.workspaces.factories import make_workspace

    rt = Runtime(settings)
    try:
        ws = make_workspace(rt)
        options = {"map": {"userId": "customer"}, "event": "Order Completed"}
        run_id = queue_import(rt, ws.id, "big.csv", import_csv(good=12_000), options)
        run_first_chunk_then_die(rt, ws.id, run_id)
        assert rt.store.count(ws.id) == 5_000
    finally:
        rt.close()
    again = Runtime(settings)  # the server starts again
    try:
        with again.db.session() as s:
            run = import_runs.get_run(s, workspace_id=ws.id, run_id=run_id)
            assert run.state == "failed" and "server stopped" in (run.error or "")
            rerun_id = import_runs.rerun(s, again.settings, run, created_by="test").id
        again.imports.submit(rerun_id)
        status = import_finished(again, ws.id, rerun_id)
        assert status["state"] == "done", status
        assert (status["stored"], status["duplicates"]) == (7_000, 5_000)
        assert again.store.count(ws.id) == 12_000
    finally:
        again.close()
