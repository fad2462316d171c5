"""Privacy requests for text analytics: the analyses of the texts a person sent, and readers'
corrections of their labels (``text_feedback``).

Analyses live in the event store keyed by message id, so the person's events are listed first
(through the identity facade and the store's timeline), before identity erases the graph.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from safar.events.store import EventStore, TimelineQuery
from safar.identity.service import timeline_ids
from safar.kit.container import Container
from safar.text import repository

PAGE = 1000


def export_columns(rows: list[Any]) -> list[dict[str, Any]]:
    """Corrections as plain data (the shape of a privacy export)."""
    keys = ("message_id", "field", "old_label", "new_label", "user", "at")
    return [{k: getattr(r, k) for k in keys} for r in rows]


def message_ids(
    session: Session, store: EventStore, *, workspace_id: str, profile_id: str
) -> list[str]:
    """Every stored event's message id that belongs to the person."""
    _, user_ids, anonymous_ids = timeline_ids(
        session, workspace_id=workspace_id, profile_id=profile_id
    )
    out: list[str] = []
    cursor: str | None = None
    while True:
        q = TimelineQuery(workspace_id, user_ids, anonymous_ids, limit=PAGE, cursor=cursor)
        rows, cursor = store.timeline(q)
        out += [str(r["message_id"]) for r in rows]
        if cursor is None:
            return out


class TextPrivacy:
    def export(
        self,
        session: Session,
        container: Container[EventStore],
        *,
        workspace_id: str,
        profile_id: str,
    ) -> dict[str, Any]:
        store = container.store
        ids = message_ids(session, store, workspace_id=workspace_id, profile_id=profile_id)
        found = repository.analyses_for(store, workspace_id, ids)
        corrected = repository.feedback(session).history(workspace_id, ids)
        return {
            "analyses": [found[m] for m in ids if m in found],
            "feedback": export_columns(corrected),
        }

    def erase(
        self,
        session: Session,
        container: Container[EventStore],
        *,
        workspace_id: str,
        profile_id: str,
    ) -> int:
        store = container.store
        ids = message_ids(session, store, workspace_id=workspace_id, profile_id=profile_id)
        corrected = repository.feedback(session).erase(workspace_id, ids)
        return corrected + repository.erase_analyses(store, workspace_id, ids)


handler = TextPrivacy()
