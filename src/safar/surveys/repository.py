"""Queries of the survey tables, scoped by the kit's base (more move here from service.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from safar.kit.repository import WorkspaceRepository
from safar.surveys.models import Invitation, Survey, SurveyResponse


class SurveyRepository(WorkspaceRepository[Survey]):
    model = Survey


class InvitationRepository(WorkspaceRepository[Invitation]):
    model = Invitation

    def of_job(self, workspace_id: str, job_id: int) -> Invitation | None:
        """The invitation a scheduled job sent."""
        return self.session.scalar(self.scoped(workspace_id).where(Invitation.job_id == job_id))

    def by_link(self, invitation_id: str) -> Invitation | None:
        """The invitation a verified survey link names: the signature is the authority, so no
        workspace is known yet (the link's holder is the respondent, not a key)."""
        return self.session.get(Invitation, invitation_id)


def _plain(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key != "workspace_id"}


def person_rows(session: Session, *, workspace_id: str, profile_ids: list[str]) -> dict[str, Any]:
    """The invitations sent to these profiles and the answers they gave."""
    out: dict[str, Any] = {}
    for name, model in (("invitations", Invitation), ("responses", SurveyResponse)):
        stmt = select(model).where(
            model.workspace_id == workspace_id, model.profile_id.in_(profile_ids)
        )
        out[name] = [_plain(r) for r in session.scalars(stmt)]
    return out


def erase_person(session: Session, *, workspace_id: str, profile_ids: list[str]) -> int:
    """Delete the profiles' answers, then their invitations; return how many rows went."""
    total = 0
    for model in (SurveyResponse, Invitation):
        stmt = delete(model).where(
            model.workspace_id == workspace_id, model.profile_id.in_(profile_ids)
        )
        result: Any = session.execute(stmt)
        total += int(result.rowcount or 0)
    return total
