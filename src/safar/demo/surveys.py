"""The demo's surveys: four of Safar's ready-made surveys, and the story's invitations and
answers sent through them as a customer answering the link would.

The story (``care.Ask``) says who was asked what, when, through which channel, and what they
answered; here each becomes an invitation (``surveys.service.create_invitation``) and, for
those who answered, the steps of a response (``submit_step``), at the story's times. The
surveys domain then writes the ``survey_answered`` events itself (a scheduler task per step,
run here before the load ends), so the survey pages, the overview's KPIs, the journeys'
key drivers, the detractor-recovery journey and the text analysis all read what production
would give them. Surveys and triggers are found again by name and invitations by (user, time
sent), so loading again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from safar.demo.care import Ask
from safar.errors import NotFound, ValidationFailed
from safar.identity import service as identity
from safar.orchestration import service as orchestration
from safar.orchestration.schemas import TriggerCreate
from safar.runtime import Runtime
from safar.surveys import presets
from safar.surveys import service as surveys
from safar.surveys.schemas import SurveyDefinition

#: Invitations written per unit of work, answer events stored per batch.
CHUNK = 500
CHUNK_EVENTS = 5_000
#: Seconds between two steps of one answer (the newest answer is a minute before "now").
STEP_GAP = timedelta(seconds=15)


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    """The event that invites to the survey from now on (while the demo server runs)."""

    event: str
    channel: str
    delay_seconds: int
    sample_rate: float = 1.0


@dataclass(frozen=True, slots=True)
class SurveySpec:
    template: str
    #: Persian, as the demo's dashboard opens in Persian (the journeys' names are too).
    name: str
    touchpoint: str | None
    trigger: TriggerSpec | None = None


#: The story's survey keys (``Ask.survey``) and what each is made from.
DEMO_SURVEYS: dict[str, SurveySpec] = {
    "nps": SurveySpec("nps", "نظرسنجی رضایت کلی", None),
    "delivery": SurveySpec(
        "csat",
        "رضایت از تحویل سفارش",
        "delivery",
        TriggerSpec("Order Delivered", "sms", 2 * 3600, 0.5),
    ),
    "support": SurveySpec(
        "post_support", "تجربه‌ی پشتیبانی", "support", TriggerSpec("Ticket Resolved", "email", 600)
    ),
    "store": SurveySpec(
        "csat", "رضایت از خرید حضوری", "store", TriggerSpec("Store Visit", "sms", 3600)
    ),
}


@dataclass(slots=True)
class SurveySeed:
    """What the load made (this run; a second run makes nothing)."""

    surveys: int = 0
    triggers: int = 0
    invitations: int = 0
    responses: int = 0
    #: ``survey_answered`` events stored (one per answered step).
    events: int = 0


def install(runtime: Runtime, workspace_id: str) -> tuple[dict[str, str], int]:
    """The demo surveys' ids by story key, created when missing (found by name); how many
    were made."""
    made = 0
    with runtime.db.session() as s:
        existing = {x.name: x for x in surveys.list_surveys(s, workspace_id=workspace_id)}
        for spec in DEMO_SURVEYS.values():
            if spec.name in existing:
                continue
            data = presets.template(spec.template, name=spec.name)
            data.touchpoint = spec.touchpoint
            existing[spec.name] = surveys.create_survey(s, workspace_id=workspace_id, data=data)
            made += 1
        s.flush()
        return {key: existing[spec.name].id for key, spec in DEMO_SURVEYS.items()}, made


def install_triggers(runtime: Runtime, workspace_id: str, by_key: dict[str, str]) -> int:
    """The surveys' triggers (found by name), made after the story's events are stored so that
    only events of the running demo invite anyone; how many were made."""
    made = 0
    with runtime.db.session() as s:
        names = {t.name for t in orchestration.list_triggers(s, workspace_id=workspace_id)}
        for key, spec in DEMO_SURVEYS.items():
            if spec.trigger is None or spec.name in names:
                continue
            t = spec.trigger
            data = TriggerCreate(
                name=spec.name,
                event=t.event,
                action="survey",
                params={"survey_id": by_key[key]},
                channel=t.channel,
                delay_seconds=t.delay_seconds,
                sample_rate=t.sample_rate,
                fatigue_days=14,
                timezone=runtime.settings.timezone,
            )
            orchestration.create_trigger(s, workspace_id=workspace_id, data=data)
            made += 1
    return made


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def seed(runtime: Runtime, workspace_id: str, asks: list[Ask]) -> SurveySeed:
    """Create the surveys and send the story's asks through them; safe to run again."""
    by_key, made = install(runtime, workspace_id)
    out = SurveySeed(surveys=made)
    tz = runtime.settings.timezone
    with runtime.db.session() as s:
        done = {
            key: {
                (u, _utc(t))
                for u, t in surveys.invitations_made(s, workspace_id=workspace_id, survey_id=sid)
            }
            for key, sid in by_key.items()
        }
    todo = [a for a in asks if (a.user_id, _utc(a.sent)) not in done[a.survey]]
    profiles: dict[str, str | None] = {}
    for i in range(0, len(todo), CHUNK):
        with runtime.db.session() as s:
            fresh = {
                k: surveys.get_survey(s, workspace_id=workspace_id, survey_id=v)
                for k, v in by_key.items()
            }
            definitions = {k: surveys.definition_of(v) for k, v in fresh.items()}
            for ask in todo[i : i + CHUNK]:
                pid = _profile(s, workspace_id, ask.user_id, profiles)
                if pid is None:
                    continue  # a customer whose story has not begun
                inv = surveys.create_invitation(
                    s,
                    survey=fresh[ask.survey],
                    channel=ask.channel,
                    now=ask.sent,
                    profile_id=pid,
                    user_id=ask.user_id,
                    language=ask.language,
                    trigger_message_id=ask.trigger_message_id,
                    trigger_event=ask.trigger_event,
                    tz=tz,
                )
                inv.status, inv.sent_at = "sent", ask.sent
                out.invitations += 1
                if ask.answered is not None:
                    steps = _answer(s, fresh[ask.survey], definitions[ask.survey], inv, ask, tz)
                    out.responses += 1
                    out.events += steps
    _store_answers(runtime, workspace_id)
    out.triggers = install_triggers(runtime, workspace_id, by_key)
    return out


