"""The survey builder: questions edited visually, a live preview in Persian and English, when to
ask (triggers) and distribution (open link, QR code, embed snippets, a send to a segment).

``static/survey_builder.js`` edits the definition in the browser and posts it whole, as JSON, to
the routes below; the checks are the domain's own (``surveys.drafts.parse_definition``,
``surveys.distribution``), and a refusal comes back as ``{field, message}`` for the builder to
show beside the input it names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Form, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from safar.db import utcnow
from safar.errors import NotFound, SafarError, ValidationFailed
from safar.orchestration import service as orch
from safar.orchestration.schemas import TriggerCreate
from safar.segments import service as segments
from safar.surveys import distribution, service
from safar.surveys.deps import SurveyDep
from safar.surveys.drafts import parse_definition
from safar.surveys.rendering import render_preview
from safar.surveys.schemas import SegmentSend, SurveyUpdate
from safar.web.flow_labels import MESSAGE_REASONS
from safar.web.render import Page, need, render
from safar.web.survey_labels import (
    CALENDARS,
    OPERATORS,
    QUESTION_TYPES,
    STYLES,
    UI,
    translate_error,
    translated,
)

if TYPE_CHECKING:
    from safar.surveys.models import Survey

M = TypeVar("M", bound=BaseModel)
router = APIRouter(include_in_schema=False)
EditPage = Annotated[Page, need("settings")]


class BuilderSave(BaseModel):
    """What the builder's Save posts: the survey's settings and its whole definition."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    touchpoint: str | None = Field(default=None, max_length=80)
    status: Literal["active", "archived"] = "active"
    definition: dict[str, Any]


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    definition: Any = None
    lang: Literal["fa", "en"] = "fa"


def _ws(page: Page) -> str:
    if page.workspace_id is None:
        raise NotFound("workspace: there is no workspace yet; create one in Settings")
    return page.workspace_id


def _survey(page: Page, survey_id: str) -> Survey:
    return service.get_survey(page.session, workspace_id=_ws(page), survey_id=survey_id[:40])


def _checked(model: type[M], body: Any) -> M:
    """``body`` as ``model``, or a ValidationFailed naming the first bad field."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationFailed(f"{where}: {first['msg']}", field=where) from None


def refused(page: Page, exc: SafarError) -> JSONResponse:
    """A refusal as the builder reads it: the field path and a message in the page's language."""
    field = exc.field or "definition"
    message = exc.message.removeprefix(f"{field}: ")
    return JSONResponse(
        {"field": field, "message": translate_error(message, page.gettext), "detail": exc.message},
        status_code=exc.status_code,
    )


