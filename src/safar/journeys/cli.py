"""``safar journeys ...`` and ``safar drivers``: discovery on log files, import/export, drivers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from safar.errors import SafarError, ValidationFailed
from safar.journeys.params import FunnelMode, parse_window
from safar.kit.cli import open_runtime
from safar.kit.remote import KEY_ENV

journeys_app = typer.Typer(
    help="Journeys: process discovery, funnels, case-log import and export", no_args_is_help=True
)


def _fail(exc: SafarError) -> None:
    typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


@journeys_app.command("discover")
def discover_cmd(
    file: Annotated[Path, typer.Argument(help="event log: .xes, .xes.gz or .csv")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    top_variants: Annotated[
        int | None, typer.Option(help="keep only the k most frequent variants")
    ] = None,
    min_frequency: Annotated[int, typer.Option(help="drop rarer edges")] = 1,
    case_column: Annotated[str | None, typer.Option(help="CSV: case id column")] = None,
    activity_column: Annotated[str | None, typer.Option(help="CSV: activity column")] = None,
    time_column: Annotated[str | None, typer.Option(help="CSV: timestamp column")] = None,
) -> None:
    """Discover the process of a log: directly-follows graph, variants, start and end."""
    from safar.journeys.analysis import discover_table
    from safar.journeys.xes import read_case_log

    try:
        table = read_case_log(
            file,
            case_column=case_column,
            activity_column=activity_column,
            time_column=time_column,
        )
        result = discover_table(table, top_variants=top_variants, min_frequency=min_frequency)
    except SafarError as exc:
        _fail(exc)
    if as_json:
        _emit(result.as_dict())
        return
    typer.echo(f"{result.cases} cases, {result.variant_count} variants, {len(result.edges)} edges")
    for e in result.edges[:20]:
        typer.echo(
            f"{e['frequency']:>8}  {e['source']} -> {e['target']}  (median {e['median_seconds']} s)"
        )
    for v in result.variants[:10]:
        typer.echo(f"{v['count']:>8}  {' > '.join(v['activities'])}")


@journeys_app.command("import")
def import_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="event log: .xes, .xes.gz or .csv")],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
    channel: Annotated[str, typer.Option(help="channel of the imported events")] = "other",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Import a case log as events (case = customer, activity = event name)."""
    from safar.config import Settings
    from safar.journeys.importer import import_case_log
    from safar.journeys.xes import read_case_log

    try:
        table = read_case_log(file)
        runtime = open_runtime(ctx, Settings())
    except SafarError as exc:
        _fail(exc)
    try:
        summary = import_case_log(runtime.applier, table, workspace_id=workspace, channel=channel)
    except SafarError as exc:
        _fail(exc)
    finally:
        runtime.close()
    if as_json:
        _emit(summary.as_dict())
    else:
        typer.echo(
            f"{summary.inserted} events stored ({summary.duplicates} already there) "
            f"from {summary.cases} cases"
        )


@journeys_app.command("export")
def export_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="XES file to write")],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
    key: Annotated[
        str | None,
        typer.Option(
            envvar=KEY_ENV, help="secret key, to ask the running server when it holds the store"
        ),
    ] = None,
) -> None:
    """Export a workspace's events as an XES log (case = customer profile)."""
    from safar.config import Settings
    from safar.errors import StoreBusy
    from safar.journeys import service
    from safar.journeys.importer import export_xes

    settings = Settings()
    try:
        runtime = open_runtime(ctx, settings)
    except StoreBusy:
        body = _ask_server(settings, workspace, key, "/api/journeys/export.xes", None)
        out.write_bytes(body)
        typer.echo(f"{body.count(b'<event>')} events written to {out}")
        return
    try:
        with runtime.db.session() as session:
            service.refresh_identity_map(session, runtime.store, workspace_id=workspace)
        src = service.source(runtime.store, workspace_id=workspace)
        with out.open("w", encoding="utf-8") as fh:
            n = export_xes(runtime.store, src, fh)
    except SafarError as exc:
        _fail(exc)
    finally:
        runtime.close()
    typer.echo(f"{n} events written to {out}")


def _read_personas(path: Path | None) -> list[Any] | None:
    """Persona rules from a JSON file: ``[{"name": ..., "all_of": [{"trait", "op", "value"}]}]``."""
    if path is None:
        return None
    from pydantic import TypeAdapter, ValidationError

    from safar.journeys.personas import PersonaRule

    try:
        return TypeAdapter(list[PersonaRule]).validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise ValidationFailed(f"personas: {path} is not a list of persona rules ({first})",
                               field="personas") from exc  # fmt: skip


def _echo_steps(steps: list[Any], indent: str = "") -> None:
    for s in steps:
        conv = "" if s.conversion_from_start is None else f"{s.conversion_from_start:.1%}"
        label = s.activity if s.activity is not None else f"{s.level} of {len(steps)} steps"
        typer.echo(f"{indent}{s.cases:>10}  {conv:>7}  {label}")