def _profile(s: Any, workspace_id: str, user_id: str, cache: dict[str, str | None]) -> str | None:
    if user_id not in cache:
        try:
            cache[user_id] = identity.lookup(
                s, workspace_id=workspace_id, type_="user_id", value=user_id
            )
        except NotFound:
            cache[user_id] = None
    return cache[user_id]


def _answer(
    s: Any,
    survey: Any,
    definition: SurveyDefinition,
    inv: Any,
    ask: Ask,
    tz: str,
) -> int:
    """Answer the invitation step by step as the respondent would; the steps submitted.

    Each question of a step gets the story's value of its scale; the first text question
    shown gets the comment; the rest stay empty (all of them optional in the templates).
    """
    assert ask.answered is not None
    inv.opened_at, inv.status = ask.answered, "opened"
    comment = ask.comment
    response, step, when = None, 0, ask.answered
    while True:
        answers: dict[str, Any] = dict(response.answers) if response else {}
        questions = surveys.current_step(
            definition, answers, list(response.shown) if response else []
        )
        if not questions:
            return step
        raw: dict[str, Any] = {}
        for q in questions:
            if q.type in ask.scores:
                raw[q.id] = ask.scores[q.type]
            elif q.type == "text" and comment:
                raw[q.id], comment = comment, None
        opened = surveys.Opened(inv, survey, definition, response)
        res = surveys.submit_step(s, opened=opened, raw=raw, step=step, now=when, tz=tz)
        if res.errors or res.response is None:
            raise ValidationFailed(f"demo survey answer rejected: {res.errors}")
        if res.complete:
            return step + 1
        response, step, when = res.response, res.response.step, when + STEP_GAP


def _store_answers(runtime: Runtime, workspace_id: str) -> None:
    """Store the answers' events now, in bulk, through the one ingestion path.

    Each answered step queued a task holding its ``survey_answered`` event (the domain's
    own row, messageId fixed per step). Run one by one by the scheduler they would take half
    a minute here (a transaction each); stored together they take a fraction of a second, and
    the tasks, when the server's scheduler runs them, find their events already stored.
    """
    with runtime.db.session() as s:
        jobs = orchestration.list_jobs(s, workspace_id=workspace_id, status="pending", limit=10**7)
        rows = [
            row
            for job in jobs
            if job.action == surveys.EMIT_TASK
            for row in (job.payload or {}).get("rows") or []
        ]
    rows.sort(key=lambda r: (r["timestamp"], r["message_id"]))
    for i in range(0, len(rows), CHUNK_EVENTS):
        runtime.applier.apply(rows[i : i + CHUNK_EVENTS])
