"""Bulk reads the resolver makes before it changes anything: identities and applied messages.

One statement per identifier type (or per few hundred values) instead of one per message: a
batch of thousands of events costs a handful of round trips.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, select

from safar.events.rows import EventRow
from safar.identity.models import ConsentRecord, Identity, TraitValue

CHUNK = 400
_PREFETCH_SQL = {
    "sqlite": "SELECT id, value, profile_id FROM identities WHERE workspace_id = ? AND type = ? "
    "AND value IN (SELECT value FROM json_each(?))",
    "postgresql": "SELECT id, value, profile_id FROM identities WHERE workspace_id = %s "
    "AND type = %s AND value = ANY(%s)",
}


@dataclass(slots=True)
class Ref:
    """What the resolver needs of an identity; cheaper than an ORM object by a wide margin."""

    id: int
    type: str
    value: str
    profile_id: str


def prefetch(
    conn: Connection, workspace_id: str, keys_per_row: list[list[tuple[str, str]]]
) -> dict[tuple[str, str], Ref]:
    """Every known identity the rows mention, by (type, value) so the unique index serves."""
    by_type: dict[str, set[str]] = defaultdict(set)
    for keys in keys_per_row:
        for t, v in keys:
            by_type[t].add(v)
    refs: dict[tuple[str, str], Ref] = {}
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        # One statement per identifier type with the values as one array parameter: the
        # expanded IN lists SQLAlchemy renders per execution cost more than the lookups.
        sql = _PREFETCH_SQL[dialect]
        for t, value_set in by_type.items():
            values = sorted(value_set)
            arg = orjson.dumps(values).decode() if dialect == "sqlite" else values
            for iid, v, pid in conn.exec_driver_sql(sql, (workspace_id, t, arg)).fetchall():
                refs[(t, v)] = Ref(iid, t, v, pid)
        return refs
    cols = (Identity.id, Identity.value, Identity.profile_id)
    for t, value_set in by_type.items():
        values = sorted(value_set)
        for i in range(0, len(values), CHUNK):
            stmt = select(*cols).where(
                Identity.workspace_id == workspace_id,
                Identity.type == t,
                Identity.value.in_(values[i : i + CHUNK]),
            )
            for iid, v, pid in conn.execute(stmt):
                refs[(t, v)] = Ref(iid, t, v, pid)
    return refs


def already_applied(conn: Connection, workspace_id: str, rows: list[EventRow]) -> set[str]:
    """Message ids whose traits or consent are already stored: a replay after a crash."""
    ids = [r["message_id"] for r in rows if r["type"] != "track" or r.get("traits")]
    consent_ids = [r["message_id"] for r in rows if (r.get("context") or {}).get("consent")]
    found: set[str] = set()
    for model, wanted in ((TraitValue, ids), (ConsentRecord, consent_ids)):
        for i in range(0, len(wanted), CHUNK):
            stmt = select(model.message_id).where(
                model.workspace_id == workspace_id, model.message_id.in_(wanted[i : i + CHUNK])
            )
            found.update(m for m in conn.scalars(stmt) if m)
    return found
