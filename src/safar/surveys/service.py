"""Surveys: definitions, invitations, answering (steps, validation, display logic), events.

Answering is a sequence of steps. A step holds the next questions in order, up to the first one
whose display logic depends on an answer given in that same step, so "what went wrong?" can
follow a low NPS without JavaScript. Each accepted step is saved at once (partial answers are
never lost), advances ``step`` with a conditional update (a double submit changes nothing) and
schedules one ``survey_answered`` event in the same transaction (so it is never lost either; the
event's message id is fixed per step, so the event store keeps it once).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safar.errors import NotFound, ValidationFailed
from safar.events.messages import normalize, parse_message
from safar.identity.models import Identity
from safar.identity.service import current_traits, resolve_profile_id
from safar.orchestration.models import ScheduledJob
from safar.orchestration.service import enqueue_task
from safar.surveys.models import Invitation, Survey, SurveyResponse
from safar.surveys.schemas import (
    MAX_TEXT,
    Question,
    SurveyCreate,
    SurveyDefinition,
    SurveyUpdate,
)
from safar.surveys.tokens import LinkExpired, LinkForged, LinkSigner, LinkUsed

EMIT_TASK = "surveys.emit_event"
EVENT_NAME = "survey_answered"
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
SCORE_COLUMNS = ("nps", "csat", "ces")


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


# -- definitions ---------------------------------------------------------------------------------
def create_survey(session: Session, *, workspace_id: str, data: SurveyCreate) -> Survey:
    survey = Survey(
        id=new_id("svy"),
        workspace_id=workspace_id,
        name=data.name,
        touchpoint=data.touchpoint,
        languages=list(data.languages),
        default_language=data.default_language,
        definition=data.definition.model_dump(mode="json", exclude_none=True),
        link_ttl_hours=data.link_ttl_hours,
        segment_trait=data.segment_trait,
    )
    session.add(survey)
    session.flush()
    return survey


def get_survey(session: Session, *, workspace_id: str, survey_id: str) -> Survey:
    survey = session.get(Survey, survey_id)
    if survey is None or survey.workspace_id != workspace_id:
        raise NotFound(f"survey {survey_id[:60]} not found", field="survey_id")
    return survey


def list_surveys(session: Session, *, workspace_id: str) -> list[Survey]:
    stmt = select(Survey).where(Survey.workspace_id == workspace_id).order_by(Survey.created_at)
    return list(session.scalars(stmt))


def update_survey(
    session: Session, *, workspace_id: str, survey_id: str, data: SurveyUpdate
) -> Survey:
    survey = get_survey(session, workspace_id=workspace_id, survey_id=survey_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        if key == "definition":
            value = data.definition.model_dump(mode="json", exclude_none=True)  # type: ignore[union-attr]
        setattr(survey, key, value)
    session.flush()
    return survey


def definition_of(survey: Survey) -> SurveyDefinition:
    return SurveyDefinition.model_validate(survey.definition)


# -- invitations ---------------------------------------------------------------------------------
def pick_language(survey: Survey, *hints: Any) -> str:
    for hint in hints:
        if isinstance(hint, str) and hint[:2].lower() in survey.languages:
            return hint[:2].lower()
    return survey.default_language


def create_invitation(
    session: Session,
    *,
    survey: Survey,
    channel: str,
    now: datetime,
    profile_id: str | None = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    language: str | None = None,
    touchpoint: str | None = None,
    segment: Any = None,
    trigger_message_id: str | None = None,
    trigger_event: str | None = None,
    job_id: int | None = None,
    tz: str = "Asia/Tehran",
) -> Invitation:
    if survey.status != "active":
        raise ValidationFailed(f"survey {survey.id} is archived", field="survey_id")
    invitation = Invitation(
        id=new_id("inv"),
        workspace_id=survey.workspace_id,
        survey_id=survey.id,
        profile_id=profile_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        channel=channel,
        language=pick_language(survey, language),
        touchpoint=touchpoint or survey.touchpoint or trigger_event,
        segment=None if segment is None else str(segment)[:200],
        trigger_message_id=trigger_message_id,
        trigger_event=trigger_event,
        job_id=job_id,
        status="created",
        created_at=now,
        expires_at=now + timedelta(hours=survey.link_ttl_hours),
        day=local_day(now, tz),
    )
    session.add(invitation)
    session.flush()
    return invitation


def invitation_for_profile(
    session: Session,
    *,
    survey: Survey,
    profile_id: str,
    channel: str,
    now: datetime,
    language: str | None = None,
    touchpoint: str | None = None,
) -> Invitation:
    """A link for a known profile (in-app, web widget): it answers as that profile's user."""
    pid = resolve_profile_id(session, workspace_id=survey.workspace_id, profile_id=profile_id)
    rows = session.execute(
        select(Identity.id, Identity.type, Identity.value)
        .where(Identity.profile_id == pid)
        .order_by(Identity.id.desc())
    ).all()
    idents = {t: v for _, t, v in rows}
    traits = current_traits(session, [i for i, _, _ in rows])
    return create_invitation(
        session,
        survey=survey,
        channel=channel,
        now=now,
        profile_id=pid,
        user_id=idents.get("user_id"),
        anonymous_id=None if idents.get("user_id") else idents.get("anonymous_id"),
        language=pick_language(survey, language, traits.get("language"), traits.get("locale")),
        touchpoint=touchpoint,
        segment=traits.get(survey.segment_trait) if survey.segment_trait else None,
    )


