"""Surveys: definitions, answering (saving steps) and the events answers become.

Answering is a sequence of steps. A step holds the next questions in order, up to the first one
whose display logic depends on an answer given in that same step, so "what went wrong?" can
follow a low NPS without JavaScript. Each accepted step is saved at once (partial answers are
never lost), advances ``step`` with a conditional update (a double submit changes nothing) and
schedules one ``survey_answered`` event in the same transaction (so it is never lost either; the
event's message id is fixed per step, so the event store keeps it once).

Invitations and links live in ``invitations``, step logic and answer parsing in ``answers``,
the overview's KPIs of a date range in ``kpis``; all are re-exported here, so callers keep
using ``surveys.service`` as the one facade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safar.errors import NotFound, ValidationFailed
from safar.events.messages import normalize, parse_message
from safar.events.rows import EventRow
from safar.identity.service import person_profile_ids
from safar.orchestration.service import enqueue_task
from safar.surveys.answers import current_step, parse_answer, parse_date, validate_step
from safar.surveys.invitations import (
    Opened,
    create_invitation,
    definition_of,
    invitation_for_profile,
    invitations_made,
    link,
    local_day,
    new_id,
    open_link,
    pending_invitations,
    pick_language,
)
from safar.surveys.kpis import DayRange, kpis
from safar.surveys.models import Survey, SurveyResponse
from safar.surveys.repository import ResponseRepository, SurveyRepository
from safar.surveys.schemas import (
    SCALES,
    LatestScore,
    Question,
    SurveyCreate,
    SurveyDefinition,
    SurveyUpdate,
)

__all__ = [
    "EMIT_TASK",
    "EVENT_NAME",
    "SCORE_COLUMNS",
    "DayRange",
    "Opened",
    "StepResult",
    "answer_event",
    "create_invitation",
    "create_survey",
    "current_step",
    "definition_of",
    "get_survey",
    "invitation_for_profile",
    "invitations_made",
    "kpis",
    "latest_scores",
    "link",
    "list_responses",
    "list_surveys",
    "local_day",
    "new_id",
    "open_link",
    "parse_answer",
    "parse_date",
    "pending_invitations",
    "pick_language",
    "submit_step",
    "update_survey",
    "validate_step",
]

EMIT_TASK = "surveys.emit_event"
EVENT_NAME = "survey_answered"
SCORE_COLUMNS = ("nps", "csat", "ces")


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
    survey = SurveyRepository(session).get(workspace_id, survey_id)
    if survey is None:
        raise NotFound(f"survey {survey_id[:60]} not found", field="survey_id")
    return survey


def list_surveys(session: Session, *, workspace_id: str) -> list[Survey]:
    return SurveyRepository(session).ordered(workspace_id)


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


# -- answering -----------------------------------------------------------------------------------
@dataclass(slots=True)
class StepResult:
    response: SurveyResponse | None
    complete: bool
    duplicate: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    job_id: int | None = None


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
        _reject_unasked(definition, questions, raw)
    values, errors = validate_step(questions, raw)
    if errors:
        return StepResult(response, False, errors=errors)
    answers.update(values)
    shown.extend(q.id for q in questions)
    complete = not current_step(definition, answers, shown)
    state: dict[str, Any] = {
        "answers": answers,
        "shown": shown,
        "complete": complete,
        "day": local_day(now, tz),
        "updated_at": now,
        "completed_at": now if complete else None,
        **_scores(definition, answers),
    }
    if response is None:
        response = _insert_response(session, opened, state, now=now)
        if response is None:
            return StepResult(None, False, duplicate=True)
    elif not _advance_response(session, response, state, current=current):
        return StepResult(response, response.complete, duplicate=True)
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


def _reject_unasked(
    definition: SurveyDefinition, questions: list[Question], raw: dict[str, Any]
) -> None:
    """Refuse answers to questions outside this step, naming the first such field."""
    asked = {q.id for q in questions}
    for key in raw:
        if key not in asked:
            known = definition.question(key) is not None
            reason = "is not asked at this step" if known else "is not a question of this survey"
            raise ValidationFailed(f"answers.{key[:60]}: {reason}", field=f"answers.{key[:60]}")


def _scores(definition: SurveyDefinition, answers: dict[str, Any]) -> dict[str, Any]:
    """The first answer of each score type, stored in its own column for the metrics."""
    return {
        c: next(
            (answers[q.id] for q in definition.questions if q.type == c and q.id in answers), None
        )
        for c in SCORE_COLUMNS
    }


def _insert_response(
    session: Session, opened: Opened, state: dict[str, Any], *, now: datetime
) -> SurveyResponse | None:
    """The first step's response row, or None when a concurrent submit already made it."""
    inv = opened.invitation
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
        step=1,
        started_at=now,
        **state,
    )
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        return None
    return response


def _advance_response(
    session: Session, response: SurveyResponse, state: dict[str, Any], *, current: int
) -> bool:
    """Move the response one step on, only if no other submit moved it first."""
    if not ResponseRepository(session).advance(response, state, current=current):
        return False
    session.refresh(response)
    return True


def answer_event(
    opened: Opened,
    response: SurveyResponse,
    values: dict[str, Any],
    questions: list[Question],
    *,
    step: int,
    complete: bool,
    now: datetime,
) -> EventRow:
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
    return ResponseRepository(session).recent(
        workspace_id, survey_id=survey_id, complete=complete, limit=limit, offset=offset
    )


def latest_scores(session: Session, *, workspace_id: str, profile_id: str) -> list[LatestScore]:
    """The person's newest NPS, CSAT and CES answers (those they gave), from every profile
    merged into theirs: a response keeps the profile that was current when it was answered."""
    ids = person_profile_ids(session, workspace_id=workspace_id, profile_id=profile_id)
    repo = ResponseRepository(session)
    out: list[LatestScore] = []
    for metric in SCORE_COLUMNS:
        found = repo.latest_scored(workspace_id, ids, metric)
        if found is None:
            continue
        response, survey_name = found
        low, high = SCALES[metric]
        out.append(
            LatestScore(
                metric=metric,
                value=getattr(response, metric),
                low=low,
                high=high,
                answered_at=response.updated_at,
                survey_id=response.survey_id,
                survey_name=survey_name,
            )
        )
    return out
