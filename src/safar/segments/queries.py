"""Event-history conditions as query objects (``kit.query``), SQL for DuckDB and ClickHouse.

The engine counts each customer's events of one name in a window, joining ``identity_map``
(bulk: every customer of the workspace) or filtering by one profile's own user and anonymous
ids (``profile_matches``: only that profile's rows are read). Property conditions (``where``)
are not translated into SQL: the engine returns the matching events' properties and
``kit.conditions.matches`` decides, so a segment means exactly what a trigger or a branch with
the same condition means (case-insensitive text, "5" equal to 5, ISO dates) on both engines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from safar.kit.conditions import PropertyCondition, matches
from safar.kit.query import Dialect, Query, Rendered
from safar.kit.query import param as p


@dataclass(frozen=True)
class OneProfile:
    """Count only the events carrying these identifiers (one profile's)."""

    profile_id: str
    user_ids: tuple[str, ...]
    anonymous_ids: tuple[str, ...]


@dataclass(frozen=True)
class EventHistoryQuery(Query[dict[str, int]]):
    """Events named ``event`` with ``since_us <= time <= until_us``, counted per profile."""

    workspace_id: str
    event: str
    until_us: int
    since_us: int | None = None
    where: tuple[PropertyCondition, ...] = ()
    profile: OneProfile | None = None
    db: str = "safar"

    def render(self, d: Dialect) -> Rendered:
        duck = d == "duckdb"
        events = "events" if duck else f"{self.db}.events"
        ts = "epoch_us(e.timestamp)" if duck else "toUnixTimestamp64Micro(e.timestamp)"
        params: dict[str, Any] = {
            "ws": self.workspace_id,
            "event": self.event,
            "until": self.until_us,
        }
        where = [
            f"e.workspace_id = {p(d, 'ws', 'String')}",
            f"coalesce(e.event, e.name, e.type) = {p(d, 'event', 'String')}",
            f"{ts} <= {p(d, 'until', 'Int64')}",
        ]
        if self.since_us is not None:
            where.append(f"{ts} >= {p(d, 'since', 'Int64')}")
            params["since"] = self.since_us
        value = "e.properties AS properties" if self.where else "count(*) AS n"
        if self.profile is None:
            imap = "identity_map" if duck else f"{self.db}.identity_map"
            id_type = (
                "CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END"
                if duck
                else "if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id')"
            )
            source = (
                f"{events} AS e INNER JOIN (SELECT id_type, id_value, profile_id FROM {imap} "
                f"WHERE workspace_id = {p(d, 'ws', 'String')}) AS m "
                f"ON m.id_type = {id_type} AND m.id_value = coalesce(e.user_id, e.anonymous_id)"
            )
            who = "m.profile_id"
        else:
            source = f"{events} AS e"
            params["pid"] = self.profile.profile_id
            params["uids"] = list(self.profile.user_ids)
            params["aids"] = list(self.profile.anonymous_ids)
            uids = p(d, "uids", "Array(String)")
            aids = p(d, "aids", "Array(String)")
            where.append(
                f"((e.user_id IS NOT NULL AND {_contains(d, uids, 'e.user_id')}) OR "
                f"(e.user_id IS NULL AND e.anonymous_id IS NOT NULL "
                f"AND {_contains(d, aids, 'e.anonymous_id')}))"
            )
            who = p(d, "pid", "String")
        sql = f"SELECT {who} AS profile_id, {value} FROM {source} WHERE {' AND '.join(where)}"
        if not self.where and self.profile is None:
            sql += " GROUP BY m.profile_id"
        return Rendered(sql, params)

    def shape(self, names: list[str], rows: list[tuple[Any, ...]]) -> dict[str, int]:
        counts: dict[str, int] = {}
        if not self.where:
            for pid, n in rows:
                if pid is not None and n:
                    counts[str(pid)] = int(n)
            return counts
        conds = list(self.where)
        for pid, raw in rows:
            if pid is None:
                continue
            props = _properties(raw)
            if matches(conds, props):
                counts[str(pid)] = counts.get(str(pid), 0) + 1
        return counts


def _contains(d: Dialect, array: str, column: str) -> str:
    """``column`` (not NULL) is an element of the bound ``array``."""
    if d == "duckdb":
        return f"list_contains({array}, {column})"
    return f"has({array}, assumeNotNull({column}))"


def _properties(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
