"""Surveys in the dashboard: list and create from templates, builder with live fa/en preview and
triggers, results (trends with intervals, breakdowns, verbatims, responses, export).

Every number comes from ``safar.surveys.results`` / ``metrics`` (the same objects as the API).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from safar.errors import NotFound, SafarError, ValidationFailed
from safar.orchestration import service as orch
from safar.orchestration.schemas import TriggerCreate
from safar.surveys import export as export_mod
from safar.surveys import metrics, presets, service
from safar.surveys import results as results_mod
from safar.surveys.deps import SurveyDep
from safar.surveys.models import Survey
from safar.surveys.rendering import FACES, TEXTS
from safar.surveys.schemas import SurveyDefinition, SurveyUpdate
from safar.web.filters import ALL_TIME, PRESETS
from safar.web.i18n import N_
from safar.web.labels import question_texts
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, PageDep, need, render

router = APIRouter(include_in_schema=False)
register_nav(NavEntry("surveys", "/surveys", N_("Surveys"), "chat", order=30))
EditPage = Annotated[Page, need("settings")]
TEMPLATE_LABELS = {
    "nps": N_("NPS"),
    "csat": N_("CSAT"),
    "ces": N_("CES"),
    "post_delivery": N_("After delivery"),
    "post_ride": N_("After a ride"),
    "post_support": N_("After support"),
}
PERIOD_LABELS = {
    "jalali_month": N_("Month (Jalali)"),
    "jalali_week": N_("Week (Jalali)"),
    "month": N_("Month (Gregorian)"),
    "week": N_("Week (Gregorian)"),
    "day": N_("Day"),
}
BREAKDOWN_LABELS = {
    "channel": N_("Channel"),
    "touchpoint": N_("Touchpoint"),
    "segment": N_("Segment"),
    "language": N_("Language"),
}


def _ws(page: Page) -> str:
    if page.workspace_id is None:
        raise NotFound("workspace: there is no workspace yet; create one in Settings")
    return page.workspace_id


def _survey(page: Page, survey_id: str) -> Survey:
    return service.get_survey(page.session, workspace_id=_ws(page), survey_id=survey_id[:40])


@router.get("/surveys", response_class=HTMLResponse)
def surveys(page: PageDep) -> HTMLResponse:
    rows: list[dict[str, Any]] = []
    if page.workspace_id:
        for s in service.list_surveys(page.session, workspace_id=page.workspace_id):
            f = metrics.Filters(workspace_id=page.workspace_id, survey_id=s.id)
            nps = metrics.compute(page.session, "nps", f)
            rate = metrics.compute(page.session, "response_rate", f)
            rows.append(
                {
                    "survey": s,
                    "nps": nps[0].values if nps else None,
                    "rate": rate[0].values if rate else None,
                }
            )
    return render(page, "surveys.html", rows=rows, templates=TEMPLATE_LABELS, nav_key="surveys")


@router.post("/surveys", response_class=HTMLResponse)
def create(
    page: EditPage,
    template: Annotated[str, Form(max_length=40)],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    spec = presets.template(template, name.strip() or None)
    survey = service.create_survey(page.session, workspace_id=_ws(page), data=spec)
    return RedirectResponse(f"/surveys/{survey.id}/edit", status_code=303)


@router.get("/surveys/{survey_id}", response_class=HTMLResponse)
def results_page(
    survey_id: str,
    page: PageDep,
    group: Annotated[str, Query(max_length=20)] = "",
    period: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """``group`` is the trends' grouping; older links name it ``period``, which is read as one
    unless it is the shared filters' range (``safar.web.filters``, carried by the menu)."""
    survey = _survey(page, survey_id)
    legacy = "" if period in PRESETS or period == ALL_TIME else period
    chosen = group or legacy or ("jalali_month" if page.fmt.jalali else "month")
    if chosen not in PERIOD_LABELS:
        name = "group" if group else "period"
        raise ValidationFailed(f"{name}: use one of {', '.join(PERIOD_LABELS)}", field=name)
    data = results_mod.survey_results(
        page.session, workspace_id=_ws(page), survey_id=survey.id, period=chosen
    )
    charts = {name: _trend_chart(page, name, m["trend"]) for name, m in data["metrics"].items()}
    responses = service.list_responses(
        page.session, workspace_id=_ws(page), survey_id=survey.id, limit=50
    )
    return render(
        page,
        "survey_results.html",
        survey=survey,
        data=data,
        charts=charts,
        period=chosen,
        periods=PERIOD_LABELS,
        breakdowns=BREAKDOWN_LABELS,
        responses=responses,
        questions=question_texts(survey.definition, page.language),
        nav_key="surveys",
    )


def _trend_chart(page: Page, name: str, trend: list[dict[str, Any]]) -> dict[str, Any]:
    """Line chart of a metric with its 95 % interval as two thin lines."""
    key = "score" if name == "nps" else ("top2_pct" if name == "csat" else "mean")
    low = "ci_low" if name == "nps" else ("top2_ci_low" if name == "csat" else "mean_ci_low")
    high = "ci_high" if name == "nps" else ("top2_ci_high" if name == "csat" else "mean_ci_high")
    tr = page.gettext
    return {
        "kind": "line",
        # CSAT is a share in percent: the axis and tooltips say so in the page's locale.
        "unit": "percent" if name == "csat" else None,
        "categories": [page.fmt.digits(r["period"]) for r in trend],
        "series": [
            {"name": tr(name.upper()), "data": [r.get(key) for r in trend]},
            {"name": tr(N_("95% interval, low")), "data": [r.get(low) for r in trend]},
            {"name": tr(N_("95% interval, high")), "data": [r.get(high) for r in trend]},
        ],
    }


