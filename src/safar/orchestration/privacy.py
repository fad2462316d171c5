"""Privacy requests for orchestration: the jobs run about a person and the contacts made.

Jobs not yet claimed carry only the triggering event (no profile yet); they are found by the
profile once claimed, and a claimed job for an erased person finds no profile and is skipped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from safar.identity.service import person_profile_ids
from safar.kit.container import Container
from safar.orchestration import repository


class OrchestrationPrivacy:
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


handler = OrchestrationPrivacy()
