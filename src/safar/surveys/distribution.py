"""Getting a survey to people: its open link (with a QR code and a snippet to embed it) and
invitations to every member of a saved segment.

A segment send is one message job per member through orchestration's one send path
(``enqueue_message`` with the ``survey`` action), so consent, fatigue, quiet hours and the
contact budget apply exactly as they do to triggers and journeys, and each job makes its own
personal link when it runs. The jobs' keys share a prefix per send, which is how the outcome
(sent, skipped by reason) is counted afterwards; nothing else is stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

import segno
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from safar.errors import NotFound, ValidationFailed
from safar.events.store import EventStore
from safar.orchestration import service as orchestration
from safar.orchestration.policy import SendPolicy
from safar.segments import service as segments
from safar.surveys.invitations import create_invitation, link
from safar.surveys.models import Invitation, Survey
from safar.surveys.repository import SurveyRepository
from safar.surveys.tokens import LinkExpired, LinkForged, LinkSigner

#: The channels a segment send may use (a webhook has no per-customer address).
SEND_CHANNELS = ("email", "sms", "app", "telegram", "push")
ACTION = "survey"
#: Sends larger than this are refused: one request enqueues every job.
MAX_SEND = 50_000


# -- the open link -------------------------------------------------------------------------------
def open_url(signer: LinkSigner, base_url: str, survey: Survey) -> str:
    """The survey's open link: each visit starts a fresh anonymous answer."""
    return f"{base_url}/s/p/{signer.sign_survey(survey.workspace_id, survey.id)}"


def qr_svg(url: str, *, title: str = "") -> str:
    """The link as an inline SVG QR code (segno), black on white so every camera reads it."""
    qr = segno.make(url, error="m")
    return str(
        qr.svg_inline(
            scale=5, border=2, title=title or None, dark="#101828", light="#fff", omitsize=True
        )
    )


def embed_snippets(url: str, base_url: str, title: str) -> dict[str, str]:
    """HTML a website pastes to show the survey: inline (an iframe) or as the overlay widget."""
    src = escape(url + "?embed=1", quote=True)
    return {
        "iframe": (
            f'<iframe src="{src}" title="{escape(title, quote=True)}" loading="lazy" '
            'style="width:100%;max-width:34rem;height:36rem;border:0"></iframe>'
        ),
        "script": (
            f'<script src="{escape(base_url, quote=True)}/s/widget.js" '
            f'data-open="{escape(url, quote=True)}" async></script>'
        ),
    }


def visit_open_link(
    session: Session,
    *,
    signer: LinkSigner,
    token: str,
    now: datetime,
    tz: str,
    language: str | None = None,
) -> tuple[Invitation, str]:
    """A new anonymous invitation for one visitor of an open link, and its personal token.

    Counted as sent (the visitor has it in hand), so the response rate reads completions per
    visit. Raises ``LinkForged`` for a bad token and ``LinkExpired`` for an archived survey.
    """
    workspace_id, survey_id = signer.verify_survey(token)
    survey = SurveyRepository(session).get(workspace_id, survey_id)
    if survey is None:
        raise LinkForged("token: this survey link is not valid", field="token")
    if survey.status != "active":
        raise LinkExpired("token: this survey is closed", field="token")
    invitation = create_invitation(
        session,
        survey=survey,
        channel="web",
        now=now,
        language=language,
        touchpoint=survey.touchpoint,
        tz=tz,
    )
    invitation.status, invitation.sent_at = "sent", now
    personal, _ = link(signer, "", invitation)
    return invitation, personal


# -- sending to a segment ------------------------------------------------------------------------
def send_prefix(survey_id: str, send_id: str | None = None) -> str:
    """The key prefix of one send's jobs (or of every send of the survey)."""
    return f"survey-send:{survey_id}:" + (f"{send_id}:" if send_id else "")


@dataclass(slots=True)
class Audience:
    segment_id: str
    members: int


@dataclass(slots=True)
class SendReport:
    """What became of one send's jobs: ``sent`` delivered, ``skipped`` by reason code."""

    send_id: str
    total: int = 0
    sent: int = 0
    waiting: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "send_id": self.send_id,
            "total": self.total,
            "sent": self.sent,
            "waiting": self.waiting,
            "failed": self.failed,
            "skipped": dict(self.skipped),
        }


def check_channel(channel: str) -> None:
    if channel not in SEND_CHANNELS:
        raise ValidationFailed(f"channel: use one of {', '.join(SEND_CHANNELS)}", field="channel")


def audience(
    session: Session, store: EventStore, *, workspace_id: str, segment_id: str, now: datetime
) -> Audience:
    """How many customers a send to the segment would reach now (before the checks)."""
    found = segments.members(
        session, store, workspace_id=workspace_id, segment_id=segment_id, now=now
    )
    return Audience(segment_id=segment_id, members=len(found))


def send_to_segment(
    session: Session,
    store: EventStore,
    *,
    survey: Survey,
    segment_id: str,
    channel: str,
    now: datetime,
    fatigue_days: float = 30.0,
    consent_purpose: str | None = "surveys",
    require_consent: bool = False,
) -> SendReport:
    """Queue one invitation job per member of the segment; the scheduler decides each one."""
    check_channel(channel)
    if survey.status != "active":
        raise ValidationFailed(
            "survey_id: the survey is archived; activate it first", field="status"
        )
    policy = SendPolicy(
        topic="survey",
        fatigue_days=fatigue_days,
        consent_purpose=consent_purpose or None,
        require_consent=require_consent,
    )
    members = segments.members(
        session, store, workspace_id=survey.workspace_id, segment_id=segment_id, now=now
    )
    if not members:
        raise ValidationFailed("segment_id: the segment has no members now", field="segment_id")
    if len(members) > MAX_SEND:
        raise ValidationFailed(
            f"segment_id: {len(members)} members; one send reaches at most {MAX_SEND}",
            field="segment_id",
        )
    send_id = "snd_" + secrets.token_hex(8)
    prefix = send_prefix(survey.id, send_id)
    for profile_id in sorted(members):
        orchestration.enqueue_message(
            session,
            workspace_id=survey.workspace_id,
            action=ACTION,
            channel=channel,
            payload={"params": {"survey_id": survey.id}, "segment_id": segment_id},
            policy=policy,
            key=prefix + profile_id,
            due_at=now,
            profile_id=profile_id,
        )
    return SendReport(send_id=send_id, total=len(members), waiting=len(members))


def send_report(session: Session, *, survey: Survey, send_id: str) -> SendReport:
    """The outcome so far of one send, from its jobs; 404 naming ``send_id`` when unknown."""
    counts = orchestration.outcome_counts(
        session, survey.workspace_id, send_prefix(survey.id, send_id[:40])
    )
    if not counts:
        raise NotFound(f"send_id: no send {send_id[:40]!r} of this survey", field="send_id")
    report = SendReport(send_id=send_id, total=sum(counts.values()))
    for (status, reason), n in counts.items():
        if status == "done":
            report.sent += n
        elif status == "skipped":
            key = reason or "error"
            report.skipped[key] = report.skipped.get(key, 0) + n
        elif status in ("failed", "uncertain"):
            report.failed += n
        else:
            report.waiting += n
    return report


def wake_after_commit(session: Session, wake: Callable[[], None]) -> None:
    """Wake the scheduler once the send's jobs are committed (it would find them within its
    interval anyway; this makes the first ones go at once)."""
    orm_event.listen(session, "after_commit", lambda _s: wake(), once=True)