@journeys_app.command("funnel")
def funnel_cmd(
    ctx: typer.Context,
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
    step: Annotated[list[str], typer.Option("--step", "-s", help="event name; repeat in order")],
    window: Annotated[str, typer.Option(help="conversion window, e.g. 7d")] = "7d",
    mode: Annotated[str, typer.Option(help="strict (in order) or any (any order)")] = "strict",
    breakdown: Annotated[
        str | None,
        typer.Option(help="channel, persona, property:KEY (entry event) or trait:KEY"),
    ] = None,
    breakdown_limit: Annotated[int, typer.Option(help="top values shown; rest = other")] = 5,
    personas: Annotated[
        Path | None, typer.Option(help="JSON file of persona rules (for --breakdown persona)")
    ] = None,
    dropped: Annotated[int, typer.Option(help="list up to N dropped customers per step")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    key: Annotated[
        str | None,
        typer.Option(
            envvar=KEY_ENV, help="secret key, to ask the running server when it holds the store"
        ),
    ] = None,
) -> None:
    """Funnel over a workspace's stored events (strict or any order, optional breakdown)."""
    from safar.config import Settings
    from safar.errors import StoreBusy
    from safar.journeys import service
    from safar.journeys.metrics import FunnelQuery

    settings = Settings()
    try:
        rules = _read_personas(personas)
        metric = FunnelQuery(tuple(step), parse_window(window), cast(FunnelMode, mode), dropped, breakdown,
                             breakdown_limit, tuple(rules or ()))  # fmt: skip
        runtime = open_runtime(ctx, settings)
    except StoreBusy:
        body = {"steps": list(step), "window": window, "mode": mode, "breakdown": breakdown,
                "breakdown_limit": breakdown_limit, "dropped_limit": dropped,
                "personas": [r.model_dump() for r in rules] if rules else None}  # fmt: skip
        data = _ask_server(settings, workspace, key, "/api/journeys/funnel", body)
        if as_json:
            _emit(data)
        else:
            _echo_funnel(data)
        return
    except SafarError as exc:
        _fail(exc)
    try:
        with runtime.db.session() as session:
            result = service.run_metric(session, runtime.store, metric, workspace_id=workspace)
    except SafarError as exc:
        _fail(exc)
    finally:
        runtime.close()
    if as_json:
        _emit(result.as_dict())
        return
    _echo_steps(result.steps)
    for g in result.groups or []:
        name = "(other values)" if g.other else "(no value)" if g.value is None else g.value
        typer.echo(f"{result.breakdown['by'] if result.breakdown else ''} = {name}:")
        _echo_steps(g.steps, "  ")


def _ask_server(
    settings: Any, workspace: str, key: str | None, path: str, body: dict[str, Any] | None
) -> Any:
    """The running server holds the store: ask its API (the same metric) instead; a GET
    without ``body``, whose bytes are returned."""
    from safar.kit.remote import ServerClient, find_key, missing_key, server_url

    url = server_url(settings)
    secret = find_key(settings, key, workspace)
    try:
        if secret is None:
            raise missing_key(url)
        with ServerClient(url, secret) as client:
            me = client.json("GET", "/api/stats")
            if me.get("workspace_id") not in (None, workspace):
                raise ValidationFailed(f"--workspace: the key belongs to {me['workspace_id']}, "
                                       f"not {workspace}", field="workspace")  # fmt: skip
            if body is None:
                return client.request("GET", path).content
            return client.json("POST", path, json=body)
    except SafarError as exc:
        _fail(exc)


def _echo_funnel(data: dict[str, Any]) -> None:
    """A funnel the server computed, printed as a local one is."""
    from types import SimpleNamespace

    _echo_steps([SimpleNamespace(**s) for s in data["steps"]])
    breakdown = data.get("breakdown") or {}
    for g in breakdown.get("groups") or []:
        name = (
            "(other values)" if g["other"] else "(no value)" if g["value"] is None else g["value"]
        )
        typer.echo(f"{breakdown.get('by', '')} = {name}:")
        _echo_steps([SimpleNamespace(**s) for s in g["steps"]], "  ")


def drivers_cmd(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet table, one row per case")],
    target: Annotated[str, typer.Option(help="score column (NPS, CSAT, review score, ...)")],
    factor: Annotated[
        list[str] | None,
        typer.Option(
            "--factor",
            "-f",
            help="candidate driver: a column, or NAME=SQL expression; repeatable "
            "(default: every numeric or few-valued column)",
        ),
    ] = None,
    unit: Annotated[str, typer.Option(help="unit of the target in sentences")] = "points",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Key drivers of a score: importance, effect with 95% CI, in plain words."""
    from safar.journeys import findings
    from safar.journeys.drivers import FactorSpec, key_drivers, load_table

    try:
        table = load_table(file)
        specs = [FactorSpec.parse(f) for f in factor] if factor else None
        report = key_drivers(table, target=target, factors=specs)
    except SafarError as exc:
        _fail(exc)
    if as_json:
        _emit(findings.report_dict(report, unit=unit))
        return
    typer.echo(
        f"{report.rows} rows, mean {report.target} {report.mean_target:.2f}, "
        f"factors explain R² = {report.r_squared:.2f}"
    )
    for i, d in enumerate(report.drivers, start=1):
        typer.echo(f"{i:>2}. {d.importance:6.1%} of explained  {findings.sentence(d, unit)}")
