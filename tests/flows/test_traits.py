"""A journey that names a trait no profile of the workspace has is refused at publish, naming
the node and field (a typo would make a branch always take ``otherwise``, a birthday journey
wait for nobody); a draft with it is still saved, and once a profile has the trait it
publishes. A webhook's JSON body is checked the same way: it must be JSON once rendered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from safar.app import create_app
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.flows.factories import Clock, cart_flow, event

Api = tuple[httpx.AsyncClient, dict[str, str], str]


@pytest.fixture
async def api(frt: Runtime, clock: Clock) -> AsyncIterator[Api]:
    with frt.db.session() as s:
        ws, _, secret = create_workspace(s, name="Shop")
        ws_id = ws.id
    for name in ("Product Added", "Order Completed"):
        event(frt, ws_id, clock, type="track", event=name, userId="seed")
    event(frt, ws_id, clock, type="identify", userId="seed", traits={"plan": "gold"})
    transport = httpx.ASGITransport(app=create_app(runtime=frt))
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
        yield c, {"Authorization": f"Bearer {secret}"}, ws_id


def branch_on(key: str) -> dict[str, Any]:
    return {
        "start": "check",
        "nodes": [
            {
                "id": "check",
                "type": "branch",
                "rules": [{"conditions": [{"kind": "trait", "key": key, "value": "x"}]}],
                "otherwise": "remind",
            },
            {"id": "remind", "type": "send", "channel": "sms", "texts": {"fa": {"body": "سلام"}}},
        ],
    }


def texting(body: str) -> dict[str, Any]:
    node = {"id": "remind", "type": "send", "channel": "sms", "texts": {"en": {"body": body}}}
    return {"start": "remind", "nodes": [node]}


def delay_until(trait: str) -> dict[str, Any]:
    return {
        "start": "wait",
        "nodes": [
            {"id": "wait", "type": "delay", "mode": "trait_date", "trait": trait, "at": "10:00",
             "next": "remind"},
            {"id": "remind", "type": "send", "channel": "sms", "texts": {"fa": {"body": "سلام"}}},
        ],
    }  # fmt: skip


def webhook(**node: Any) -> dict[str, Any]:
    step = {"id": "erp", "type": "webhook", "url": "https://erp.example/hook", **node}
    return {"start": "erp", "nodes": [step]}


async def publish(api: Api, definition: dict[str, Any]) -> httpx.Response:
    """Create (a draft) and publish; the publish answer."""
    c, auth, _ = api
    made = await c.post("/api/journeys/flows", json=definition, headers=auth)
    assert made.status_code == 201, made.text
    flow_id = made.json()["id"]
    res = await c.post(f"/api/journeys/flows/{flow_id}/publish", headers=auth)
    if res.status_code != 200:
        draft = (await c.get(f"/api/journeys/flows/{flow_id}", headers=auth)).json()
        assert draft["status"] == "draft" and draft["published_version"] is None
    return res


@pytest.mark.parametrize(
    ("change", "field", "trait"),
    [
        (branch_on("plann"), "nodes.check.rules.0.conditions.0.key", "plann"),
        (branch_on("loyalty.level"), "nodes.check.rules.0.conditions.0.key", "loyalty"),
        (texting("Your {{ traits.rank }} offer"), "nodes.remind.texts.en.body", "rank"),
        (texting("{{ traits['vip'] }}"), "nodes.remind.texts.en.body", "vip"),
        (texting("{{ traits.get('points', 0) }}"), "nodes.remind.texts.en.body", "points"),
        (webhook(body={"rank": "{{ traits.rank }}"}), "nodes.erp.body.rank", "rank"),
        (webhook(headers={"X-Rank": "{{ traits.rank }}"}), "nodes.erp.headers.X-Rank", "rank"),
        ({"trigger": {"type": "date", "trait": "birthdate"}}, "trigger.trait", "birthdate"),
        (delay_until("renewal_on"), "nodes.wait.trait", "renewal_on"),
    ],
)
async def test_a_trait_no_profile_has_is_refused_at_publish(
    api: Api, change: dict[str, Any], field: str, trait: str
) -> None:
    res = await publish(api, cart_flow() | change)
    assert res.status_code == 400, res.text
    body = res.json()
    assert body["field"] == field and repr(trait) in body["message"], body


@pytest.mark.parametrize(
    "change",
    [
        branch_on("plan"),  # the seed profile has it
        branch_on("plan.level"),  # a key inside it
        texting("{{ traits.plan }} {{ first_name }} {{ traits.get('plan') }}"),
        {"trigger": {"type": "date", "trait": "birthday"}},  # well known, before anyone has it
        delay_until("anniversary"),
        {
            "start": "mark",
            "nodes": [  # a trait the journey itself sets
                {"id": "mark", "type": "set_trait", "key": "nudged", "value": True,
                 "next": "check"},
                *branch_on("nudged")["nodes"],
            ],
        },
    ],
)  # fmt: skip
async def test_known_traits_publish(api: Api, change: dict[str, Any]) -> None:
    res = await publish(api, cart_flow() | change)
    assert res.status_code == 200, res.text


async def test_the_trait_publishes_once_a_profile_has_it(
    api: Api, frt: Runtime, clock: Clock
) -> None:
    c, auth, ws = api
    assert (await publish(api, cart_flow() | branch_on("rank"))).status_code == 400
    event(frt, ws, clock, type="identify", userId="u9", traits={"rank": "gold"})
    (flow,) = (await c.get("/api/journeys/flows", headers=auth)).json()
    res = await c.post(f"/api/journeys/flows/{flow['id']}/publish", headers=auth)
    assert res.status_code == 200, res.text


@pytest.mark.parametrize(
    ("node", "field", "words"),
    [
        ({"body": '{"total": {{ event.total }}}'}, "nodes.erp.body", "not JSON once rendered"),
        ({"body": '{"name": "{{ first_name }}",}'}, "nodes.erp.body", "not JSON once rendered"),
        ({"body": "[1, 2]"}, "nodes.erp.body", "JSON object"),
        ({"body": '{"name": {{ first_name | tojson }'}, "nodes.erp.body", "unexpected"),
    ],
)
async def test_a_webhook_body_must_be_json_once_rendered(
    api: Api, node: dict[str, Any], field: str, words: str
) -> None:
    res = await publish(api, cart_flow() | webhook(**node))
    assert res.status_code == 400, res.text
    assert res.json()["field"] == field and words in res.json()["message"], res.json()


@pytest.mark.parametrize(
    "headers", [{"Safar-Signature": "x"}, {"bad name": "x"}, {"X-Key": "a\nb"}]
)
async def test_a_webhook_header_safar_sets_or_a_bad_one_is_refused_when_saved(
    api: Api, headers: dict[str, str]
) -> None:
    c, auth, _ = api
    res = await c.post(
        "/api/journeys/flows", json=cart_flow() | webhook(headers=headers), headers=auth
    )
    assert res.status_code == 400 and res.json()["field"] == "nodes.erp.headers", res.text


async def test_a_json_body_with_tojson_and_defaults_publishes(api: Api) -> None:
    body = '{"name": {{ first_name | tojson }}, "total": {{ event.total | default(0) }}}'
    res = await publish(api, cart_flow() | webhook(body=body, headers={"X-Key": "k-1"}))
    assert res.status_code == 200, res.text
