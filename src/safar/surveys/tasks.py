"""Surveys as an orchestration action: compose the invitation a trigger asked for.

``SurveyAction`` is registered with the scheduler under the action name ``survey``; the
scheduler has already checked consent, fatigue, quiet hours and the contact budget when
``compose`` runs, with the params and policy of the trigger (or of a journey's message job).
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from sqlalchemy.orm import Session

from safar.db import utcnow
from safar.errors import ValidationFailed
from safar.orchestration.channels import OutboundMessage
from safar.orchestration.models import ScheduledJob
from safar.orchestration.policy import SendPolicy
from safar.orchestration.scheduler import Skip
from safar.orchestration.service import Recipient
from safar.surveys import service
from safar.surveys.models import Invitation, Survey
from safar.surveys.repository import InvitationRepository, SurveyRepository
from safar.surveys.tokens import LinkSigner

ACTION = "survey"


class SurveyAction:
    def __init__(
        self, signer: LinkSigner, base_url: str, env: Environment, tz: str = "Asia/Tehran"
    ) -> None:
        self.signer = signer
        self.base_url = base_url
        self.env = env
        self.tz = tz

    def validate(
        self, session: Session, *, workspace_id: str, params: dict[str, Any], policy: SendPolicy
    ) -> None:
        survey_id = params.get("survey_id")
        if not isinstance(survey_id, str):
            raise ValidationFailed("params.survey_id: required", field="params.survey_id")
        survey = SurveyRepository(session).get(workspace_id, survey_id)
        if survey is None:
            raise ValidationFailed(
                f"params.survey_id: unknown survey {survey_id[:60]!r}", field="params.survey_id"
            )

    def compose(
        self,
        session: Session,
        *,
        job: ScheduledJob,
        params: dict[str, Any],
        policy: SendPolicy,
        recipient: Recipient,
        address: str,
    ) -> OutboundMessage:
        survey_id = params.get("survey_id")
        survey = (
            SurveyRepository(session).get(job.workspace_id, survey_id)
            if isinstance(survey_id, str)
            else None
        )
        if survey is None or survey.status != "active":
            raise Skip("survey deleted or archived", reason="paused")
        traits = recipient.traits
        # A retry after a failed send resends the same invitation (one link per job).
        earlier = InvitationRepository(session).of_job(job.workspace_id, job.id)
        if earlier is not None:
            return self.message(survey, earlier, address, traits)
        payload = job.payload or {}
        invitation = service.create_invitation(
            session,
            survey=survey,
            channel=job.channel or "email",
            now=utcnow(),
            profile_id=recipient.profile_id,
            user_id=payload.get("user_id"),
            anonymous_id=payload.get("anonymous_id"),
            language=service.pick_language(
                survey, traits.get("language"), traits.get("locale"), payload.get("locale")
            ),
            touchpoint=(payload.get("properties") or {}).get("touchpoint"),
            segment=traits.get(survey.segment_trait) if survey.segment_trait else None,
            trigger_message_id=payload.get("message_id"),
            trigger_event=payload.get("event"),
            job_id=job.id,
            tz=self.tz,
        )
        return self.message(survey, invitation, address, traits)

    def message(
        self, survey: Survey, invitation: Invitation, address: str, traits: dict[str, Any]
    ) -> OutboundMessage:
        definition = service.definition_of(survey)
        lang = invitation.language
        _, url = service.link(self.signer, self.base_url, invitation)
        title = definition.title.get(lang)
        if invitation.channel == "sms":
            template = definition.sms_text.get(lang) if definition.sms_text else "{link}"
            return OutboundMessage("sms", address, template.replace("{link}", url), language=lang)
        if invitation.channel == "app":
            return OutboundMessage("app", address, url, subject=title, language=lang)
        if invitation.channel in ("telegram", "push"):
            text = f"{title}\n{url}"
            return OutboundMessage(invitation.channel, address, text, subject=title, language=lang)
        if invitation.channel == "webhook":
            data = {
                "type": "survey.invitation",
                "survey_id": survey.id,
                "invitation_id": invitation.id,
                "profile_id": invitation.profile_id,
                "language": lang,
                "title": title,
                "url": url,
            }
            return OutboundMessage(
                "webhook", address, url, subject="survey.invitation", language=lang, data=data
            )
        subject = definition.email_subject.get(lang) if definition.email_subject else title
        ctx = {
            "lang": lang,
            "title": title,
            "intro": definition.intro.get(lang) if definition.intro else "",
            "url": url,
            "name": traits.get("first_name") or traits.get("name") or "",
            "first": definition.questions[0].text.get(lang),
        }
        text = self.env.get_template("email.txt").render(ctx)
        html = self.env.get_template("email.html").render(ctx)
        return OutboundMessage("email", address, text, subject=subject, html=html, language=lang)

    def delivered(
        self, session: Session, *, job: ScheduledJob, ok: bool, result: dict[str, Any]
    ) -> None:
        invitation = InvitationRepository(session).of_job(job.workspace_id, job.id)
        if invitation is None:
            return
        if ok:
            invitation.status = "sent" if invitation.status == "created" else invitation.status
            invitation.sent_at = utcnow()
        else:
            invitation.status = "failed"
