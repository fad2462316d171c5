"""Funnels in strict and any order, with breakdowns, through the API: identical on both stacks.

Four customers, identity resolved at read time (Sara browses anonymously, then logs in):
Sara views, adds to cart and orders in order; Reza orders first and then views and adds to
cart; Mina views and adds to cart two hours later (outside the one-hour window); Ali only adds
to cart, anonymously.
"""

from __future__ import annotations

from typing import Any

from tests.events.factories import Api, at

VIEW, CART, ORDER = "Product Viewed", "Added To Cart", "Order Completed"
STEPS = [VIEW, CART, ORDER]


def _t(mid: str, minute: float, channel: str, event: str, **ids: Any) -> dict[str, Any]:
    props = ids.pop("properties", {})
    return {"messageId": mid, "type": "track", "event": event, "timestamp": at(minute),
            "properties": props, "context": {"channel": channel}, **ids}  # fmt: skip


def _i(mid: str, minute: float, traits: dict[str, Any], **ids: Any) -> dict[str, Any]:
    return {"messageId": mid, "type": "identify", "timestamp": at(minute), "traits": traits,
            "context": {"channel": "web"}, **ids}  # fmt: skip


EVENTS = [
    _t("s1", 0, "web", VIEW, anonymousId="a-1", properties={"city": "Tehran"}),
    _t("s2", 2, "web", CART, anonymousId="a-1"),
    _i("s3", 3, {"plan": "gold", "age": 34}, userId="u-1", anonymousId="a-1"),
    _t("s4", 5, "app", ORDER, userId="u-1"),
    _i("r0", 0, {"plan": "free", "age": 70}, userId="u-2"),
    _t("r1", 0, "app", ORDER, userId="u-2"),
    _t("r2", 1, "web", VIEW, userId="u-2", properties={"city": "Shiraz"}),
    _t("r3", 2, "web", CART, userId="u-2"),
    _t("m1", 0, "email", VIEW, userId="u-3", properties={"city": "Tehran"}),
    _t("m2", 120, "email", CART, userId="u-3"),
    _t("a1", 0, "sms", CART, anonymousId="a-4"),
]
PERSONAS = [
    {"name": "gold", "all_of": [{"trait": "plan", "op": "eq", "value": "gold"}]},
    {"name": "seniors", "all_of": [{"trait": "age", "op": "gte", "value": 65}]},
]


def _steps(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (s["level"], s["activity"], s["cases"], s["median_seconds_from_previous"],
         s["p90_seconds_from_previous"])
        for s in body["steps"]
    ]  # fmt: skip


def _groups(body: dict[str, Any], who: dict[str, str]) -> list[tuple[Any, ...]]:
    return [
        (g["value"], g["other"], [s["cases"] for s in g["steps"]],
         {k: [who[c] for c in v] for k, v in g["dropped_sample"].items()})
        for g in body["breakdown"]["groups"]
    ]  # fmt: skip


async def _funnel(api: Api, **body: Any) -> dict[str, Any]:
    r = await api.client.post(
        "/api/journeys/funnel",
        json={"steps": STEPS, "window": "1h", "dropped_limit": 10, **body},
        headers=api.bearer,
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_funnels_in_any_order_with_breakdowns(api: Api) -> None:
    await api.batch(EVENTS)
    await api.flush()
    who = {(await api.lookup("user_id", u))["id"]: name
           for u, name in (("u-1", "sara"), ("u-2", "reza"), ("u-3", "mina"))}  # fmt: skip
    who[(await api.lookup("anonymous_id", "a-4"))["id"]] = "ali"

    strict = await _funnel(api)
    assert _steps(strict) == [
        (1, VIEW, 3, None, None),
        (2, CART, 2, 90.0, 114.0),  # Sara 2 min, Reza 1 min
        (3, ORDER, 1, 180.0, 180.0),  # Reza ordered before viewing
    ]
    assert {k: [who[c] for c in v] for k, v in strict["dropped_sample"].items()} == {
        VIEW: ["mina"], CART: ["reza"]
    }  # fmt: skip

    anyo = await _funnel(api, mode="any")
    assert anyo["mode"] == "any"
    assert _steps(anyo) == [
        (1, None, 4, None, None),  # Ali's cart alone is a first level
        (2, None, 2, 90.0, 114.0),
        (3, None, 2, 120.0, 168.0),  # Sara 3 min after her second step, Reza 1 min
    ]
    dropped = {k: sorted(who[c] for c in v) for k, v in anyo["dropped_sample"].items()}
    assert dropped == {"1": ["ali", "mina"], "2": []}

    # Strict: the entry event is the first view. Any order: the first step event of any kind.
    by = await _funnel(api, breakdown="channel")
    assert _groups(by, who) == [
        ("web", False, [2, 2, 1], {VIEW: [], CART: ["reza"]}),
        ("email", False, [1, 0, 0], {VIEW: ["mina"], CART: []}),
    ]
    by = await _funnel(api, mode="any", breakdown="channel", breakdown_limit=2)
    assert _groups(by, who) == [
        ("app", False, [1, 1, 1], {"1": [], "2": []}),  # Reza's order came first
        ("email", False, [1, 0, 0], {"1": ["mina"], "2": []}),
        (None, True, [2, 1, 1], {"1": ["ali"], "2": []}),  # sms and web
    ]
    by = await _funnel(api, breakdown="property:city")
    assert _groups(by, who) == [
        ("Tehran", False, [2, 1, 1], {VIEW: ["mina"], CART: []}),
        ("Shiraz", False, [1, 1, 0], {VIEW: [], CART: ["reza"]}),
    ]
    by = await _funnel(api, mode="any", breakdown="trait:plan")
    assert [(g[0], g[2]) for g in _groups(by, who)] == [
        (None, [2, 0, 0]), ("free", [1, 1, 1]), ("gold", [1, 1, 1])  # Mina, Ali: no identify
    ]  # fmt: skip
    by = await _funnel(api, mode="any", breakdown="persona", personas=PERSONAS)
    assert [(g[0], g[2]) for g in _groups(by, who)] == [
        ("other", [2, 0, 0]), ("gold", [1, 1, 1]), ("seniors", [1, 1, 1])
    ]  # fmt: skip
    same = await api.get(
        "/api/journeys/funnel", steps=STEPS, window="1h", mode="any", breakdown="channel",
        breakdown_limit=2, dropped_limit=10,
    )  # fmt: skip
    assert (
        same["breakdown"]
        == (await _funnel(api, mode="any", breakdown="channel", breakdown_limit=2))["breakdown"]
    )
    bad = await api.get("/api/journeys/funnel", expect=400, steps=STEPS, mode="sideways")
    assert bad["field"] == "mode"
