"""Import: upload a file while the server runs, map its columns, follow the run, read bad rows.

Two plain forms: the upload (the file is saved in the data dir and its header read here), then
the column mapping (each column onto a Safar field, with defaults from its name). The run goes
to the server's import thread (``events.import_worker``), the same path as ``safar import``;
its page shows a progress bar that ``static/imports.js`` keeps current by polling the status
route (without JavaScript, reloading the page does the same).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from starlette.background import BackgroundTask

from safar.errors import NotFound, SafarError, ValidationFailed
from safar.events import import_runs
from safar.events.channels import CHANNELS
from safar.events.deps import ImportDep
from safar.events.uploads import save_upload, too_large
from safar.web.i18n import N_
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, need, render

if TYPE_CHECKING:
    from safar.events.models import ImportRun

router = APIRouter(include_in_schema=False)
register_nav(NavEntry("imports", "/imports", N_("Import"), "import", permission="import", order=80))
ImportPage = Annotated[Page, need("import")]

#: The Safar fields a column can fill, in the order the select lists them.
FIELDS: tuple[tuple[str, str], ...] = (
    ("", N_("Event property")),
    ("trait", N_("Customer trait")),
    ("userId", N_("User id")),
    ("anonymousId", N_("Anonymous id")),
    ("traits.email", N_("Email")),
    ("traits.phone", N_("Phone")),
    ("traits.name", N_("Name")),
    ("event", N_("Event name")),
    ("timestamp", N_("Time")),
    ("messageId", N_("Row id (messageId)")),
    ("channel", N_("Channel")),
    ("type", N_("Message type")),
    ("drop", N_("Leave out")),
)
TYPES = ("track", "identify", "page", "screen", "group", "alias")


def _workspace(page: Page) -> str:
    if page.workspace_id is None:
        raise NotFound("workspace: create a workspace first", field="workspace_id")
    return page.workspace_id


def _list(page: Page, status_code: int = 200, **extra: Any) -> HTMLResponse:
    runs = import_runs.list_runs(page.session, workspace_id=_workspace(page))
    return render(page, "imports.html", status_code=status_code, runs=runs, nav_key="imports",
                  **extra)  # fmt: skip


@router.get("/imports", response_class=HTMLResponse)
def imports_page(page: ImportPage) -> HTMLResponse:
    return _list(page)


@router.post("/imports", response_class=HTMLResponse, response_model=None)
def upload(
    request: Request,
    page: ImportPage,
    runtime: ImportDep,
    file: Annotated[UploadFile, File()],
) -> HTMLResponse | RedirectResponse:
    """Save the file in the data dir and show its columns to map."""
    settings = runtime.settings
    declared = request.headers.get("content-length", "")
    run_id = import_runs.new_run_id()
    try:
        if declared.isdigit() and int(declared) > settings.max_import_bytes + 64 * 1024:
            raise too_large(settings.max_import_bytes)
        if not file.filename:
            raise ValidationFailed("file: choose a file to import", field="file")
        saved = save_upload(file.file, file.filename, import_runs.run_dir(settings, run_id),
                            limit=settings.max_import_bytes)  # fmt: skip
        run = import_runs.create_run(
            page.session, settings, run_id=run_id, workspace_id=_workspace(page),
            file_name=saved.file_name, size=saved.size, options={},
            created_by=page.caller.user.email, ready=False,
        )  # fmt: skip
    except SafarError as exc:
        import_runs.discard(settings, run_id)
        return _list(page, status_code=exc.status_code, error=exc.message)
    return RedirectResponse(f"/imports/{run.id}", status_code=303)


def _run_page(
    page: Page, runtime: ImportDep, run: ImportRun, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    values: dict[str, Any] = {"run": run, "nav_key": "imports", "fields": FIELDS}
    if run.state == "uploaded":
        preview = import_runs.preview(runtime.settings, run)
        values.update(
            columns=preview.columns,
            samples=preview.samples,
            guesses=import_runs.suggest(preview.columns),
            channels=CHANNELS,
            types=TYPES,
        )
    return render(page, "import_run.html", status_code=status_code, **values, **extra)


@router.get("/imports/{import_id}", response_class=HTMLResponse)
def run_page(import_id: str, page: ImportPage, runtime: ImportDep) -> HTMLResponse:
    run = import_runs.get_run(page.session, workspace_id=_workspace(page), run_id=import_id)
    return _run_page(page, runtime, run)


def mapping_options(form: dict[str, str], columns: list[str]) -> dict[str, Any]:
    """The run's options from the mapping form: ``col-<i>`` per column, event, channel, type."""
    mapping: dict[str, str] = {}
    drop: list[str] = []
    allowed = {value for value, _ in FIELDS}
    for i, column in enumerate(columns):
        choice = form.get(f"col-{i}", "")
        if choice not in allowed:
            raise ValidationFailed(f"col-{i}: unknown field {choice!r} for {column}",
                                   field=f"col-{i}")  # fmt: skip
        if choice == "drop":
            drop.append(column)
        elif choice:
            target = f"traits.{column}" if choice == "trait" else choice
            if target in mapping:
                raise ValidationFailed(
                    f"{target}: both {mapping[target]} and {column} are mapped onto it; "
                    "choose one", field=f"col-{i}",
                )  # fmt: skip
            mapping[target] = column
    options: dict[str, Any] = {"map": mapping, "events": {}, "drop": drop}
    for name in ("event", "channel", "type"):
        value = form.get(name, "").strip()
        if value:
            options[name] = value
    return options


