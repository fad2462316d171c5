"""Surveys in the dashboard: list and create from templates, results (trends with intervals,
breakdowns, verbatims, responses, export). The builder is ``survey_builder``.

Every number comes from ``safar.surveys.results`` / ``metrics`` (the same objects as the API).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safar.errors import NotFound, ValidationFailed
from safar.surveys import export as export_mod
from safar.surveys import metrics, presets, service
from safar.surveys import results as results_mod
from safar.surveys.models import Survey
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
            name = _main_metric(s)
            score = metrics.compute(page.session, name, f) if name else []
            rate = metrics.compute(page.session, "response_rate", f)
            rows.append(
                {
                    "survey": s,
                    "metric": name,
                    "score": _score_text(page, name, score[0].values) if score else None,
                    # Answers of the headline question (partial responses count, as in NPS).
                    "answers": score[0].values.get("n", 0)
                    if score
                    else (rate[0].values.get("started", 0) if rate else 0),
                    "rate": rate[0].values if rate else None,
                }
            )
    return render(page, "surveys.html", rows=rows, templates=TEMPLATE_LABELS, nav_key="surveys")


def _main_metric(survey: Survey) -> str | None:
    """The survey's headline score: that of its first NPS, CSAT or CES question (a CSAT
    survey's list row shows CSAT, not an empty NPS)."""
    questions = service.definition_of(survey).questions
    return next((q.type for q in questions if q.type in service.SCORE_COLUMNS), None)


def _score_text(page: Page, name: str | None, values: dict[str, Any]) -> str | None:
    """NPS as a score, CSAT as its top-2-box share, CES as its mean; None without answers."""
    if name == "csat":
        value = values.get("top2_pct")
        return None if value is None else page.fmt.percent(value, 1)
    value = values.get("score" if name == "nps" else "mean")
    return None if value is None else page.fmt.number(round(value, 1))


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
