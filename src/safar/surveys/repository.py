"""Queries of the survey tables that privacy requests need (the rest still live in service)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from safar.surveys.models import Invitation, SurveyResponse


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
