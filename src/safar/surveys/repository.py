"""Queries of the survey tables, scoped by the kit's base (the metric queries stay in metrics.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safar.kit.repository import WorkspaceRepository, delete_rows, export_rows
from safar.surveys.models import Invitation, Survey, SurveyResponse


class SurveyRepository(WorkspaceRepository[Survey]):
    model = Survey

    def ordered(self, workspace_id: str) -> list[Survey]:
        return self.list(workspace_id, order_by=[Survey.created_at])


class InvitationRepository(WorkspaceRepository[Invitation]):
    model = Invitation

    def of_job(self, workspace_id: str, job_id: int) -> Invitation | None:
        """The invitation a scheduled job sent."""
        return self.session.scalar(self.scoped(workspace_id).where(Invitation.job_id == job_id))

    def by_link(self, invitation_id: str) -> Invitation | None:
        """The invitation a verified survey link names: the signature is the authority, so no
        workspace is known yet (the link's holder is the respondent, not a key)."""
        return self.session.get(Invitation, invitation_id)

    def made(self, workspace_id: str, survey_id: str) -> list[tuple[str | None, datetime]]:
        """(user id, created at) of every invitation to the survey: how a loader of historical
        invitations (the demo) recognises the ones an earlier run already made."""
        stmt = select(Invitation.user_id, Invitation.created_at).where(
            Invitation.workspace_id == workspace_id, Invitation.survey_id == survey_id
        )
        return [(u, t) for u, t in self.session.execute(stmt)]

    def pending_for(self, workspace_id: str, profile_id: str, now: datetime) -> list[Invitation]:
        """The profile's unexpired, unanswered invitations to answer in the app or on the web."""
        return self.list(
            workspace_id,
            Invitation.profile_id == profile_id,
            Invitation.channel.in_(["app", "web"]),
            Invitation.status.in_(["created", "sent", "opened"]),
            Invitation.expires_at > now,
            order_by=[Invitation.created_at.desc()],
        )


class ResponseRepository(WorkspaceRepository[SurveyResponse]):
    model = SurveyResponse

    def of_invitation(self, workspace_id: str, invitation_id: str) -> SurveyResponse | None:
        stmt = self.scoped(workspace_id).where(SurveyResponse.invitation_id == invitation_id)
        return self.session.scalar(stmt)

    def recent(
        self,
        workspace_id: str,
        *,
        survey_id: str | None,
        complete: bool | None,
        limit: int,
        offset: int,
    ) -> list[SurveyResponse]:
        """Newest first, optionally of one survey and one completeness."""
        stmt = self.scoped(workspace_id)
        if survey_id:
            stmt = stmt.where(SurveyResponse.survey_id == survey_id)
        if complete is not None:
            stmt = stmt.where(SurveyResponse.complete.is_(complete))
        stmt = stmt.order_by(SurveyResponse.started_at.desc()).limit(limit).offset(offset)
        return list(self.session.scalars(stmt))

    def latest_scored(
        self, workspace_id: str, profile_ids: list[str], column: str
    ) -> tuple[SurveyResponse, str] | None:
        """The newest response of these profiles with a ``column`` score, and its survey's name."""
        score = getattr(SurveyResponse, column)
        stmt = (
            self.scoped(workspace_id)
            .add_columns(Survey.name)
            .join(Survey, Survey.id == SurveyResponse.survey_id)
            .where(SurveyResponse.profile_id.in_(profile_ids), score.is_not(None))
            .order_by(SurveyResponse.updated_at.desc(), SurveyResponse.id.desc())
            .limit(1)
        )
        row = self.session.execute(stmt).first()
        return None if row is None else (row[0], row[1])

    def advance(self, response: SurveyResponse, state: dict[str, Any], *, current: int) -> bool:
        """Set the next step and ``state`` only if the response is still at ``current``: of two
        concurrent submits of one step, exactly one wins."""
        moved = self.session.execute(
            update(SurveyResponse)
            .where(
                SurveyResponse.workspace_id == response.workspace_id,
                SurveyResponse.id == response.id,
                SurveyResponse.step == current,
            )
            .values(step=current + 1, **state)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(moved, "rowcount", 0) == 1)


def person_rows(session: Session, *, workspace_id: str, profile_ids: list[str]) -> dict[str, Any]:
    """The invitations sent to these profiles and the answers they gave."""
    return {
        name: export_rows(session, model, workspace_id, model.profile_id.in_(profile_ids))
        for name, model in (("invitations", Invitation), ("responses", SurveyResponse))
    }


def erase_person(session: Session, *, workspace_id: str, profile_ids: list[str]) -> int:
    """Delete the profiles' answers, then their invitations; return how many rows went."""
    return sum(
        delete_rows(session, model, workspace_id, model.profile_id.in_(profile_ids))
        for model in (SurveyResponse, Invitation)
    )