@router.post("/imports/{import_id}/start", response_class=HTMLResponse, response_model=None)
async def start(
    import_id: str, request: Request, page: ImportPage, runtime: ImportDep
) -> HTMLResponse | RedirectResponse:
    """Queue the run with the chosen mapping; the import starts once this commits."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    run = import_runs.get_run(page.session, workspace_id=_workspace(page), run_id=import_id)
    try:
        columns = import_runs.preview(runtime.settings, run).columns
        import_runs.map_run(page.session, runtime.settings, run, mapping_options(form, columns))
    except SafarError as exc:
        return _run_page(page, runtime, run, status_code=exc.status_code, error=exc.message,
                         chosen=form)  # fmt: skip
    # After the response, i.e. after the request's unit of work committed the queued state.
    task = BackgroundTask(runtime.imports.submit, run.id)
    return RedirectResponse(f"/imports/{run.id}", status_code=303, background=task)


@router.get("/imports/{import_id}/status")
def run_status(import_id: str, page: ImportPage) -> JSONResponse:
    """What the progress bar polls: the API's status of the run."""
    run = import_runs.get_run(page.session, workspace_id=_workspace(page), run_id=import_id)
    return JSONResponse(import_runs.status(run))


@router.get("/imports/{import_id}/report")
def run_report(import_id: str, page: ImportPage, runtime: ImportDep) -> FileResponse:
    """The bad-row report as JSON lines."""
    run = import_runs.get_run(page.session, workspace_id=_workspace(page), run_id=import_id)
    path: Path = import_runs.report_file(runtime.settings, run)
    return FileResponse(path, media_type="application/x-ndjson",
                        filename=f"{Path(run.file_name).stem}-bad-rows.jsonl")  # fmt: skip


@router.post("/imports/{import_id}/rerun")
def rerun(import_id: str, page: ImportPage, runtime: ImportDep) -> RedirectResponse:
    """Run a failed import again with its file and mapping."""
    run = import_runs.get_run(page.session, workspace_id=_workspace(page), run_id=import_id)
    again = import_runs.rerun(
        page.session, runtime.settings, run, created_by=page.caller.user.email
    )
    task = BackgroundTask(runtime.imports.submit, again.id)
    return RedirectResponse(f"/imports/{again.id}", status_code=303, background=task)
