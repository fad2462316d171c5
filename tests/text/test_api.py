from __future__ import annotations

import httpx
import pytest

from safar.runtime import Runtime
from safar.text.repository import analyses_for, sentiment_series, table_exists
from tests.workspaces.factories import Workspace


async def test_analyze_endpoint(client: httpx.AsyncClient, workspace: Workspace) -> None:
    body = {
        "texts": [
            {"id": "a", "text": "پیک غذا رو سرد و دو ساعت دیر آورد"},
            {"id": "b", "text": ""},
            {"id": "c", "text": 42},
            {"id": "d", "text": "👍👍"},
            "Great service, thank you!",
        ]
    }
    r = await client.post("/api/text/analyze", json=body, headers=workspace.bearer)
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["id"] for x in res] == ["a", "b", "c", "d", "4"]
    assert res[0]["language"] == "fa"
    assert res[0]["sentiment"]["label"] == "negative"
    assert res[0]["category"]["label"] == "delivery"
    assert res[0]["actionable"] is True
    assert res[1]["error"] == "text: empty" and "sentiment" not in res[1]
    assert res[2]["error"] == "text: must be a string"
    assert res[3]["sentiment"]["label"] == "positive" and "no_words" in res[3]["flags"]
    assert res[4]["sentiment"]["label"] == "positive"


async def test_analyze_validation_and_auth(client: httpx.AsyncClient, workspace: Workspace) -> None:
    r = await client.post("/api/text/analyze", json={"texts": []}, headers=workspace.bearer)
    assert r.status_code == 400 and r.json()["field"] == "texts"
    r = await client.post("/api/text/analyze", json={"text": "hi"}, headers=workspace.bearer)
    assert r.status_code == 400 and r.json()["field"] == "texts"
    r = await client.post("/api/text/analyze", json={"texts": ["hi"]})
    assert r.status_code == 401
    r = await client.post("/api/text/analyze", json={"texts": ["hi"]}, auth=workspace.basic)
    assert r.status_code in (401, 403)


async def test_events_with_text_are_analysed(
    client: httpx.AsyncClient, workspace: Workspace, runtime: Runtime
) -> None:
    events = [
        {
            "type": "track",
            "event": "Review Submitted",
            "userId": "u1",
            "messageId": "m-review",
            "properties": {"review": "برای یک سفارش دو بار از کارتم پول کم کردن!", "rating": 1},
        },
        {
            "type": "track",
            "event": "Chat Message",
            "userId": "u2",
            "messageId": "m-chat",
            "properties": {"message": "The courier was lovely and the food arrived hot"},
        },
        {"type": "track", "event": "Page Viewed", "userId": "u3", "messageId": "m-plain"},
    ]
    # Nothing analysed yet: no table, and readers answer empty instead of failing.
    assert not table_exists(runtime.store)
    assert analyses_for(runtime.store, workspace.id, ["m-review"]) == {}
    assert sentiment_series(runtime.store, workspace.id) == []
    r = await client.post("/v1/batch", json={"batch": events}, auth=workspace.basic)
    assert r.status_code == 200, r.text
    assert runtime.consumer is not None and runtime.consumer.wait_applied(timeout=30)
    assert runtime.text_worker is not None and runtime.text_worker.wait_idle(timeout=30)
    got = analyses_for(runtime.store, workspace.id, ["m-review", "m-chat", "m-plain"])
    assert set(got) == {"m-review", "m-chat"}
    review, chat = got["m-review"], got["m-chat"]
    assert review["language"] == "fa" and review["sentiment_label"] == "negative"
    assert -1.0 <= review["sentiment_score"] < 0 < review["sentiment_confidence"] <= 1
    assert review["category"] == "payment" and review["actionable"]
    assert review["source_field"] == "review" and review["model_version"].startswith("cx-default")
    assert isinstance(review["key_phrases"], list) and review["key_phrases"]
    assert chat["language"] == "en" and chat["sentiment_label"] == "positive"
    assert chat["sentiment_score"] > 0
    # Another workspace sees nothing.
    assert analyses_for(runtime.store, "other-ws", ["m-review"]) == {}
    series = sentiment_series(runtime.store, workspace.id)
    assert sum(row["n"] for row in series) == 2
    assert {row["category"]: row["sentiment"] < 0 for row in series} == {
        "payment": True,
        "delivery": False,
    }
    assert {row["category"] for row in series} == {"payment", "delivery"}


async def test_train_endpoint_replaces_taxonomy(
    client: httpx.AsyncClient, workspace: Workspace, stack: str
) -> None:
    if stack != "duckdb-sqlite":
        pytest.skip("the local model lives in the data dir; one engine is enough")
    seeds = {
        "wifi": ["the wifi keeps dropping", "no internet in the room", "اینترنت اتاق قطعه"],
        "breakfast": ["breakfast was cold", "the buffet ran out of eggs", "صبحانه سرد بود"],
    }
    lines = ["text,category"]
    for label, texts in seeds.items():
        for t in texts:
            lines += [f"{t}{s},{label}" for s in ("", " again", " today", " tonight", "!")]
    body = ("\n".join(lines) + "\n").encode()
    r = await client.post("/api/text/train", content=body, headers=workspace.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["tasks"]["category"] == "local"
    assert r.json()["tasks"]["sentiment"] == "default"
    r = await client.post(
        "/api/text/analyze", json={"texts": ["wifi not working at all"]}, headers=workspace.bearer
    )
    assert r.json()["results"][0]["category"]["label"] == "wifi"
    bad = await client.post(
        "/api/text/train", content=b"comment,label\nhi,a\n", headers=workspace.bearer
    )
    assert bad.status_code == 400 and "'text' column" in bad.json()["message"]
