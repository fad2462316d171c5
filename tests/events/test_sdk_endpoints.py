"""What browser SDKs fetch from Safar: CORS preflights, settings, the bundle and beacons."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from safar.config import Settings
from tests.events.factories import Api, open_api

ORIGIN = {"Origin": "http://shop.example"}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(Settings(data_dir=tmp_path / "safar")) as api:
        yield api


@pytest.mark.parametrize(
    ("path", "asked"),
    [
        ("/v1/b", "content-type, x-retry-count"),
        ("/v1/batch", "authorization,anonymousid,content-type,rsa-since-last-attempt"),
        ("/sourceConfig/", "authorization"),
        ("/beacon/v1/batch", "content-type"),
    ],
)
async def test_preflight_allows_the_headers_the_sdk_asks_for(
    api: Api, path: str, asked: str
) -> None:
    r = await api.client.options(
        path,
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": asked,
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-headers"] == asked
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in r.headers


async def test_preflight_does_not_echo_a_malformed_header_list(api: Api) -> None:
    r = await api.client.options(
        "/v1/batch",
        headers={**ORIGIN, "Access-Control-Request-Headers": "x-a\r\nset-cookie: a=b"},
    )
    assert r.status_code == 204
    assert "set-cookie" not in r.headers["access-control-allow-headers"]


async def test_dashboard_paths_get_no_cors(api: Api) -> None:
    r = await api.client.options("/api/stats", headers=ORIGIN)
    assert "access-control-allow-origin" not in r.headers


async def test_analytics_next_settings_carry_the_write_key_and_point_here(api: Api) -> None:
    r = await api.client.get(f"/v1/projects/{api.write_key}/settings", headers=ORIGIN)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    segment = r.json()["integrations"]["Segment.io"]
    assert segment["apiKey"] == api.write_key
    assert (segment["apiHost"], segment["protocol"]) == ("safar.test/v1", "http")
    assert r.json()["metrics"]["sampleRate"] == 0


async def test_settings_follow_the_public_url(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "safar", public_url="https://cx.example.ir/safar/")
    async with open_api(settings) as api:
        r = await api.client.get(f"/v1/projects/{api.write_key}/settings")
    segment = r.json()["integrations"]["Segment.io"]
    assert (segment["apiHost"], segment["protocol"]) == ("cx.example.ir/safar/v1", "https")


@pytest.mark.parametrize("key", ["wk_unknown", "secret"])
async def test_settings_of_an_unknown_key_are_404(api: Api, key: str) -> None:
    raw = api.secret_key if key == "secret" else key
    r = await api.client.get(f"/v1/projects/{raw}/settings")
    assert r.status_code == 404
    assert (r.json()["code"], r.json()["field"]) == ("not_found", "writeKey")


@pytest.mark.parametrize("how", ["basic", "query"])
async def test_rudderstack_source_config(api: Api, how: str) -> None:
    if how == "basic":
        token = base64.b64encode(f"{api.write_key}:".encode()).decode()
        r = await api.client.get(
            "/sourceConfig/",
            params={"p": "npm", "v": "3.34.1"},
            headers={**ORIGIN, "Authorization": f"Basic {token}"},
        )
    else:
        r = await api.client.get(
            "/sourceConfig", params={"writeKey": api.write_key}, headers=ORIGIN
        )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    source = r.json()["source"]
    assert source["enabled"] is True and source["destinations"] == []
    assert source["writeKey"] == api.write_key and source["id"]
    assert isinstance(source["config"], dict)


async def test_rudderstack_source_config_needs_a_known_key(api: Api) -> None:
    assert (await api.client.get("/sourceConfig")).status_code == 401
    r = await api.client.get("/sourceConfig", params={"writeKey": "wk_nope"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"


async def test_the_vendored_bundle_and_its_chunks_are_served(api: Api) -> None:
    r = await api.client.get(f"/analytics.js/v1/{api.write_key}/analytics.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert b"analytics-next/bundles/" in r.content  # where it loads its lazy chunks from
    vendor = Path(__file__).resolve().parents[2] / "src/safar/web/static/vendor/analytics-next"
    chunk = next(p.name for p in vendor.glob("*.bundle.*.js"))
    assert (await api.client.get(f"/analytics-next/bundles/{chunk}")).status_code == 200
    assert (await api.client.get("/analytics-next/bundles/LICENSE.md")).status_code == 404
    assert (await api.client.get("/analytics-next/bundles/..%2Fapp.js")).status_code == 404


async def test_a_beacon_posts_text_plain_with_the_key_in_the_query(api: Api) -> None:
    body = b'{"batch":[{"type":"track","messageId":"bc-1","anonymousId":"an-b","event":"Left"}]}'
    r = await api.client.post(
        "/beacon/v1/batch",
        params={"writeKey": api.write_key},
        content=body,
        headers={**ORIGIN, "Content-Type": "text/plain;charset=UTF-8"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    await api.flush()
    profile = await api.lookup("anonymous_id", "an-b")
    assert await api.timeline_ids(profile["id"]) == ["bc-1"]
    refused = await api.client.post("/beacon/v1/batch", content=body)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
