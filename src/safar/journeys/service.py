"""Journey analyses on a workspace's stored events: identity map refresh, then the engine runs.

The event store knows identifiers, the state store knows which profile owns them. Before an
analysis per customer, ``refresh_identity_map`` copies the current ``user_id`` and
``anonymous_id`` owners of the workspace into the event store's ``identity_map`` table, so the
engine can resolve each event's customer itself (merges and unmerges show up at the next
refresh; events are never rewritten). The copy is skipped while the identity graph is
unchanged: its version (identities of those types: count and largest id; merges: count, undone
count, latest merge and unmerge times) is kept beside the map in ``identity_map_version``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safar.errors import ValidationFailed
from safar.events.store import EventStore
from safar.identity.models import Identity, Merge
from safar.journeys import analysis, funnels
from safar.journeys import queries as q
from safar.journeys.definitions import JourneyDefinition
from safar.journeys.personas import PersonaRule, by_rules, cluster, load_customers

_SAFE_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def _db(store: EventStore) -> str:
    return str(getattr(store, "db", "safar"))


def _dialect(store: EventStore) -> q.Dialect:
    return "duckdb" if store.engine_name == "duckdb" else "clickhouse"


def ensure_identity_map(store: EventStore) -> None:
    """Create the ``identity_map`` table in the event store if it is missing."""
    store.command(q.IDENTITY_MAP_DDL[_dialect(store)].format(db=_db(store)))
    store.command(q.IDENTITY_MAP_VERSION_DDL[_dialect(store)].format(db=_db(store)))


_ID_TYPES = ["user_id", "anonymous_id"]


def identity_version(session: Session, workspace_id: str) -> str:
    """A cheap fingerprint of the workspace's identity graph (changes on every identity added
    or removed, merge and unmerge)."""
    ident = session.execute(
        select(func.count(), func.max(Identity.id)).where(
            Identity.workspace_id == workspace_id, Identity.type.in_(_ID_TYPES)
        )
    ).one()
    merges = session.execute(
        select(
            func.count(), func.count(Merge.undone_at), func.max(Merge.created_at),
            func.max(Merge.undone_at),
        ).where(Merge.workspace_id == workspace_id)
    ).one()  # fmt: skip
    return json.dumps([*ident, *merges], default=str)


def refresh_identity_map(
    session: Session, store: EventStore, *, workspace_id: str, force: bool = False
) -> int | None:
    """Replace the workspace's rows of ``identity_map`` with the state store's; return rows.

    Returns None (and copies nothing) when the identity graph is unchanged since the last copy,
    unless ``force``.
    """
    if not _SAFE_ID.match(workspace_id):
        raise ValidationFailed("workspace_id: not a workspace id", field="workspace_id")
    ensure_identity_map(store)
    d, db = _dialect(store), _db(store)
    version = identity_version(session, workspace_id)
    _, seen = store.query(q.identity_map_version_sql(d, db), {"ws": workspace_id})
    if not force and seen and seen[0][0] == version:
        return None
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
    store.command(q.identity_map_version_delete(d, db, workspace_id))
    store.insert_arrow(
        "identity_map_version",
        pa.table({"workspace_id": [workspace_id], "version": [version]}),
    )
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
    max_variants: int | None = None,
) -> analysis.Discovery:
    _prepare(session, store, workspace_id)
    src = source(store, workspace_id=workspace_id, since=since, until=until)
    _require_events(store, src)
    return analysis.discover(
        store,
        src,
        top_variants=top_variants,
        min_frequency=min_frequency,
        max_variants=max_variants,
    )


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
    mode: str = "strict",
    breakdown: str | None = None,
    breakdown_limit: int = 5,
    personas: list[PersonaRule] | None = None,
) -> funnels.Funnel:
    """Strict- or any-order funnel of the workspace's customers, optionally broken down by
    ``channel``, ``persona`` (with ``personas`` rules), ``property:KEY`` or ``trait:KEY``."""
    bd = (
        funnels.Breakdown.parse(breakdown, personas=personas, limit=breakdown_limit)
        if breakdown
        else None
    )
    _prepare(session, store, workspace_id)
    src = source(store, workspace_id=workspace_id, since=since, until=until)
    sources = None
    if bd is not None:
        sources = funnels.BreakdownSources(
            details=source(
                store, workspace_id=workspace_id, since=since, until=until, details=True
            ),
            traits=source(store, workspace_id=workspace_id, until=until, details=True),
        )
    return funnels.funnel(
        store,
        src,
        steps,
        window_seconds=window_seconds,
        dropped_limit=dropped_limit,
        mode=mode,
        breakdown=bd,
        breakdown_sources=sources,
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


def has_text_analyses(store: EventStore) -> bool:
    """Whether the text-analysis table (sentiment per message) exists in the event store."""
    if store.engine_name == "duckdb":
        _, rows = store.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'text_analyses'"
        )
    else:
        _, rows = store.query(
            "SELECT count() FROM system.tables WHERE database = {db:String} "
            "AND name = 'text_analyses'",
            {"db": _db(store)},
        )
    return bool(rows and rows[0][0])


def journey_map(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    journey: JourneyDefinition,
    window_seconds: float = 30 * 86400,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Stages with KPIs and the emotion curve, the stage funnel, and conformance to the design.

    KPIs per stage: customers and events in it, share reaching the next designed stage after
    it, and the time until then (median, p90); satisfaction: NPS/CSAT/CES answers and text
    sentiment given while customers were in the stage.
    """
    _prepare(session, store, workspace_id)
    order = journey.order()
    with_text = has_text_analyses(store)
    d = _dialect(store)
    src = (
        source(store, workspace_id=workspace_id, since=since, until=until, details=True)
        if not with_text
        else q.events_source(
            d,
            db=_db(store),
            workspace_id=workspace_id,
            since_us=_us(since),
            until_us=_us(until),
            details=True,
            sentiment=True,
        )
    )
    if since and until and since >= until:
        raise ValidationFailed("since: must be before until (empty window)", field="since")
    _require_events(store, src)
    params: dict[str, Any] = dict(src.params)
    stage = q.stage_expr(d, journey.rules(), params)
    emo_params = {**params, "k_nps": "nps", "k_csat": "csat", "k_ces": "ces"}
    names, rows = store.query(q.emotion_curve_sql(d, src, stage, with_text), emo_params)
    emotion = {r[0]: dict(zip(names[1:], r[1:], strict=True)) for r in rows}
    kpi_params = dict(params)
    names, rows = store.query(q.stage_kpis_sql(d, src, stage, order, kpi_params), kpi_params)
    kpis = {r[0]: dict(zip(names[1:], r[1:], strict=True)) for r in rows}
    staged = q.Source(
        f"SELECT case_id, stage AS activity, ts, seq FROM (SELECT *, {stage} AS stage "
        f"FROM ({src.sql}) AS b) AS x WHERE stage IS NOT NULL",
        params,
    )
    stages_out = []
    for name in order + [s.name for s in journey.stages if s.name not in order]:
        k = kpis.get(name, {})
        e = emotion.get(name, {})
        cases = int(k.get("cases") or 0)
        nxt = int(k.get("next_cases") or 0)
        designed = name in order and order.index(name) < len(order) - 1
        stages_out.append(
            {
                "stage": name,
                "in_design": name in order,
                "cases": cases,
                "events": int(k.get("events") or 0),
                "reached_next": nxt if designed else None,
                "conversion_to_next": round(nxt / cases, 4) if designed and cases else None,
                "median_seconds_to_next": analysis._r(k.get("med_to_next")) if nxt else None,
                "p90_seconds_to_next": analysis._r(k.get("p90_to_next")) if nxt else None,
                "emotion": {
                    m: {
                        "mean": analysis._r(e.get(f"{m}_mean")) if e.get(f"{m}_n") else None,
                        "count": int(e.get(f"{m}_n") or 0),
                    }
                    for m in ("nps", "csat", "ces", "sentiment")
                },
            }
        )
    out: dict[str, Any] = {
        "journey": journey.name,
        "designed_order": order,
        "text_sentiment_available": with_text,
        "stages": stages_out,
    }
    _, any_rows = store.query(f"SELECT count(*) FROM ({staged.sql}) AS z", staged.params)
    if any_rows and any_rows[0][0]:
        disc = analysis.discover(store, staged)
        out["process"] = {**disc.as_dict(durations_p90=True), "cases": disc.cases}
        out["conformance"] = analysis.conformance(disc, order, ignore_others=False)
        if len(order) >= 2:
            present = {e for v in disc.variants for e in v["activities"]}
            if all(o in present for o in order):
                out["funnel"] = funnels.funnel(
                    store, staged, order, window_seconds=window_seconds
                ).as_dict()
    return out


def personas(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    k: int = 4,
    rules: list[PersonaRule] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Personas of the workspace's customers: by ``rules`` on traits, else by clustering."""
    _prepare(session, store, workspace_id)
    src = source(store, workspace_id=workspace_id, since=since, until=until, details=True)
    customers = load_customers(store, src)
    if rules:
        return {"method": "rules", "personas": by_rules(customers, rules)}
    return {"method": "clustering", "k": k, "personas": cluster(customers, k=k)}
