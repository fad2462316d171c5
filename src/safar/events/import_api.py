"""Import API (Bearer secret key): upload a file to import while the server runs, follow it.

``POST /api/imports`` takes ``multipart/form-data``: the file (CSV, TSV, JSONL, Parquet, gzip
allowed) in a part named ``file``, and the options ``safar import events`` takes as fields
(``map`` and ``events`` repeatable as ``FIELD=COLUMN``, ``drop`` repeatable, ``event``,
``type``, ``channel``, ``unmapped``, ``format``). The file is streamed into the data dir (at
most ``SAFAR_MAX_IMPORT_BYTES``), the options are checked against it (a 400 names the
option), and the run is queued on the server's import thread: 202 with its status, which
``GET /api/imports/{id}`` follows.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from safar.errors import Forbidden, ValidationFailed
from safar.events import import_runs
from safar.events.deps import ImportDep, ImportParts
from safar.events.uploads import Upload, receive_upload, too_large
from safar.workspaces.deps import SecretKey, SessionDep
from safar.workspaces.service import KeyIdentity

router = APIRouter(prefix="/api/imports", tags=["import"])


def _creator(key: KeyIdentity) -> str:
    return f"key:{key.key_id}"


def _accepted(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/imports/{body['id']}"})


def _queue(runtime: ImportParts, key: KeyIdentity, run_id: str, upload: Upload) -> dict[str, Any]:
    """Check the upload's options against its file and queue the run (in its own unit of
    work, committed before the worker looks for it)."""
    given = [w.strip() for w in upload.fields.get("workspace", []) if w.strip()]
    try:
        if upload.path is None:
            raise ValidationFailed("file: send the file in a part named file", field="file")
        if given and given[0] != key.workspace_id:
            raise Forbidden(f"workspace: the key belongs to {key.workspace_id}, not {given[0]}",
                            field="workspace")  # fmt: skip
        options = import_runs.parse_options(upload.fields)
        with runtime.db.session() as session:
            run = import_runs.create_run(
                session, runtime.settings, run_id=run_id, workspace_id=key.workspace_id,
                file_name=upload.file_name, size=upload.size, options=options,
                created_by=_creator(key), ready=True,
            )  # fmt: skip
            body = import_runs.status(run)
    except Exception:
        import_runs.discard(runtime.settings, run_id)
        raise
    runtime.imports.submit(run_id)
    return body


@router.post("", status_code=202)
async def create_import(request: Request, key: SecretKey, runtime: ImportDep) -> JSONResponse:
    """Upload a file and queue its import; 202 with the run's status."""
    limit = runtime.settings.max_import_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise too_large(limit)
    run_id = import_runs.new_run_id()
    upload = await receive_upload(
        request.headers.get("content-type", ""),
        request.stream(),
        import_runs.run_dir(runtime.settings, run_id),
        limit=limit,
    )
    # Reading the file's header and the state store's write go to the thread pool.
    return _accepted(await run_in_threadpool(_queue, runtime, key, run_id, upload))


@router.get("")
def list_imports(key: SecretKey, session: SessionDep) -> dict[str, Any]:
    """The workspace's imports, newest first."""
    runs = import_runs.list_runs(session, workspace_id=key.workspace_id)
    return {"imports": [import_runs.status(r) for r in runs]}


@router.get("/{import_id}")
def get_import(import_id: str, key: SecretKey, session: SessionDep) -> dict[str, Any]:
    """One import: state (queued, running, done, failed), progress, counts, first bad rows."""
    run = import_runs.get_run(session, workspace_id=key.workspace_id, run_id=import_id)
    return import_runs.status(run)


@router.get("/{import_id}/report")
def get_report(
    import_id: str, key: SecretKey, session: SessionDep, runtime: ImportDep
) -> FileResponse:
    """Every bad row of the import as JSON lines: {"line", "field", "error", "row"}."""
    run = import_runs.get_run(session, workspace_id=key.workspace_id, run_id=import_id)
    return report_response(import_runs.report_file(runtime.settings, run))


def report_response(path: Any) -> FileResponse:
    return FileResponse(path, media_type="application/x-ndjson", filename=path.name)


@router.post("/{import_id}/rerun", status_code=202)
def rerun_import(import_id: str, key: SecretKey, runtime: ImportDep) -> JSONResponse:
    """Run a failed import again (its file and options); rows stored before are not doubled."""
    with runtime.db.session() as session:
        run = import_runs.get_run(session, workspace_id=key.workspace_id, run_id=import_id)
        again = import_runs.rerun(session, runtime.settings, run, created_by=_creator(key))
        body = import_runs.status(again)
    runtime.imports.submit(body["id"])
    return _accepted(body)
