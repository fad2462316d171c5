"""The person a journey instance is about, as the runtime needs them at each step.

Profiles merge while instances wait; the instance's profile id is resolved to the survivor
every time, so facts, branch decisions and sends follow the person, not a stale id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from safar.flows.interpreter import Facts
from safar.identity.service import (
    PersonRecord,
    current_traits,
    identities_of,
    people,
    resolve_profile_id,
)


@dataclass(slots=True)
class Person:
    profile_id: str
    traits: dict[str, Any] = field(default_factory=dict)
    user_id: str | None = None
    anonymous_id: str | None = None

    def tz(self, default: str) -> str:
        value = self.traits.get("timezone")
        if isinstance(value, str) and value:
            try:
                ZoneInfo(value)
                return value
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return default

    @property
    def language(self) -> str:
        for key in ("language", "locale"):
            value = str(self.traits.get(key) or "").lower()
            if value.startswith(("fa", "per")):
                return "fa"
            if value.startswith("en"):
                return "en"
        return "fa"

    def facts(self, now: datetime, default_tz: str) -> Facts:
        return Facts(now=now, tz=self.tz(default_tz), language=self.language, traits=self.traits)

    def identifiers(self) -> dict[str, str]:
        """The ids an event about this person is stored under (user id first)."""
        if self.user_id:
            return {"userId": self.user_id}
        return {"anonymousId": self.anonymous_id or self.profile_id}


def person(session: Session, *, workspace_id: str, profile_id: str) -> Person:
    pid = resolve_profile_id(session, workspace_id=workspace_id, profile_id=profile_id)
    idents = identities_of(session, pid)
    return Person(
        profile_id=pid,
        traits=current_traits(session, [i.id for i in idents]),
        user_id=next((i.value for i in idents if i.type == "user_id"), None),
        anonymous_id=next((i.value for i in idents if i.type == "anonymous_id"), None),
    )


def _of_record(record: PersonRecord) -> Person:
    ids = record.identifiers
    return Person(
        profile_id=record.profile_id,
        traits=dict(record.traits),
        user_id=next((v for t, v in ids if t == "user_id"), None),
        anonymous_id=next((v for t, v in ids if t == "anonymous_id"), None),
    )


def persons(
    session: Session, *, workspace_id: str, profile_ids: list[str]
) -> dict[str, tuple[Person, list[str]]]:
    """``person`` for many profiles at once (the worker's batches), with every profile id of
    each person (more than one after a merge); keyed by the profile id asked for."""
    found = people(session, workspace_id=workspace_id, profile_ids=profile_ids)
    return {pid: (_of_record(r), list(r.profile_ids)) for pid, r in found.items()}
