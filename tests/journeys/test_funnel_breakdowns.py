"""Funnel breakdowns (channel, event property, trait, persona) on both engines equal a
brute-force reference on random data, in strict and any order."""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from safar.errors import ValidationFailed
from safar.journeys import service
from safar.journeys.personas import PersonaRule
from safar.runtime import Runtime
from tests.journeys.factories import any_order_cases, events_table, strict_cases
from tests.workspaces.factories import Workspace

CITIES: list[Any] = ["Tehran", "Shiraz", "Tabriz", "Rasht", 1000, 1000.0, 1.5, True, None, "-"]
PERSONAS = [
    PersonaRule.model_validate({"name": "gold", "all_of": [{"trait": "plan", "value": "gold"}]}),
    PersonaRule.model_validate(
        {"name": "older", "all_of": [{"trait": "age", "op": "gte", "value": 40}]}
    ),
]


def scalar(v: Any) -> str | None:
    """What a breakdown shows for a JSON value (see ``queries.json_scalar``)."""
    if v is None or v == "-":
        return None  # "-" stands for a missing key
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    return str(v)


def random_data(seed: int, cases: int = 120) -> tuple[list[dict[str, Any]], pa.Table, str]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for c in range(cases):
        for _ in range(rng.randint(0, 10)):
            rows.append(
                {
                    "case": f"c{c:03d}",
                    "act": rng.choice(["a", "b", "c", "d"]),
                    "t": rng.randint(0, 30),
                    "channel": rng.choice(["web", "web", "app", "app", "email", "sms", "chat"]),
                    "city": rng.choice(CITIES),
                }
            )
        for _ in range(rng.choice([0, 1, 1, 2])):
            traits = {"plan": rng.choice(["gold", "free", "free"]), "age": rng.randint(20, 60)}
            rows.append({"case": f"c{c:03d}", "act": "identify", "t": rng.randint(0, 30),
                         "traits": traits})  # fmt: skip
    rng.shuffle(rows)
    ws = f"ws{seed}"
    tbl = events_table(ws, [(r["case"], r["act"], r["t"]) for r in rows])
    props = ["{}" if r.get("city") == "-" else json.dumps({"city": r.get("city")}) for r in rows]
    tbl = tbl.set_column(tbl.schema.get_field_index("channel"), "channel",
                         pa.array([r.get("channel", "web") for r in rows]))  # fmt: skip
    tbl = tbl.set_column(tbl.schema.get_field_index("properties"), "properties", pa.array(props))
    tbl = tbl.set_column(tbl.schema.get_field_index("type"), "type",
                         pa.array(["identify" if r["act"] == "identify" else "track" for r in rows]))  # fmt: skip
    tbl = tbl.set_column(
        tbl.schema.get_field_index("event"), "event",
        pa.array([None if r["act"] == "identify" else r["act"] for r in rows], pa.string()),
    )  # fmt: skip
    tbl = tbl.set_column(tbl.schema.get_field_index("traits"), "traits",
                         pa.array([json.dumps(r.get("traits", {})) for r in rows]))  # fmt: skip
    return rows, tbl, ws


def expected(
    rows: list[dict[str, Any]], steps: list[str], window: int, mode: str, by: str, limit: int
) -> list[dict[str, Any]]:
    triples = [(r["case"], r["act"], r["t"]) for r in rows]
    cases = (strict_cases if mode == "strict" else any_order_cases)(triples, steps, window)
    cases = {c: v for c, v in cases.items() if v[0] >= 1}
    value: dict[str, str | None] = {}
    for c in cases:
        mine = [(r["t"], i, r) for i, r in enumerate(rows) if r["case"] == c]  # i = message order
        entry = min(x for x in mine if (x[2]["act"] == steps[0] if mode == "strict"
                                        else x[2]["act"] in steps))  # fmt: skip
        idents = [x for x in mine if x[2]["act"] == "identify"]
        traits = max(idents, key=lambda x: (x[0], x[1]))[2]["traits"] if idents else {}
        if by == "channel":
            value[c] = entry[2]["channel"]
        elif by == "property:city":
            value[c] = scalar(entry[2]["city"])
        elif by == "trait:plan":
            value[c] = traits.get("plan")
        else:
            value[c] = next(
                (
                    p.name
                    for p in PERSONAS
                    if all(
                        traits.get(cd.trait) is not None
                        and (
                            traits[cd.trait] == cd.value
                            if cd.op == "eq"
                            else traits[cd.trait] >= cd.value
                        )
                        for cd in p.all_of
                    )
                ),
                "other",
            )
    counts: dict[str | None, int] = {}
    for v in value.values():
        counts[v] = counts.get(v, 0) + 1
    ranked = sorted(counts, key=lambda v: (-counts[v], v is None, v or ""))
    groups: list[tuple[str | None, bool, set[str | None]]] = [
        (v, False, {v}) for v in ranked[:limit]
    ]
    if len(ranked) > limit:
        groups.append((None, True, set(ranked[limit:])))
    out = []
    for v, other, members in groups:
        mine = sorted(c for c in cases if value[c] in members)
        reached = [sum(cases[c][0] >= k for c in mine) for k in range(1, len(steps) + 1)]
        meds = []
        for k in range(1, len(steps)):
            deltas = [
                cases[c][1][k] - cases[c][1][k - 1]  # type: ignore[operator]
                for c in mine
                if cases[c][0] > k
            ]
            meds.append(round(float(np.percentile(deltas, 50)), 3) if deltas else None)
        dropped = {
            (steps[lv - 1] if mode == "strict" else str(lv)): [c for c in mine if cases[c][0] == lv]
            for lv in range(1, len(steps))
        }
        out.append({"value": v, "other": other, "customers": len(mine), "reached": reached,
                    "medians": meds, "dropped": dropped})  # fmt: skip
    return out


