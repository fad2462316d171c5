"""Journey analyses on a workspace's stored events: identity map refresh, then the engine runs.

The event store knows identifiers, the state store knows which profile owns them. Before an
analysis per customer, ``refresh_identity_map`` copies the current ``user_id`` and
``anonymous_id`` owners of the workspace into the event store's ``identity_map`` table, so the
engine can resolve each event's customer itself (merges and unmerges show up at the next
refresh; events are never rewritten).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from safar.errors import ValidationFailed
from safar.events.store import EventStore
from safar.identity.models import Identity
from safar.journeys import analysis
from safar.journeys import queries as q

_SAFE_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def _db(store: EventStore) -> str:
    return str(getattr(store, "db", "safar"))


def _dialect(store: EventStore) -> q.Dialect:
    return "duckdb" if store.engine_name == "duckdb" else "clickhouse"


def ensure_identity_map(store: EventStore) -> None:
    """Create the ``identity_map`` table in the event store if it is missing."""
    store.command(q.IDENTITY_MAP_DDL[_dialect(store)].format(db=_db(store)))


def refresh_identity_map(session: Session, store: EventStore, *, workspace_id: str) -> int:
    """Replace the workspace's rows of ``identity_map`` with the state store's; return rows."""
    if not _SAFE_ID.match(workspace_id):
        raise ValidationFailed("workspace_id: not a workspace id", field="workspace_id")
    ensure_identity_map(store)
    rows = session.execute(
        select(Identity.type, Identity.value, Identity.profile_id).where(
            Identity.workspace_id == workspace_id,
            Identity.type.in_(["user_id", "anonymous_id"]),
        )
    ).all()
    store.command(q.identity_map_delete(_dialect(store), _db(store), workspace_id))
    if rows:
        table = pa.table(
            {
                "workspace_id": pa.array([workspace_id] * len(rows), pa.string()),
                "id_type": pa.array([r[0] for r in rows], pa.string()),
                "id_value": pa.array([r[1] for r in rows], pa.string()),
                "profile_id": pa.array([r[2] for r in rows], pa.string()),
            }
        )
        store.insert_arrow("identity_map", table)
    return len(rows)


def _us(dt: datetime | None) -> int | None:
    return None if dt is None else int(dt.timestamp() * 1_000_000)


def source(
    store: EventStore,
    *,
    workspace_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    activities: list[str] | None = None,
    details: bool = False,
) -> q.Source:
    """The workspace's events as a case source (customer = resolved profile)."""
    if since and until and since >= until:
        raise ValidationFailed("since: must be before until (empty window)", field="since")
    return q.events_source(
        _dialect(store),
        db=_db(store),
        workspace_id=workspace_id,
        since_us=_us(since),
        until_us=_us(until),
        activities=activities,
        details=details,
    )


def _prepare(session: Session, store: EventStore, workspace_id: str) -> None:
    refresh_identity_map(session, store, workspace_id=workspace_id)


def discover(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    top_variants: int | None = None,
    min_frequency: int = 1,
) -> analysis.Discovery:
    _prepare(session, store, workspace_id)
    src = source(store, workspace_id=workspace_id, since=since, until=until)
    _require_events(store, src)
    return analysis.discover(store, src, top_variants=top_variants, min_frequency=min_frequency)


def _require_events(store: EventStore, src: q.Source) -> None:
    _, rows = store.query(f"SELECT count(*) FROM ({src.sql}) AS s", src.params)
    if not rows or not rows[0][0]:
        raise ValidationFailed(
            "since: there are no events of identified customers in the chosen period",
            field="since",
        )


def funnel(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    steps: list[str],
    window_seconds: float,
    since: datetime | None = None,
    until: datetime | None = None,
    dropped_limit: int = 0,
) -> analysis.Funnel:
    _prepare(session, store, workspace_id)
    src = source(store, workspace_id=workspace_id, since=since, until=until)
    return analysis.funnel(
        store, src, steps, window_seconds=window_seconds, dropped_limit=dropped_limit
    )


def paths(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    anchor: str,
    direction: Literal["after", "before"] = "after",
    depth: int = 3,
    top: int = 10,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    _prepare(session, store, workspace_id)
    src = source(store, workspace_id=workspace_id, since=since, until=until)
    return analysis.paths(store, src, anchor=anchor, direction=direction, depth=depth, top=top)


def customer_table(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    target_event: str,
    target_property: str,
    max_events: int = 25,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pa.Table:
    """One row per scored customer: ``__score`` and touchpoint counts before the last score.

    Factors are the numbers of events of each kind (the ``max_events`` most common) and of
    contacts per channel; customers without a numeric score are left out.
    """
    _prepare(session, store, workspace_id)
    src = source(store, workspace_id=workspace_id, since=since, until=until, details=True)
    d = _dialect(store)
    params = {**src.params, "tev": target_event, "prop": target_property}
    _, scores = store.query(q.customer_scores_sql(d, src), params)
    if not scores:
        raise ValidationFailed(
            f"target_property: no {target_event!r} events carry a numeric {target_property!r}",
            field="target_property",
        )
    _, touch = store.query(q.customer_touchpoints_sql(d, src), params)
    index = {r[0]: i for i, r in enumerate(scores)}
    totals: dict[str, int] = {}
    for _, act, _, n in touch:
        totals[act] = totals.get(act, 0) + int(n)
    kept = sorted(totals, key=lambda a: (-totals[a], a))[:max_events]
    channels = sorted({r[2] for r in touch})
    cols: dict[str, list[float]] = {f"{a} (events)": [0.0] * len(scores) for a in kept}
    cols.update({f"{c} contacts": [0.0] * len(scores) for c in channels})
    for case_id, act, chan, n in touch:
        i = index[case_id]
        if f"{act} (events)" in cols:
            cols[f"{act} (events)"][i] += n
        cols[f"{chan} contacts"][i] += n
    return pa.table({"__score": [float(r[1]) for r in scores], **cols})