def link(signer: LinkSigner, base_url: str, invitation: Invitation) -> tuple[str, str]:
    token = signer.sign(invitation.id)
    return token, f"{base_url}/s/{token}"


def pending_invitations(
    session: Session, *, workspace_id: str, profile_id: str, now: datetime
) -> list[Invitation]:
    pid = resolve_profile_id(session, workspace_id=workspace_id, profile_id=profile_id)
    stmt = (
        select(Invitation)
        .where(
            Invitation.workspace_id == workspace_id,
            Invitation.profile_id == pid,
            Invitation.channel.in_(["app", "web"]),
            Invitation.status.in_(["created", "sent", "opened"]),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.created_at.desc())
    )
    return list(session.scalars(stmt))


# -- opening a link ------------------------------------------------------------------------------
@dataclass(slots=True)
class Opened:
    invitation: Invitation
    survey: Survey
    definition: SurveyDefinition
    response: SurveyResponse | None


def open_link(
    session: Session, *, signer: LinkSigner, token: str, now: datetime, mark_opened: bool = True
) -> Opened:
    """The invitation behind a token; raises LinkForged, LinkExpired or LinkUsed."""
    invitation_id = signer.verify(token)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise LinkForged("token: this survey link is not valid", field="token")
    if invitation.status == "completed":
        raise LinkUsed("token: this survey has already been answered", field="token")
    if invitation.expires_at <= now:
        raise LinkExpired("token: this survey link has expired", field="token")
    survey = session.get(Survey, invitation.survey_id)
    if survey is None or survey.status != "active":
        raise LinkExpired("token: this survey is closed", field="token")
    if mark_opened and invitation.opened_at is None:
        invitation.opened_at = now
        if invitation.status in ("created", "sent"):
            invitation.status = "opened"
    response = session.scalar(
        select(SurveyResponse).where(SurveyResponse.invitation_id == invitation.id)
    )
    return Opened(invitation, survey, definition_of(survey), response)


# -- steps and validation ------------------------------------------------------------------------
def current_step(
    definition: SurveyDefinition, answers: dict[str, Any], shown: list[Any]
) -> list[Question]:
    """The next questions to put: in order, stopping before one that depends on this step."""
    step: list[Question] = []
    ids: set[str] = set()
    for q in definition.questions:
        if q.id in shown:
            continue
        cond = q.show_if
        if cond is not None:
            if cond.question in ids:
                break
            if not cond.holds(answers):
                continue
        step.append(q)
        ids.add(q.id)
    return step


