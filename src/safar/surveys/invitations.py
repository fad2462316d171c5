"""Survey invitations: who is asked, in which language, and opening the signed link.

An invitation is one person's right to answer one survey once, through one channel, until it
expires; the link carries only its signed id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from safar.errors import ValidationFailed
from safar.identity.service import current_traits, identities_of, resolve_profile_id
from safar.surveys.models import Invitation, Survey, SurveyResponse
from safar.surveys.repository import InvitationRepository, ResponseRepository, SurveyRepository
from safar.surveys.schemas import SurveyDefinition
from safar.surveys.tokens import LinkExpired, LinkForged, LinkSigner, LinkUsed


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def local_day(now: datetime, tz: str) -> Any:
    """The calendar day of ``now`` where the workspace lives (reports group by it)."""
    return now.astimezone(ZoneInfo(tz)).date()


def definition_of(survey: Survey) -> SurveyDefinition:
    return SurveyDefinition.model_validate(survey.definition)


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
    # Oldest first, so the newest identifier of each type wins.
    known = identities_of(session, pid)
    idents = {i.type: i.value for i in known}
    traits = current_traits(session, [i.id for i in known])
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
    token = signer.sign(invitation.id, at=invitation.created_at)
    return token, f"{base_url}/s/{token}"


def pending_invitations(
    session: Session, *, workspace_id: str, profile_id: str, now: datetime
) -> list[Invitation]:
    pid = resolve_profile_id(session, workspace_id=workspace_id, profile_id=profile_id)
    return InvitationRepository(session).pending_for(workspace_id, pid, now)


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
    invitation = InvitationRepository(session).by_link(invitation_id)
    if invitation is None:
        raise LinkForged("token: this survey link is not valid", field="token")
    if invitation.status == "completed":
        raise LinkUsed("token: this survey has already been answered", field="token")
    if invitation.expires_at <= now:
        raise LinkExpired("token: this survey link has expired", field="token")
    survey = SurveyRepository(session).get(invitation.workspace_id, invitation.survey_id)
    if survey is None or survey.status != "active":
        raise LinkExpired("token: this survey is closed", field="token")
    if mark_opened and invitation.opened_at is None:
        invitation.opened_at = now
        if invitation.status in ("created", "sent"):
            invitation.status = "opened"
    response = ResponseRepository(session).of_invitation(invitation.workspace_id, invitation.id)
    return Opened(invitation, survey, definition_of(survey), response)