def builder_page(
    page: Page, runtime: SurveyDep, survey: Survey, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    ws = _ws(page)
    triggers = [
        t
        for t in orch.list_triggers(page.session, workspace_id=ws)
        if (t.params or {}).get("survey_id") == survey.id
    ]
    base = runtime.settings.resolved_public_url()
    url = distribution.open_url(runtime.survey_signer, base, survey)
    tr = page.gettext
    state = {
        "survey_id": survey.id,
        "name": survey.name,
        "touchpoint": survey.touchpoint or "",
        "status": survey.status,
        "definition": survey.definition,
        "ui": translated(UI, tr),
        "types": translated(QUESTION_TYPES, tr),
        "operators": translated(OPERATORS, tr),
        "styles": translated(STYLES, tr),
        "calendars": translated(CALENDARS, tr),
        "reasons": translated(MESSAGE_REASONS, tr),
        "lang": page.language,
    }
    return render(
        page,
        "survey_builder.html",
        status_code=status,
        survey=survey,
        state=state,
        triggers=triggers,
        error=error,
        open_url=url,
        qr_svg=distribution.qr_svg(url, title=survey.name),
        snippets=distribution.embed_snippets(url, base, survey.name),
        segments=segments.list_segments(page.session, workspace_id=ws),
        send_channels=distribution.SEND_CHANNELS,
        nav_key="surveys",
    )


@router.get("/surveys/{survey_id}/edit", response_class=HTMLResponse)
def edit(survey_id: str, page: EditPage, runtime: SurveyDep) -> HTMLResponse:
    return builder_page(page, runtime, _survey(page, survey_id))


@router.post("/surveys/{survey_id}/definition")
def save(survey_id: str, page: EditPage, body: Annotated[dict[str, Any], Body()]) -> JSONResponse:
    """Save the builder's survey; a refusal names the field (``definition.questions.1.choices``)."""
    survey = _survey(page, survey_id)
    try:
        data = _checked(BuilderSave, body)
        update = SurveyUpdate(
            name=data.name.strip() or survey.name,
            touchpoint=(data.touchpoint or "").strip() or None,
            status=data.status,
            definition=parse_definition(data.definition, prefix="definition."),
        )
    except SafarError as exc:
        return refused(page, exc)
    service.update_survey(page.session, workspace_id=_ws(page), survey_id=survey.id, data=update)
    return JSONResponse({"saved": True, "message": page.gettext(UI["saved"])})


@router.post("/surveys/preview", response_model=None)
def preview(
    page: EditPage, runtime: SurveyDep, body: Annotated[Any, Body()] = None
) -> HTMLResponse | JSONResponse:
    """The unsaved draft as respondents will see it, every question on one page; nothing is
    kept. A draft that would not save is refused like a save, naming the field."""
    try:
        data = _checked(PreviewRequest, body)
        parsed = parse_definition(data.definition, prefix="definition.")
    except SafarError as exc:
        return refused(page, exc)
    return HTMLResponse(render_preview(runtime.survey_env, parsed, data.lang))


@router.get("/surveys/{survey_id}/audience")
def audience(
    survey_id: str,
    page: EditPage,
    runtime: SurveyDep,
    segment_id: Annotated[str, Query(min_length=1, max_length=40)],
) -> JSONResponse:
    """How many customers the segment has now, before consent and the budget are checked."""
    _survey(page, survey_id)
    try:
        found = distribution.audience(
            page.session, runtime.store, workspace_id=_ws(page), segment_id=segment_id, now=utcnow()
        )
    except SafarError as exc:
        return refused(page, exc)
    return JSONResponse(
        {
            "segment_id": found.segment_id,
            "members": found.members,
            "shown": page.fmt.number(found.members),
        }
    )


def _report(page: Page, report: distribution.SendReport) -> dict[str, Any]:
    out = report.as_dict()
    tr = page.gettext
    out["skipped_labels"] = {k: tr(MESSAGE_REASONS.get(k, k)) for k in report.skipped}
    out["shown"] = {
        k: page.fmt.number(v) for k, v in out.items() if isinstance(v, int) and k != "send_id"
    }
    out["shown_skipped"] = {k: page.fmt.number(v) for k, v in report.skipped.items()}
    return out


@router.post("/surveys/{survey_id}/send")
def send(
    survey_id: str,
    page: EditPage,
    runtime: SurveyDep,
    body: Annotated[Any, Body()] = None,
) -> JSONResponse:
    """Invite the members of a segment through the send path; the report counts what it did."""
    survey = _survey(page, survey_id)
    try:
        data = _checked(SegmentSend, body)
        report = distribution.send_to_segment(
            page.session,
            runtime.store,
            survey=survey,
            segment_id=data.segment_id,
            channel=data.channel,
            now=utcnow(),
            fatigue_days=data.fatigue_days,
            consent_purpose=data.consent_purpose,
            require_consent=data.require_consent,
        )
    except SafarError as exc:
        return refused(page, exc)
    distribution.wake_after_commit(page.session, runtime.scheduler.wake)
    return JSONResponse(_report(page, report), status_code=202)


@router.get("/surveys/{survey_id}/sends/{send_id}")
def send_status(survey_id: str, send_id: str, page: EditPage) -> JSONResponse:
    survey = _survey(page, survey_id)
    try:
        report = distribution.send_report(page.session, survey=survey, send_id=send_id)
    except SafarError as exc:
        return refused(page, exc)
    return JSONResponse(_report(page, report))


@router.get("/surveys/{survey_id}/qr.svg")
def qr(survey_id: str, page: EditPage, runtime: SurveyDep) -> Response:
    """The open link's QR code as a file to print or put on a poster."""
    survey = _survey(page, survey_id)
    url = distribution.open_url(
        runtime.survey_signer, runtime.settings.resolved_public_url(), survey
    )
    svg = '<?xml version="1.0" encoding="utf-8"?>\n' + distribution.qr_svg(url, title=survey.name)
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="{survey.id}-qr.svg"'},
    )


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
        return builder_page(page, runtime, survey, error=message, status=400)
    orch.create_trigger(page.session, workspace_id=_ws(page), data=data)
    runtime.trigger_hook.invalidate()
    return builder_page(page, runtime, survey)
