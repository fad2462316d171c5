"""A profile's omnichannel timeline: the identifiers it owns, then its events, newest first.

Identity is resolved at read time (docs/architecture.md): a profile's timeline is every event
whose ``user_id`` it owns, or, for events without one, whose ``anonymous_id`` it owns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from safar.events.store import EventStore, TimelineQuery
from safar.identity.repository import event_identifiers, resolve_profile_id


def timeline_ids(
    session: Session, *, workspace_id: str, profile_id: str
) -> tuple[str, list[str], list[str]]:
    """The (canonical profile id, user ids, anonymous ids) a timeline query needs."""
    pid = resolve_profile_id(session, workspace_id=workspace_id, profile_id=profile_id)
    rows = event_identifiers(session, pid)
    return (
        pid,
        [v for t, v in rows if t == "user_id"],
        [v for t, v in rows if t == "anonymous_id"],
    )


def timeline(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    profile_id: str,
    channels: list[str] | None = None,
    types: list[str] | None = None,
    events: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[str, list[dict[str, Any]], str | None]:
    """A profile's events, newest first: (canonical profile id, rows, next cursor).

    The one assembly of a timeline query, for the API and the customer page alike.
    """
    pid, uids, aids = timeline_ids(session, workspace_id=workspace_id, profile_id=profile_id)
    rows, next_cursor = store.timeline(
        TimelineQuery(
            workspace_id=workspace_id, user_ids=uids, anonymous_ids=aids,
            channels=channels or [], types=types or [], events=events or [], since=since,
            until=until, limit=limit, cursor=cursor,
        )
    )  # fmt: skip
    return pid, rows, next_cursor