def parse_answer(q: Question, raw: Any) -> Any:
    """The stored value of one answer, or None when empty; ValueError with a reason if bad."""
    if raw is None or raw == "" or raw == []:
        return None
    if q.type in ("nps", "csat", "ces", "rating"):
        if isinstance(raw, bool):
            raise ValueError("must be a whole number")
        if isinstance(raw, str):
            raw = raw.strip().translate(_DIGITS)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ValueError("must be a whole number") from None
        if isinstance(raw, float) and raw != value:
            raise ValueError("must be a whole number")
        low, high = q.bounds() or (0, 0)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value
    if q.type == "single":
        if not isinstance(raw, str) or raw not in {c.id for c in q.choices}:
            raise ValueError("is not one of the choices")
        return raw
    if q.type == "multiple":
        values = raw if isinstance(raw, list) else [raw]
        valid = {c.id for c in q.choices}
        if not all(isinstance(v, str) and v in valid for v in values):
            raise ValueError("contains something that is not one of the choices")
        return sorted(set(values), key=[c.id for c in q.choices].index)
    if q.type == "text":
        if not isinstance(raw, str):
            raise ValueError("must be text")
        text = raw.replace("\r\n", "\n").strip()
        if len(text) > min(q.max_length, MAX_TEXT):
            raise ValueError(f"is longer than {min(q.max_length, MAX_TEXT)} characters")
        return text or None
    if q.type == "date":
        if not isinstance(raw, str):
            raise ValueError("must be a date")
        return parse_date(raw.strip().translate(_DIGITS), q.calendar)
    raise ValueError("unsupported question type")  # pragma: no cover


def parse_date(text: str, calendar: str) -> str:
    """ISO (Gregorian) date of ``YYYY/MM/DD`` or ``YYYY-MM-DD`` in the question's calendar."""
    parts = text.replace("-", "/").split("/")
    try:
        y, m, d = (int(p) for p in parts)
        if calendar == "jalali":
            return str(jdatetime.date(y, m, d).togregorian().isoformat())
        return datetime(y, m, d).date().isoformat()
    except (ValueError, TypeError):
        raise ValueError(
            "must be a date like 1403/05/12"
            if calendar == "jalali"
            else "must be a date like 2024-08-02"
        ) from None


