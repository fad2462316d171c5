"""The JSON API with a dashboard session: same roles, CSRF by header, Secure cookies on HTTPS."""

from __future__ import annotations

import httpx

from safar.app import create_app
from tests.web.factories import PASSWORD, Site, csrf_of, page_csrf, sign_in


async def test_json_sign_in_roles_and_csrf(web: httpx.AsyncClient) -> None:
    bad = await web.post("/api/auth/login", json={"email": "admin@example.com", "password": "x"})
    assert bad.status_code == 401 and bad.json()["field"] == "password"
    res = await web.post(
        "/api/auth/login", json={"email": "admin@example.com", "password": PASSWORD}
    )
    assert res.status_code == 200
    assert "manage_users" in res.json()["permissions"]
    token = res.headers["x-csrf-token"]
    new = {"email": "new@example.com", "password": "long-enough", "role": "agent"}
    refused = await web.post("/api/auth/users", json=new)
    assert refused.status_code == 403 and refused.json()["field"] == "csrf_token"
    made = await web.post("/api/auth/users", json=new, headers={"X-CSRF-Token": token})
    assert made.status_code == 201 and made.json()["role"] == "agent"
    bad_role = await web.post(
        "/api/auth/users", json={**new, "role": "owner"}, headers={"X-CSRF-Token": token}
    )
    assert bad_role.status_code == 400 and bad_role.json()["field"] == "role"
    out = await web.post("/api/auth/logout", headers={"X-CSRF-Token": token})
    assert out.status_code == 204
    assert (await web.get("/api/auth/me")).status_code == 401


async def test_agent_cannot_list_users_by_api(web: httpx.AsyncClient) -> None:
    await sign_in(web, "agent")
    me = await web.get("/api/auth/me")
    assert me.json()["user"]["role"] == "agent" and "manage_keys" not in me.json()["permissions"]
    assert (await web.get("/api/auth/users")).status_code == 403


async def test_secure_cookie_over_https(site: Site) -> None:
    transport = httpx.ASGITransport(app=create_app(runtime=site.runtime))
    async with httpx.AsyncClient(transport=transport, base_url="https://safar.test") as c:
        res = await sign_in(c, "viewer")
        assert res.status_code == 303
        cookie = res.headers["set-cookie"].lower()
        assert "safar_session=" in cookie and "secure" in cookie and "httponly" in cookie


async def test_next_cannot_leave_the_site(web: httpx.AsyncClient) -> None:
    form = await web.get("/login")
    res = await web.post(
        "/login",
        data={
            "email": "viewer@example.com",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "//evil.example/steal",
        },
    )
    assert res.status_code == 303 and res.headers["location"] == "/"


async def test_bad_form_input_is_a_page_not_a_trace(web: httpx.AsyncClient) -> None:
    await sign_in(web, "admin")
    token = await page_csrf(web, "/settings")
    res = await web.post("/settings/keys", data={"csrf_token": token})  # no kind
    assert res.status_code == 400 and 'id="error-page"' in res.text and "kind" in res.text
    bad_kind = await web.post("/settings/keys", data={"csrf_token": token, "kind": "root"})
    assert bad_kind.status_code == 400 and "settings-error" in bad_kind.text
    lang = await web.post("/prefs/language", data={"csrf_token": token, "language": "xx"})
    assert lang.status_code == 400 and "locale" in lang.text
    ws = await web.post("/workspace", data={"csrf_token": token, "workspace_id": "ws_nope"})
    assert ws.status_code == 404
    unmerge = await web.post("/customers/prf_nope/unmerge", data={"csrf_token": token})
    assert unmerge.status_code == 404


async def test_vendored_assets_are_served_compressed_and_cached(web: httpx.AsyncClient) -> None:
    for path in (
        "/static/vendor/echarts/echarts.min.js",
        "/static/vendor/vazirmatn/Vazirmatn-Variable.woff2",
        "/static/app.css",
        "/static/app.js",
    ):
        res = await web.get(path, headers={"Accept-Encoding": "gzip"})
        assert res.status_code == 200 and len(res.content) > 1000, path
        assert "max-age" in res.headers["cache-control"]
    js = await web.get("/static/vendor/echarts/echarts.min.js", headers={"Accept-Encoding": "gzip"})
    assert js.headers.get("content-encoding") == "gzip"
