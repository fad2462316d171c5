"""Survey administration, in-app distribution, responses, metrics and export (secret key)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import HTMLResponse, Response

from safar.db import utcnow
from safar.surveys import distribution, metrics, presets, service
from safar.surveys import export as export_mod
from safar.surveys import results as results_mod
from safar.surveys.deps import SurveyDep
from safar.surveys.drafts import parse_definition
from safar.surveys.models import Invitation, Survey, SurveyResponse
from safar.surveys.rendering import render_preview
from safar.surveys.schemas import (
    InvitationCreate,
    InvitationRead,
    ResponseRead,
    SegmentSend,
    SurveyCreate,
    SurveyFromTemplate,
    SurveyRead,
    SurveyUpdate,
)
from safar.workspaces.deps import SecretKey, SessionDep

router = APIRouter(prefix="/api/surveys", tags=["surveys"])


def _read(survey: Survey) -> SurveyRead:
    return SurveyRead.model_validate(survey)


def _invitation(runtime: Any, inv: Invitation) -> InvitationRead:
    token, url = service.link(runtime.survey_signer, runtime.settings.resolved_public_url(), inv)
    return InvitationRead(
        id=inv.id,
        survey_id=inv.survey_id,
        profile_id=inv.profile_id,
        channel=inv.channel,
        language=inv.language,
        touchpoint=inv.touchpoint,
        status=inv.status,
        url=url,
        token=token,
        expires_at=inv.expires_at,
    )


def _response(r: SurveyResponse) -> ResponseRead:
    return ResponseRead(
        id=r.id,
        survey_id=r.survey_id,
        invitation_id=r.invitation_id,
        profile_id=r.profile_id,
        channel=r.channel,
        touchpoint=r.touchpoint,
        language=r.language,
        segment=r.segment,
        answers=r.answers or {},
        nps=r.nps,
        csat=r.csat,
        ces=r.ces,
        complete=r.complete,
        trigger_message_id=r.trigger_message_id,
        started_at=r.started_at,
        completed_at=r.completed_at,
    )


@router.get("/templates")
def list_templates(key: SecretKey) -> dict[str, Any]:
    return {
        k: {"name": v["name"], "touchpoint": v["touchpoint"]} for k, v in presets.TEMPLATES.items()
    }


@router.post("", response_model=SurveyRead, status_code=201)
def create_survey(data: SurveyCreate, key: SecretKey, session: SessionDep) -> SurveyRead:
    return _read(service.create_survey(session, workspace_id=key.workspace_id, data=data))


@router.post("/from-template", response_model=SurveyRead, status_code=201)
def create_from_template(
    data: SurveyFromTemplate, key: SecretKey, session: SessionDep
) -> SurveyRead:
    spec = presets.template(data.template, data.name)
    return _read(service.create_survey(session, workspace_id=key.workspace_id, data=spec))


@router.get("", response_model=list[SurveyRead])
def list_surveys(key: SecretKey, session: SessionDep) -> list[SurveyRead]:
    return [_read(s) for s in service.list_surveys(session, workspace_id=key.workspace_id)]


@router.post("/preview", response_class=HTMLResponse)
def preview(
    key: SecretKey,
    runtime: SurveyDep,
    definition: Annotated[dict[str, Any], Body()],
    lang: Annotated[Literal["fa", "en"], Query()] = "fa",
) -> HTMLResponse:
    """The first step of an unsaved definition as respondents would see it (nothing is kept);
    a bad definition is a 400 naming the field inside it (``questions.1.choices``)."""
    parsed = parse_definition(definition)
    return HTMLResponse(render_preview(runtime.survey_env, parsed, lang))


@router.get("/pending", response_model=list[InvitationRead])
def pending(
    key: SecretKey,
    session: SessionDep,
    runtime: SurveyDep,
    profile_id: Annotated[str, Query(min_length=1, max_length=40)],
) -> list[InvitationRead]:
    """Open in-app invitations of a profile, with their personal links (for the widget)."""
    invitations = service.pending_invitations(
        session, workspace_id=key.workspace_id, profile_id=profile_id, now=utcnow()
    )
    return [_invitation(runtime, inv) for inv in invitations]


@router.get("/metrics")
def get_metrics(
    key: SecretKey,
    session: SessionDep,
    metric: Annotated[str, Query(max_length=20)] = "nps",
    survey_id: Annotated[str | None, Query(max_length=40)] = None,
    touchpoint: Annotated[str | None, Query(max_length=80)] = None,
    channel: Annotated[str | None, Query(max_length=20)] = None,
    segment: Annotated[str | None, Query(max_length=200)] = None,
    by: Annotated[str | None, Query(max_length=20)] = None,
    period: Annotated[str, Query(max_length=20)] = "all",
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    if survey_id is not None:
        service.get_survey(session, workspace_id=key.workspace_id, survey_id=survey_id)
    f = metrics.Filters(
        workspace_id=key.workspace_id,
        survey_id=survey_id,
        touchpoint=touchpoint,
        channel=channel,
        segment=segment,
        start=start,
        end=end,
    )
    rows = metrics.compute(session, metric, f, by=by, period=period)
    change = (
        metrics.latest_change(session, metric, f, period=period)
        if period != "all" and metric in metrics.METRICS
        else None
    )
    return {
        "metric": metric,
        "by": by,
        "period": period,
        "rows": [r.as_dict() for r in rows],
        "change": change,
    }


@router.get("/{survey_id}", response_model=SurveyRead)
def get_survey(survey_id: str, key: SecretKey, session: SessionDep) -> SurveyRead:
    return _read(service.get_survey(session, workspace_id=key.workspace_id, survey_id=survey_id))


@router.patch("/{survey_id}", response_model=SurveyRead)
def update_survey(
    survey_id: str, data: SurveyUpdate, key: SecretKey, session: SessionDep
) -> SurveyRead:
    return _read(
        service.update_survey(
            session, workspace_id=key.workspace_id, survey_id=survey_id, data=data
        )
    )


@router.post("/{survey_id}/invitations", response_model=InvitationRead, status_code=201)
def create_invitation(
    survey_id: str,
    data: InvitationCreate,
    key: SecretKey,
    session: SessionDep,
    runtime: SurveyDep,
) -> InvitationRead:
    """A personal link for a profile (in-app or handed out by an agent); counts as sent."""
    survey = service.get_survey(session, workspace_id=key.workspace_id, survey_id=survey_id)
    now = utcnow()
    inv = service.invitation_for_profile(
        session,
        survey=survey,
        profile_id=data.profile_id,
        channel=data.channel,
        now=now,
        language=data.language,
        touchpoint=data.touchpoint,
    )
    inv.status, inv.sent_at = "sent", now
    return _invitation(runtime, inv)


@router.get("/{survey_id}/responses", response_model=list[ResponseRead])
def list_responses(
    survey_id: str,
    key: SecretKey,
    session: SessionDep,
    complete: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ResponseRead]:
    service.get_survey(session, workspace_id=key.workspace_id, survey_id=survey_id)
    return [
        _response(r)
        for r in service.list_responses(
            session,
            workspace_id=key.workspace_id,
            survey_id=survey_id,
            complete=complete,
            limit=limit,
            offset=offset,
        )
    ]


@router.get("/{survey_id}/results")
def results(
    survey_id: str,
    key: SecretKey,
    session: SessionDep,
    period: Annotated[str, Query(max_length=20)] = "jalali_month",
) -> dict[str, Any]:
    """Trends with intervals, breakdowns, response rate and verbatims of one survey."""
    return results_mod.survey_results(
        session, workspace_id=key.workspace_id, survey_id=survey_id, period=period
    )


@router.get("/{survey_id}/export")
def export(
    survey_id: str,
    key: SecretKey,
    session: SessionDep,
    format: Annotated[str, Query(max_length=10)] = "csv",
) -> Response:
    body = export_mod.export(
        session, workspace_id=key.workspace_id, survey_id=survey_id, fmt=format
    )
    media = "text/csv; charset=utf-8" if format == "csv" else "application/vnd.apache.parquet"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{survey_id}.{format}"'},
    )


@router.get("/{survey_id}/distribution")
def get_distribution(
    survey_id: str, key: SecretKey, session: SessionDep, runtime: SurveyDep
) -> dict[str, Any]:
    """The survey's open link, its QR code (SVG) and the snippets that embed it in a website."""
    survey = service.get_survey(session, workspace_id=key.workspace_id, survey_id=survey_id)
    base = runtime.settings.resolved_public_url()
    url = distribution.open_url(runtime.survey_signer, base, survey)
    return {
        "url": url,
        "qr_svg": distribution.qr_svg(url, title=survey.name),
        "embed": distribution.embed_snippets(url, base, survey.name),
    }