@router.get("/surveys/{survey_id}/export")
def export(
    survey_id: str, page: PageDep, format: Annotated[str, Query(max_length=10)] = "csv"
) -> Response:
    survey = _survey(page, survey_id)
    body = export_mod.export(page.session, workspace_id=_ws(page), survey_id=survey.id, fmt=format)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/vnd.apache.parquet"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{survey.id}.{format}"'},
    )


# -- builder -------------------------------------------------------------------------------------
def _builder(
    page: Page,
    survey: Survey,
    *,
    definition_text: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    saved: bool = False,
) -> HTMLResponse:
    triggers = [
        t
        for t in orch.list_triggers(page.session, workspace_id=_ws(page))
        if (t.params or {}).get("survey_id") == survey.id
    ]
    return render(
        page,
        "survey_builder.html",
        status_code=status_code,
        survey=survey,
        definition_text=definition_text
        or json.dumps(survey.definition, ensure_ascii=False, indent=2),
        triggers=triggers,
        error=error,
        saved=saved,
        nav_key="surveys",
    )


@router.get("/surveys/{survey_id}/edit", response_class=HTMLResponse)
def edit(survey_id: str, page: EditPage) -> HTMLResponse:
    return _builder(page, _survey(page, survey_id))


def _parse_definition(text: str) -> SurveyDefinition:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"definition: not valid JSON (line {exc.lineno}, column {exc.colno})",
            field="definition",
        ) from None
    try:
        return SurveyDefinition.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "definition"
        raise ValidationFailed(f"definition.{where}: {first['msg']}", field="definition") from None


@router.post("/surveys/{survey_id}/edit", response_class=HTMLResponse)
def save(
    survey_id: str,
    page: EditPage,
    definition: Annotated[str, Form(max_length=200_000)],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    touchpoint: Annotated[str, Form(max_length=80)] = "",
    status: Annotated[str, Form(max_length=20)] = "active",
) -> HTMLResponse:
    survey = _survey(page, survey_id)
    try:
        if status not in ("active", "archived"):
            raise ValidationFailed("status: use active or archived", field="status")
        parsed = _parse_definition(definition)
        update = SurveyUpdate(
            name=name,
            touchpoint=touchpoint or None,
            definition=parsed,
            status="active" if status == "active" else "archived",
        )
    except SafarError as exc:
        return _builder(
            page, survey, definition_text=definition, error=exc.message, status_code=exc.status_code
        )
    service.update_survey(page.session, workspace_id=_ws(page), survey_id=survey.id, data=update)
    return _builder(page, survey, saved=True)


@router.post("/surveys/preview", response_class=HTMLResponse)
def preview(
    request: Request,
    page: EditPage,
    runtime: SurveyDep,
    definition: Annotated[str, Form(max_length=200_000)],
    lang: Annotated[str, Form(max_length=2)] = "fa",
) -> HTMLResponse:
    """The first step of an unsaved definition, as respondents will see it (builder preview)."""
    language = "en" if lang == "en" else "fa"
    try:
        parsed = _parse_definition(definition)
    except SafarError as exc:
        return HTMLResponse(
            f"<!doctype html><p style='font-family:sans-serif;color:#b3261e'>{_escape(exc.message)}</p>",
            status_code=400,
        )
    html = runtime.survey_env.get_template("survey.html").render(
        lang=language,
        page_title=parsed.title.get(language),
        title=parsed.title.get(language),
        intro=parsed.intro.get(language) if parsed.intro else "",
        questions=service.current_step(parsed, {}, []),
        step=0,
        values={},
        errors={},
        labels={},
        faces=FACES,
        t=TEXTS[language],
        action="#",
        embed=True,
    )
    return HTMLResponse(html)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


@router.post("/surveys/{survey_id}/triggers", response_class=HTMLResponse)
def add_trigger(
    survey_id: str,
    page: EditPage,
    runtime: SurveyDep,
    event: Annotated[str, Form(min_length=1, max_length=200)],
    channel: Annotated[str, Form(max_length=10)],
    delay_minutes: Annotated[int, Form(ge=0, le=90 * 24 * 60)] = 0,
    fatigue_days: Annotated[float, Form(ge=0, le=3650)] = 30,
    sample_percent: Annotated[float, Form(ge=0, le=100)] = 100,
    quiet_start: Annotated[str, Form(max_length=2)] = "",
    quiet_end: Annotated[str, Form(max_length=2)] = "",
) -> HTMLResponse:
    survey = _survey(page, survey_id)
    try:
        data = TriggerCreate(
            name=f"{survey.name}: {event}",
            event=event.strip(),
            action="survey",
            params={"survey_id": survey.id},
            channel=channel,
            delay_seconds=delay_minutes * 60,
            fatigue_days=fatigue_days,
            sample_rate=sample_percent / 100,
            quiet_start=int(quiet_start) if quiet_start.strip() else None,
            quiet_end=int(quiet_end) if quiet_end.strip() else None,
        )
    except (ValidationError, ValueError) as exc:
        message = (
            f"{'.'.join(str(p) for p in exc.errors()[0]['loc'])}: {exc.errors()[0]['msg']}"
            if isinstance(exc, ValidationError)
            else "quiet hours: use whole hours 0-23"
        )
        return _builder(page, survey, error=message, status_code=400)
    orch.create_trigger(page.session, workspace_id=_ws(page), data=data)
    runtime.trigger_hook.invalidate()
    return _builder(page, survey, saved=True)