def validate_step(
    questions: list[Question], raw: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parsed answers of one step and per-question errors (empty when all is well)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for q in questions:
        try:
            value = parse_answer(q, raw.get(q.id))
        except ValueError as exc:
            errors[q.id] = str(exc)
            continue
        if value is None:
            if q.required:
                errors[q.id] = "is required"
            continue
        values[q.id] = value
    return values, errors


# -- answering -----------------------------------------------------------------------------------
@dataclass(slots=True)
class StepResult:
    response: SurveyResponse | None
    complete: bool
    duplicate: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    job_id: int | None = None


def local_day(now: datetime, tz: str) -> Any:
    return now.astimezone(ZoneInfo(tz)).date()


def submit_step(
    session: Session,
    *,
    opened: Opened,
    raw: dict[str, Any],
    step: int,
    now: datetime,
    tz: str,
    strict: bool = False,
) -> StepResult:
    """Validate and save one step; a stale ``step`` (double submit) is ignored.

    ``strict`` (JSON clients) rejects answers to questions that are not in the current step.
    """
    inv, definition, response = opened.invitation, opened.definition, opened.response
    answers = dict(response.answers) if response else {}
    shown = list(response.shown) if response else []
    current = response.step if response else 0
    if step != current:
        return StepResult(response, bool(response and response.complete), duplicate=True)
    questions = current_step(definition, answers, shown)
    if strict:
        asked = {q.id for q in questions}
        for key in raw:
            if key not in asked:
                known = definition.question(key) is not None
                reason = (
                    "is not asked at this step" if known else "is not a question of this survey"
                )
                raise ValidationFailed(f"answers.{key[:60]}: {reason}", field=f"answers.{key[:60]}")
    values, errors = validate_step(questions, raw)
    if errors:
        return StepResult(response, False, errors=errors)
    answers.update(values)
    shown.extend(q.id for q in questions)
    complete = not current_step(definition, answers, shown)
    scores = {
        c: next(
            (answers[q.id] for q in definition.questions if q.type == c and q.id in answers), None
        )
        for c in SCORE_COLUMNS
    }
    day = local_day(now, tz)
    if response is None:
        response = SurveyResponse(
            id=new_id("rsp"),
            workspace_id=inv.workspace_id,
            survey_id=inv.survey_id,
            invitation_id=inv.id,
            profile_id=inv.profile_id,
            channel=inv.channel,
            touchpoint=inv.touchpoint,
            language=inv.language,
            segment=inv.segment,
            trigger_message_id=inv.trigger_message_id,
            answers=answers,
            shown=shown,
            step=1,
            complete=complete,
            day=day,
            started_at=now,
            updated_at=now,
            completed_at=now if complete else None,
            **scores,
        )
        try:
            with session.begin_nested():
                session.add(response)
        except IntegrityError:
            return StepResult(None, False, duplicate=True)
    else:
        moved = session.execute(
            update(SurveyResponse)
            .where(SurveyResponse.id == response.id, SurveyResponse.step == current)
            .values(
                answers=answers,
                shown=shown,
                step=current + 1,
                complete=complete,
                day=day,
                updated_at=now,
                completed_at=now if complete else None,
                **scores,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) != 1:
            return StepResult(response, response.complete, duplicate=True)
        session.refresh(response)
    if complete:
        inv.status = "completed"
        inv.completed_at = now
    row = answer_event(
        opened, response, values, questions, step=current, complete=complete, now=now
    )
    job = enqueue_task(
        session,
        workspace_id=inv.workspace_id,
        action=EMIT_TASK,
        payload={"rows": [row]},
        dedupe_key=f"{EMIT_TASK}:{row['message_id']}",
        due_at=now,
    )
    return StepResult(response, complete, job_id=job.id)


def answer_event(
    opened: Opened,
    response: SurveyResponse,
    values: dict[str, Any],
    questions: list[Question],
    *,
    step: int,
    complete: bool,
    now: datetime,
) -> dict[str, Any]:
    """The ``survey_answered`` track event of one step, normalised like any ingested event."""
    inv, survey = opened.invitation, opened.survey
    by_type = {q.id: q.type for q in questions}
    texts = [str(v) for k, v in values.items() if by_type.get(k) == "text"]
    props: dict[str, Any] = {
        "survey_id": survey.id,
        "survey_name": survey.name,
        "response_id": response.id,
        "invitation_id": inv.id,
        "step": step,
        "complete": complete,
        "answers": values,
        "touchpoint": inv.touchpoint,
        "channel": inv.channel,
        "language": inv.language,
        "trigger_message_id": inv.trigger_message_id,
        "trigger_event": inv.trigger_event,
    }
    for column in SCORE_COLUMNS:
        qid = next((q.id for q in questions if q.type == column and q.id in values), None)
        if qid is not None:
            props[column] = values[qid]
    if texts:
        props["text"] = "\n".join(texts)
    msg: dict[str, Any] = {
        "type": "track",
        "event": EVENT_NAME,
        "messageId": f"survey-{response.id}-{step}",
        "properties": props,
        "timestamp": now.isoformat(),
        "context": {"channel": inv.channel, "locale": inv.language},
    }
    if inv.user_id:
        msg["userId"] = inv.user_id
    else:
        msg["anonymousId"] = inv.anonymous_id or inv.id
    return normalize(
        parse_message(msg), workspace_id=inv.workspace_id, received_at=now, source="surveys"
    )


def list_responses(
    session: Session,
    *,
    workspace_id: str,
    survey_id: str | None = None,
    complete: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SurveyResponse]:
    stmt = select(SurveyResponse).where(SurveyResponse.workspace_id == workspace_id)
    if survey_id:
        stmt = stmt.where(SurveyResponse.survey_id == survey_id)
    if complete is not None:
        stmt = stmt.where(SurveyResponse.complete.is_(complete))
    stmt = stmt.order_by(SurveyResponse.started_at.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def job_status(session: Session, job_id: int) -> str | None:
    return session.scalar(select(ScheduledJob.status).where(ScheduledJob.id == job_id))
