"""The journey charts' server-side filters on store data: process-map variant coverage and edge
frequency, Sankey steps folded into "other", NPS per stage, the page's channel and segment
filters, and the customers behind a funnel step or a key driver (real engines)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from safar.errors import ValidationFailed
from safar.events.messages import SegmentMessage, normalize
from safar.identity import service as identity
from safar.journeys import service
from safar.journeys.drilldown import DriverCustomers, DroppedCustomers
from safar.journeys.metrics import DiscoveryQuery, DriversQuery, FunnelQuery, PathsQuery
from safar.runtime import Runtime
from tests.workspaces.factories import Workspace

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
#: Ten customers in four variants; the last one asks for help on the phone.
VARIANTS = [
    (["view", "cart", "buy"], 5, 9),
    (["view", "cart"], 3, 3),
    (["view", "help", "buy"], 1, 3),
    (["view", "cart", "help"], 1, 2),
]


@pytest.fixture
def shop(runtime: Runtime, workspace: Workspace) -> Workspace:
    rows: list[dict[str, Any]] = []
    n = 0
    customer = 0
    for acts, count, nps in VARIANTS:
        for _ in range(count):
            customer += 1
            for minute, act in enumerate([*acts, "survey_answered"]):
                n += 1
                props = {"nps": nps} if act == "survey_answered" else {}
                channel = "phone" if act == "help" and customer == 10 else "web"
                msg = SegmentMessage(
                    messageId=f"m{n}", timestamp=T0 + timedelta(minutes=minute), type="track",
                    userId=f"c{customer}", event=act, properties=props,
                    context={"channel": channel},
                )  # fmt: skip
                rows.append(normalize(msg, workspace_id=workspace.id, received_at=T0))
    runtime.applier.apply(rows)
    return workspace


def _run(runtime: Runtime, ws: Workspace, metric: Any, **kw: Any) -> Any:
    with runtime.db.session() as session:
        return service.run_metric(session, runtime.store, metric, workspace_id=ws.id, **kw)


def _profiles(runtime: Runtime, ws: Workspace, *numbers: int) -> list[str]:
    with runtime.db.session() as session:
        return sorted(
            identity.lookup(session, workspace_id=ws.id, type_="user_id", value=f"c{i}")
            for i in numbers
        )


@pytest.mark.parametrize("accelerate", [True, False])
def test_coverage_draws_the_map_from_the_most_frequent_variants(
    runtime: Runtime, shop: Workspace, accelerate: bool
) -> None:
    half = _run(runtime, shop, DiscoveryQuery(coverage=0.5), accelerate=accelerate)
    assert (half.cases, half.all_cases, half.variant_count) == (5, 10, 4)
    assert {(e["source"], e["target"]): e["frequency"] for e in half.edges} == {
        ("view", "cart"): 5, ("cart", "buy"): 5, ("buy", "survey_answered"): 5,
    }  # fmt: skip
    most = _run(runtime, shop, DiscoveryQuery(coverage=0.8), accelerate=accelerate)
    assert most.cases == 8  # the first two variants: 5 + 3 customers
    assert ("view", "help") not in {(e["source"], e["target"]) for e in most.edges}
    every = _run(runtime, shop, DiscoveryQuery(coverage=1.0, min_frequency=4),
                 accelerate=accelerate)  # fmt: skip
    assert every.cases == 10
    assert {(e["source"], e["target"]): e["frequency"] for e in every.edges} == {
        ("view", "cart"): 9, ("cart", "buy"): 5, ("buy", "survey_answered"): 6,
    }  # fmt: skip
    assert all(e["median_seconds"] == 60.0 for e in every.edges)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"coverage": 0.0}, "coverage"),
        ({"coverage": 1.5}, "coverage"),
        ({"coverage": 0.5, "top_variants": 2}, "coverage"),
        ({"min_frequency": 0}, "min_frequency"),
    ],
)
def test_discovery_refuses_bad_filters(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        DiscoveryQuery(**kwargs)
    assert err.value.field == field


@pytest.mark.parametrize("accelerate", [True, False])
def test_paths_fold_each_steps_rarer_activities_into_other(
    runtime: Runtime, shop: Workspace, accelerate: bool
) -> None:
    res = _run(runtime, shop, PathsQuery("view", depth=2, per_step=1), accelerate=accelerate)
    nodes = {n["id"]: (n["activity"], n["other"]) for n in res["sankey"]["nodes"]}
    assert nodes == {
        "0:view": ("view", False), "1:cart": ("cart", False), "1:": ("other", True),
        "2:buy": ("buy", False), "2:": ("other", True),
    }  # fmt: skip
    links = {(x["source"], x["target"]): x["value"] for x in res["sankey"]["links"]}
    assert links == {
        ("0:view", "1:cart"): 9, ("0:view", "1:"): 1, ("1:cart", "2:buy"): 5,
        ("1:cart", "2:"): 4, ("1:", "2:buy"): 1,
    }  # fmt: skip
    # The top paths are whole, never folded.
    assert {"path": ["view", "help", "buy"], "count": 1} in res["top_paths"]
    unfolded = _run(runtime, shop, PathsQuery("view", depth=2), accelerate=accelerate)
    assert "1:help" in {n["id"] for n in unfolded["sankey"]["nodes"]}
    with pytest.raises(ValidationFailed) as err:
        PathsQuery("view", per_step=0)
    assert err.value.field == "per_step"


def test_channel_and_segment_filters_narrow_every_analysis(
    runtime: Runtime, shop: Workspace
) -> None:
    web = _run(runtime, shop, DiscoveryQuery(), channel="web")
    assert web.cases == 10
    assert ("cart", "help") not in {(e["source"], e["target"]) for e in web.edges}
    two = _profiles(runtime, shop, 1, 6)
    some = _run(runtime, shop, DiscoveryQuery(), members=tuple(two))
    assert (some.cases, some.variant_count) == (2, 2)
    funnel = _run(runtime, shop, FunnelQuery(("view", "cart"), 3600), members=tuple(two))
    assert [s.cases for s in funnel.steps] == [2, 2]


def test_customers_behind_a_funnel_step_and_a_driver(runtime: Runtime, shop: Workspace) -> None:
    funnel = FunnelQuery(("view", "cart", "buy"), 3600)
    dropped = _run(runtime, shop, DroppedCustomers(funnel, after_step=2))
    assert dropped == _profiles(runtime, shop, 6, 7, 8, 10)  # reached cart, never bought
    assert _run(runtime, shop, DroppedCustomers(funnel, 1)) == _profiles(runtime, shop, 9)
    for bad in (0, 3):
        with pytest.raises(ValidationFailed) as err:
            DroppedCustomers(funnel, after_step=bad)
        assert err.value.field == "after_step"
    drivers = DriversQuery("survey_answered", "nps")
    helped = _run(runtime, shop, DriverCustomers(drivers, "help (events)"))
    assert helped == _profiles(runtime, shop, 9, 10)
    with pytest.raises(ValidationFailed) as err:
        _run(runtime, shop, DriverCustomers(drivers, "nothing (events)"))
    assert err.value.field == "factor"


async def test_api_filters_and_drilldowns(client: httpx.AsyncClient, shop: Workspace) -> None:
    r = await client.post("/api/journeys/discover", json={"coverage": 0.5, "min_frequency": 2},
                          headers=shop.bearer)  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["cases"], r.json()["all_cases"]) == (5, 10)
    r = await client.post("/api/journeys/paths", json={"anchor": "view", "depth": 2, "per_step": 1},
                          headers=shop.bearer)  # fmt: skip
    assert r.status_code == 200, r.text
    assert any(n["other"] for n in r.json()["sankey"]["nodes"])
    r = await client.post(
        "/api/journeys/funnel/dropped",
        json={"steps": ["view", "cart", "buy"], "window": "1h", "after_step": 2},
        headers=shop.bearer,
    )
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 4
    r = await client.post(
        "/api/journeys/drivers/customers",
        json={"target_event": "survey_answered", "target_property": "nps",
              "factor": "help (events)"},
        headers=shop.bearer,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 2


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/journeys/discover", {"coverage": 0}, "coverage"),
        ("/api/journeys/discover", {"coverage": 2}, "coverage"),
        ("/api/journeys/discover", {"coverage": "most"}, "coverage"),
        ("/api/journeys/discover", {"coverage": 0.5, "top_variants": 3}, "coverage"),
        ("/api/journeys/discover", {"min_frequency": 0}, "min_frequency"),
        ("/api/journeys/paths", {"anchor": "view", "per_step": 0}, "per_step"),
        ("/api/journeys/paths", {"anchor": "view", "per_step": 51}, "per_step"),
        ("/api/journeys/funnel/dropped", {"steps": ["view", "cart"], "after_step": 2},
         "after_step"),
        ("/api/journeys/funnel/dropped", {"steps": ["view", "cart"], "after_step": 0},
         "after_step"),
        ("/api/journeys/funnel/dropped", {"steps": ["view", "nope"], "after_step": 1}, "steps"),
        ("/api/journeys/drivers/customers",
         {"target_event": "survey_answered", "target_property": "nps", "factor": "x"}, "factor"),
    ],
)  # fmt: skip
async def test_api_refuses_bad_parameters_naming_the_field(
    client: httpx.AsyncClient, shop: Workspace, path: str, body: dict[str, Any], field: str
) -> None:
    r = await client.post(path, json=body, headers=shop.bearer)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field, r.json()
