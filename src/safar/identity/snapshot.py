"""The identity graph as analytics copy it into the event store: a fingerprint that changes
whenever the graph does, the identifier -> profile rows, and the copy itself (the event
store's ``identity_map``, which journeys and segments join to find an event's customer).
The queries live in the repository; this is the facade other domains call."""

from __future__ import annotations

import threading

import pyarrow as pa
from sqlalchemy.orm import Session

from safar.events.store import EventStore, analytics
from safar.identity.repository import EVENT_ID_TYPES, graph_version, identifier_rows

__all__ = ["EVENT_ID_TYPES", "graph_version", "identifier_rows", "refresh_identity_map"]

#: The copy is a delete then an insert: two threads copying at once (a dashboard request and
#: the segment refresh task) would otherwise interleave them and leave every row twice.
_COPYING = threading.Lock()


def refresh_identity_map(
    session: Session, store: EventStore, *, workspace_id: str, force: bool = False
) -> int | None:
    """Replace the workspace's rows of ``identity_map`` with the state store's; return rows.

    Returns None (and copies nothing) when the identity graph is unchanged since the last copy,
    unless ``force``.
    """
    analytics.check_workspace_id(workspace_id)
    analytics.ensure_identity_map(store)
    version = graph_version(session, workspace_id)
    with _COPYING:
        if not force and analytics.identity_map_version(store, workspace_id) == version:
            return None
        rows = identifier_rows(session, workspace_id)
        table = pa.table(
            {
                "id_type": pa.array([r[0] for r in rows], pa.string()),
                "id_value": pa.array([r[1] for r in rows], pa.string()),
                "profile_id": pa.array([r[2] for r in rows], pa.string()),
            }
        )
        analytics.replace_identity_map(store, workspace_id, table, version)
    return len(rows)