@router.post("/{survey_id}/sends", status_code=202)
def send_to_segment(
    survey_id: str, data: SegmentSend, key: SecretKey, session: SessionDep, runtime: SurveyDep
) -> dict[str, Any]:
    """Invite every member of a saved segment through the send path (consent, fatigue, the
    contact budget); 202 with the send's id, whose outcome ``GET .../sends/{id}`` counts."""
    survey = service.get_survey(session, workspace_id=key.workspace_id, survey_id=survey_id)
    report = distribution.send_to_segment(
        session,
        runtime.store,
        survey=survey,
        segment_id=data.segment_id,
        channel=data.channel,
        now=utcnow(),
        fatigue_days=data.fatigue_days,
        consent_purpose=data.consent_purpose,
        require_consent=data.require_consent,
    )
    distribution.wake_after_commit(session, runtime.scheduler.wake)
    return report.as_dict()


@router.get("/{survey_id}/sends/{send_id}")
def get_send(survey_id: str, send_id: str, key: SecretKey, session: SessionDep) -> dict[str, Any]:
    """How one segment send went so far: sent, waiting, failed, skipped by reason."""
    survey = service.get_survey(session, workspace_id=key.workspace_id, survey_id=survey_id)
    return distribution.send_report(session, survey=survey, send_id=send_id).as_dict()
