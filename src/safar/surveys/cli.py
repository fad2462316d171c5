"""``safar surveys ...``: templates, create, list, metrics and export from the command line.

Only the state store is opened (never the event store), so these commands also work while a
server holds the embedded DuckDB file.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from safar.errors import SafarError
from safar.kit.cli import fail, state_session
from safar.surveys import export as export_mod
from safar.surveys import metrics, presets, service

app = typer.Typer(help="Surveys: templates, metrics, export", no_args_is_help=True)


Workspace = Annotated[str, typer.Option("--workspace", "-w", help="workspace id")]


@app.command("templates")
def templates() -> None:
    """List the ready-made surveys."""
    for key, spec in presets.TEMPLATES.items():
        typer.echo(f"{key}\t{spec['name']}")


@app.command("create")
def create(
    workspace: Workspace,
    template: Annotated[str, typer.Option(help="template key, see `safar surveys templates`")],
    name: Annotated[str | None, typer.Option(help="survey name")] = None,
) -> None:
    """Create a survey from a template and print its id."""
    with state_session() as session:
        survey = service.create_survey(
            session, workspace_id=workspace, data=presets.template(template, name)
        )
        typer.echo(survey.id)


@app.command("list")
def list_(workspace: Workspace) -> None:
    """List the workspace's surveys."""
    with state_session() as session:
        for s in service.list_surveys(session, workspace_id=workspace):
            typer.echo(f"{s.id}\t{s.status}\t{s.touchpoint or '-'}\t{s.name}")


@app.command("metrics")
def metrics_cmd(
    workspace: Workspace,
    metric: Annotated[str, typer.Option(help="nps, csat, ces or response_rate")] = "nps",
    survey: Annotated[str | None, typer.Option(help="survey id")] = None,
    by: Annotated[
        str | None, typer.Option(help="survey, touchpoint, channel, segment or language")
    ] = None,
    period: Annotated[
        str, typer.Option(help="all, day, week, month, jalali_week or jalali_month")
    ] = "all",
    start: Annotated[str | None, typer.Option(help="first local day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="last local day, YYYY-MM-DD")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Print a metric by group and period, and whether the last change is significant."""
    try:
        first = date.fromisoformat(start) if start else None
        last = date.fromisoformat(end) if end else None
    except ValueError:
        fail(SafarError("--start/--end: use YYYY-MM-DD", field="start"))
    with state_session() as session:
        if survey:
            service.get_survey(session, workspace_id=workspace, survey_id=survey)
        f = metrics.Filters(workspace_id=workspace, survey_id=survey, start=first, end=last)
        rows = metrics.compute(session, metric, f, by=by, period=period)
        change = (
            metrics.latest_change(session, metric, f, period=period)
            if period != "all" and metric in metrics.METRICS
            else None
        )
    if as_json:
        typer.echo(
            json.dumps({"rows": [r.as_dict() for r in rows], "change": change}, ensure_ascii=False)
        )
        return
    for r in rows:
        values = "  ".join(f"{k}={v}" for k, v in r.values.items() if not isinstance(v, dict))
        typer.echo(f"{r.group or 'all'}\t{r.period}\t{values}")
    if change:
        verdict = "significant" if change["significant"] else "not significant"
        typer.echo(
            f"change {change['previous']['period']} -> {change['current']['period']}: "
            f"{change['diff']} ({change['test']}, p={change['p_value']}, {verdict})"
        )


@app.command("export")
def export_cmd(
    workspace: Workspace,
    survey: Annotated[str, typer.Option(help="survey id")],
    out: Annotated[Path, typer.Option(help="output file (.csv or .parquet)")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv or parquet")] = None,
) -> None:
    """Export a survey's responses, one row per response."""
    chosen = fmt or ("parquet" if out.suffix == ".parquet" else "csv")
    with state_session() as session:
        body = export_mod.export(session, workspace_id=workspace, survey_id=survey, fmt=chosen)
    out.write_bytes(body)
    typer.echo(f"wrote {out} ({len(body)} bytes)")
