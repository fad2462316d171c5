"""Privacy requests, domain by domain: export and erase what one domain holds about a person.

A request about a profile asks every domain's handler in turn (``safar.domains.DOMAINS``), in
one unit of work, so an erasure either removes the person from every state-store table or from
none. Handlers take the container for the parts outside the state store (the event store).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from safar.kit.container import Container


class PrivacyHandler(Protocol):
    def export(
        self, session: Session, container: Container[Any], *, workspace_id: str, profile_id: str
    ) -> dict[str, Any]:
        """Everything the domain holds about the profile, as JSON-ready data."""
        ...

    def erase(
        self, session: Session, container: Container[Any], *, workspace_id: str, profile_id: str
    ) -> int:
        """Delete (or anonymise) what the domain holds about the profile; return rows touched."""
        ...


@dataclass(frozen=True)
class ProfileRows:
    """The handler of a domain whose rows hang off profile ids: find every profile of the
    person (merged-away ones included), then export or delete the domain's rows about them."""

    #: ``(session, *, workspace_id, profile_id) -> profile ids`` (identity's facade).
    profiles: Callable[..., list[str]]
    #: ``(session, *, workspace_id, profile_ids) -> rows by table``.
    rows: Callable[..., dict[str, Any]]
    #: ``(session, *, workspace_id, profile_ids) -> rows deleted``.
    delete: Callable[..., int]

    def export(
        self, session: Session, container: Container[Any], *, workspace_id: str, profile_id: str
    ) -> dict[str, Any]:
        ids = self.profiles(session, workspace_id=workspace_id, profile_id=profile_id)
        return self.rows(session, workspace_id=workspace_id, profile_ids=ids)

    def erase(
        self, session: Session, container: Container[Any], *, workspace_id: str, profile_id: str
    ) -> int:
        ids = self.profiles(session, workspace_id=workspace_id, profile_id=profile_id)
        return self.delete(session, workspace_id=workspace_id, profile_ids=ids)
