"""Privacy requests for the identity graph: the person's profiles, identities, traits, consent,
household memberships and merges. Erased last of all domains (others find the person here)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from safar.identity import repository
from safar.identity.service import person_profile_ids
from safar.kit.container import Container


class IdentityPrivacy:
    def _profiles(self, session: Session, workspace_id: str, profile_id: str) -> list[str]:
        return person_profile_ids(session, workspace_id=workspace_id, profile_id=profile_id)

    def export(
        self, session: Session, container: Container[Any], *, workspace_id: str, profile_id: str
    ) -> dict[str, Any]:
        ids = self._profiles(session, workspace_id, profile_id)
        return repository.person_rows(session, workspace_id=workspace_id, profile_ids=ids)

    def erase(
        self, session: Session, container: Container[Any], *, workspace_id: str, profile_id: str
    ) -> int:
        ids = self._profiles(session, workspace_id, profile_id)
        return repository.erase_person(session, workspace_id=workspace_id, profile_ids=ids)


handler = IdentityPrivacy()
