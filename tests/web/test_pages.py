"""Dashboard pages through the real app: sign-in, roles, CSRF, bad input, languages."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from safar.app import create_app
from safar.auth.service import expire_session
from safar.runtime import Runtime
from tests.web.factories import PASSWORD, Site, make_site, page_csrf, sign_in


async def test_sign_in_lands_on_overview_with_numbers(web: httpx.AsyncClient) -> None:
    res = await sign_in(web, "viewer")
    assert res.status_code == 303 and res.headers["location"] == "/"
    cookie = res.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    page = await web.get("/")
    assert page.status_code == 200
    assert 'dir="rtl"' in page.text  # Persian is the default language
    assert "chart-daily" in page.text and "نمای کلی" in page.text


async def test_wrong_password_gets_a_clear_401_page(web: httpx.AsyncClient) -> None:
    res = await sign_in(web, "admin", password="not the password")
    assert res.status_code == 401
    assert "login-error" in res.text and "Traceback" not in res.text
    assert "safar_session" not in res.headers.get("set-cookie", "")


async def test_pages_need_a_session(web: httpx.AsyncClient) -> None:
    res = await web.get("/customers")
    assert res.status_code == 303
    assert res.headers["location"].startswith("/login?next=/customers")
    api = await web.get("/api/auth/me")
    assert api.status_code == 401 and api.json()["error"] == "Unauthorized"


async def test_expired_session_redirects_to_sign_in(web: httpx.AsyncClient, site: Site) -> None:
    await sign_in(web, "admin")
    token = web.cookies["safar_session"]
    with site.runtime.db.session() as session:
        expire_session(session, token)
    res = await web.get("/settings")
    assert res.status_code == 303 and "reason=expired" in res.headers["location"]
    follow = await web.get(res.headers["location"])
    assert "منقضی" in follow.text  # "your session has expired", in Persian


async def test_missing_csrf_is_refused(web: httpx.AsyncClient) -> None:
    await sign_in(web, "admin")
    res = await web.post("/settings/workspaces", data={"name": "Sneaky"})
    assert res.status_code == 403
    assert "csrf_token" in res.text and "Traceback" not in res.text
    login = await web.post("/login", data={"email": "admin@example.com", "password": PASSWORD})
    assert login.status_code == 403


async def test_unknown_profile_is_a_404_page(web: httpx.AsyncClient) -> None:
    await sign_in(web, "agent")
    res = await web.get("/customers/prof_does_not_exist")
    assert res.status_code == 404
    assert 'id="error-page"' in res.text and "Traceback" not in res.text
    missing = await web.get("/no/such/page")
    assert missing.status_code == 404 and 'id="error-page"' in missing.text


@pytest.mark.parametrize(
    ("role", "settings_status", "can_keys", "can_unmerge"),
    [
        ("admin", 200, True, True),
        ("analyst", 200, True, False),
        ("agent", 200, False, False),
        ("viewer", 403, False, False),
    ],
)
async def test_roles(
    web: httpx.AsyncClient,
    site: Site,
    role: str,
    settings_status: int,
    can_keys: bool,
    can_unmerge: bool,
) -> None:
    await sign_in(web, role)
    settings = await web.get("/settings")
    assert settings.status_code == settings_status
    assert ('data-nav="settings"' in (await web.get("/")).text) is (settings_status == 200)
    token = await page_csrf(web)
    created = await web.post(
        "/settings/keys", data={"kind": "write", "name": "t", "csrf_token": token}
    )
    assert (created.status_code == 200) is can_keys
    if not can_keys:
        assert created.status_code == 403
    search = await web.get("/customers", params={"q": "sara@example.com"})
    assert search.status_code == 303
    profile = await web.get(search.headers["location"])
    assert ("data-unmerge" in profile.text) is can_unmerge
    pid = search.headers["location"].rsplit("/", 1)[-1]
    res = await web.post(f"/customers/{pid}/unmerge", data={"csrf_token": token})
    assert (res.status_code == 303) is can_unmerge
    if not can_unmerge:
        assert res.status_code == 403
    users_api = await web.get("/api/auth/users")
    assert users_api.status_code == (200 if role == "admin" else 403)


async def test_search_unmerge_and_timeline(web: httpx.AsyncClient) -> None:
    await sign_in(web, "admin")
    res = await web.get("/customers", params={"q": "09121234567"})
    assert res.status_code == 303
    profile = await web.get(res.headers["location"])
    text = profile.text
    assert "سارا احمدی" in text and "Ticket Opened" in text and "Ahmadi family" in text
    assert 'data-channel="phone"' in text and 'data-channel="app"' in text
    assert "بازاریابی / پیامک" in text and "بازاریابی / ایمیل" in text  # consent, by name
    filtered = await web.get(res.headers["location"], params={"channel": "phone"})
    assert 'data-channel="phone"' in filtered.text and 'data-channel="app"' not in filtered.text
    token = await page_csrf(web, res.headers["location"])
    undone = await web.post(res.headers["location"] + "/unmerge", data={"csrf_token": token})
    assert undone.status_code == 303 and "unmerged=" in undone.headers["location"]
    after = await web.get(undone.headers["location"])
    assert "unmerged-notice" in after.text and "data-unmerge" not in after.text


async def test_partial_search_lists_matches(web: httpx.AsyncClient) -> None:
    await sign_in(web, "agent")
    res = await web.get("/customers", params={"q": "سارا"})
    assert res.status_code == 200 and "profile-link" in res.text
    none = await web.get("/customers", params={"q": "zzz-nobody"})
    assert 'id="no-results"' in none.text


async def test_language_and_calendar_are_remembered(web: httpx.AsyncClient) -> None:
    await sign_in(web, "analyst")
    token = await page_csrf(web)
    await web.post("/prefs/language", data={"language": "en", "csrf_token": token})
    page = await web.get("/")
    assert 'dir="ltr"' in page.text and "Overview" in page.text
    assert "1 Mar 2026" in page.text or "Mar 2026" in page.text  # Gregorian by default in English
    await web.post("/prefs/calendar", data={"calendar": "jalali", "csrf_token": token})
    assert "Esfand 1404" in (await web.get("/")).text
    # A new session of the same user keeps the choice.
    web.cookies.clear()
    await sign_in(web, "analyst")
    assert 'dir="ltr"' in (await web.get("/")).text


async def test_workspace_switcher_and_empty_state(web: httpx.AsyncClient) -> None:
    await sign_in(web, "admin")
    token = await page_csrf(web, "/settings")
    res = await web.post("/settings/workspaces", data={"name": "Branch two", "csrf_token": token})
    assert res.status_code == 200 and "new-key" in res.text
    overview = await web.get("/")
    assert 'id="empty-state"' in overview.text and "/v1/track" in overview.text


async def test_overview_is_fast_on_demo_sized_data(site: Site, web: httpx.AsyncClient) -> None:
    from tests.web.seed import NOW, rows_for

    msgs = [
        {
            "type": "track",
            "userId": f"bulk-{i % 400}",
            "event": f"Event {i % 12}",
            "messageId": f"bulk-{i}",
            "timestamp": NOW.replace(day=1 + i % 28).isoformat(),
            "context": {"channel": ["web", "app", "email", "store"][i % 4]},
        }
        for i in range(20_000)
    ]
    site.runtime.applier.apply(rows_for(site.workspace_id, msgs))
    await sign_in(web, "admin")
    await web.get("/")
    for path in ("/", "/customers", "/customers?q=bulk-7", "/settings"):
        start = time.perf_counter()
        res = await web.get(path)
        elapsed = time.perf_counter() - start
        assert res.status_code in (200, 303)
        assert elapsed < 1.0, f"{path} took {elapsed:.2f}s"


async def test_workspace_is_per_session(site: Site, web: httpx.AsyncClient) -> None:
    from safar.workspaces.service import create_workspace

    with site.runtime.db.session() as session:
        other, _, _ = create_workspace(session, name="Second shop")
    await sign_in(web, "agent")
    token = await page_csrf(web)
    res = await web.post(
        "/workspace", data={"workspace_id": other.id, "csrf_token": token, "next": "/customers"}
    )
    assert res.status_code == 303 and res.headers["location"] == "/customers"
    assert 'id="no-results"' in (await web.get("/customers")).text  # the new one is empty
    # A second browser of the same user still looks at the first workspace.
    transport = httpx.ASGITransport(app=create_app(runtime=site.runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as second:
        await sign_in(second, "agent")
        assert "profile-link" in (await second.get("/customers")).text


async def test_pages_on_both_stacks(runtime: Runtime) -> None:
    """The same pages on DuckDB+SQLite and ClickHouse+PostgreSQL."""
    site = make_site(runtime)
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
        await sign_in(c, "admin")
        overview = await c.get("/")
        assert overview.status_code == 200 and "chart-daily" in overview.text
        found = await c.get("/customers", params={"q": "سارا"})
        assert found.status_code == 200 and "profile-link" in found.text
        exact = await c.get("/customers", params={"q": "sara@example.com"})
        profile = await c.get(exact.headers["location"])
        assert "Ticket Opened" in profile.text and "data-unmerge" in profile.text
        token = await page_csrf(c, "/settings")
        key = await c.post("/settings/keys", data={"kind": "secret", "csrf_token": token})
        assert "sk_" in key.text
        assert site.workspace_id in (await c.get("/settings")).text


async def test_revoked_key_stops_ingest(site: Site, web: httpx.AsyncClient) -> None:
    event = {"userId": "u-9", "event": "Ping", "messageId": "rk-1"}
    ok = await web.post("/v1/track", json=event, auth=(site.write_key, ""))
    assert ok.status_code == 200
    await sign_in(web, "analyst")
    page = await web.get("/settings")
    key_id = re.search(r'data-key="([^"]+)"', page.text)
    assert key_id
    token = await page_csrf(web, "/settings")
    res = await web.post(f"/settings/keys/{key_id.group(1)}/revoke", data={"csrf_token": token})
    assert res.status_code == 303
    assert "tag no" in (await web.get("/settings")).text  # shown as revoked
    refused = await web.post(
        "/v1/track", json={**event, "messageId": "rk-2"}, auth=(site.write_key, "")
    )
    assert refused.status_code == 401
