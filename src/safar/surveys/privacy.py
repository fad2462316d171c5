"""Privacy requests for surveys: the invitations a person received and the answers they gave."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from safar.identity.service import person_profile_ids
from safar.kit.container import Container
from safar.surveys import repository


class SurveyPrivacy:
    def export(
        self, session: Session, container: Container[Any], *, workspace_id: str, profile_id: str
    ) -> dict[str, Any]:
        ids = person_profile_ids(session, workspace_id=workspace_id, profile_id=profile_id)
        return repository.person_rows(session, workspace_id=workspace_id, profile_ids=ids)

    def erase(
        self, session: Session, container: Container[Any], *, workspace_id: str, profile_id: str
    ) -> int:
        ids = person_profile_ids(session, workspace_id=workspace_id, profile_id=profile_id)
        return repository.erase_person(session, workspace_id=workspace_id, profile_ids=ids)


handler = SurveyPrivacy()