@pytest.mark.parametrize("mode", ["strict", "any"])
@pytest.mark.parametrize("by", ["channel", "property:city", "trait:plan", "persona"])
def test_breakdown_equals_brute_force(
    runtime: Runtime, workspace: Workspace, mode: str, by: str
) -> None:
    rows, tbl, _ = random_data(11 if mode == "strict" else 12)
    tbl = tbl.set_column(0, "workspace_id", pa.array([workspace.id] * tbl.num_rows))
    runtime.store.insert_arrow("events", tbl)
    # Every city its own group (text of each JSON type), the others: top 2 and "other".
    steps, window, limit = ["a", "b", "c"], 8, (20 if by == "property:city" else 2)
    with runtime.db.session() as session:
        got = service.funnel(
            session, runtime.store, workspace_id=workspace.id, steps=steps, window_seconds=window,
            mode=mode, breakdown=by, breakdown_limit=limit, dropped_limit=1000,
            personas=PERSONAS if by == "persona" else None,
        )  # fmt: skip
        plain = service.funnel(
            session, runtime.store, workspace_id=workspace.id, steps=steps, window_seconds=window,
            mode=mode, dropped_limit=1000,
        )  # fmt: skip
    # The whole funnel, counted from the per-customer rows of the breakdown, is the plain one.
    assert (got.steps, got.dropped_sample) == (plain.steps, plain.dropped_sample)
    want = expected(rows, steps, window, mode, by, limit)
    assert got.groups is not None
    have = [
        {
            "value": g.value,
            "other": g.other,
            "customers": g.customers,
            "reached": [s.cases for s in g.steps],
            "medians": [s.median_seconds_from_previous for s in g.steps[1:]],
            "dropped": g.dropped_sample,
        }
        for g in got.groups
    ]
    assert have == want
    assert sum(g.customers for g in got.groups) == got.steps[0].cases
    assert got.as_dict()["breakdown"]["by"] == by
    if by == "property:city":
        assert {"Tehran", "1000", "1.5", "true", None} <= {g["value"] for g in want}
    else:
        assert want[-1]["other"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"breakdown": "country"}, "breakdown"),
        ({"breakdown": "property:"}, "breakdown"),
        ({"breakdown": "property:a.b"}, "breakdown"),
        ({"breakdown": "persona"}, "personas"),
        ({"breakdown": "channel", "breakdown_limit": 0}, "breakdown_limit"),
        ({"mode": "sideways"}, "mode"),
        ({"mode": "any", "steps": ["a", "b", "a"]}, "steps"),
    ],
)
def test_breakdown_bad_input(
    runtime: Runtime, workspace: Workspace, kwargs: dict[str, Any], field: str
) -> None:
    runtime.store.insert_arrow(
        "events", events_table(workspace.id, [("u1", "a", 0), ("u1", "b", 1)])
    )
    args: dict[str, Any] = {"steps": ["a", "b"], "window_seconds": 60, **kwargs}
    with runtime.db.session() as session, pytest.raises(ValidationFailed) as err:
        service.funnel(session, runtime.store, workspace_id=workspace.id, **args)
    assert err.value.field == field
