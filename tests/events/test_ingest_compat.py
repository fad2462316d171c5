"""Segment-compatible paths beyond the canonical ones: /v1/import, browser short paths, CORS."""

from __future__ import annotations

import httpx
import orjson

from safar.runtime import Runtime
from tests.workspaces.factories import Workspace


async def test_browser_short_path_with_write_key_in_body(
    client: httpx.AsyncClient, workspace: Workspace, runtime: Runtime
) -> None:
    body = {"writeKey": workspace.write_key, "anonymousId": "browser-1", "event": "Clicked"}
    r = await client.post(
        "/v1/t",
        content=orjson.dumps(body),
        headers={"Content-Type": "text/plain", "Origin": "https://shop.example"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    r = await client.post(
        "/v1/import",
        json={"batch": [{"type": "page", "anonymousId": "browser-1", "name": "Home"}]},
        auth=workspace.basic,
    )
    assert r.status_code == 200, r.text
    assert runtime.consumer is not None and runtime.consumer.wait_applied()
    assert runtime.store.count(workspace.id) == 2


async def test_cors_preflight_only_on_ingest(client: httpx.AsyncClient) -> None:
    r = await client.options(
        "/v1/batch",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "credentials" not in " ".join(r.headers.keys())
    r = await client.get("/api/stats", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
