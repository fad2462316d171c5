"""The Import page as plain forms (no JavaScript): upload, map columns, follow, bad rows."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from tests.events.factories import import_csv
from tests.web.factories import Site, page_csrf, sign_in

TABLE = (
    "Customer ID,E-mail,Phone,Timestamp,total\n"
    "c1,sara@example.com,09121234567,2026-03-01T09:00:00Z,120\n"
    ",nobody@example.com,,2026-03-01T10:00:00Z,5\n"
    "c2,ali@example.com,09350000000,2026-03-02T09:00:00Z,80\n"
)


def _selected(html: str) -> dict[str, str]:
    """{column: chosen field} of the mapping form."""
    out: dict[str, str] = {}
    for row in re.findall(r'<tr data-column="([^"]+)">(.*?)</tr>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', row[1])
        out[row[0]] = chosen.group(1) if chosen else ""
    return out


async def _upload(web: httpx.AsyncClient, body: bytes, name: str = "crm.csv") -> httpx.Response:
    csrf = await page_csrf(web, "/imports")
    return await web.post(
        "/imports", data={"csrf_token": csrf}, files={"file": (name, body, "text/csv")}
    )


async def _status(web: httpx.AsyncClient, run: str) -> dict[str, Any]:
    for _ in range(400):
        out: dict[str, Any] = (await web.get(f"/imports/{run}/status")).json()
        if out["state"] in ("done", "failed"):
            return out
        await asyncio.sleep(0.05)
    raise AssertionError("import did not finish")


async def test_upload_map_and_import_with_plain_forms(web: httpx.AsyncClient, site: Site) -> None:
    await sign_in(web, "analyst")
    res = await _upload(web, TABLE.encode())
    assert res.status_code == 303, res.text[:500]
    run = res.headers["location"].rsplit("/", 1)[1]
    page = await web.get(f"/imports/{run}")
    assert page.status_code == 200 and 'id="mapping-form"' in page.text
    # The header was read on the server; names chose the defaults.
    assert _selected(page.text) == {
        "Customer ID": "userId",
        "E-mail": "traits.email",
        "Phone": "traits.phone",
        "Timestamp": "timestamp",
        "total": "",
    }
    assert "sara@example.com" in page.text  # first values shown beside each column
    form = {"csrf_token": await page_csrf(web, f"/imports/{run}"), "event": "Signed Up",
            "col-0": "userId", "col-1": "traits.email", "col-2": "drop", "col-3": "timestamp",
            "col-4": ""}  # fmt: skip
    started = await web.post(f"/imports/{run}/start", data=form)
    assert started.status_code == 303
    status = await _status(web, run)
    assert (status["state"], status["stored"], status["bad_rows"]) == ("done", 2, 1)
    assert status["options"]["drop"] == ["Phone"]
    done = await web.get(f"/imports/{run}")
    assert 'id="bad-rows"' in done.text and 'id="import-done"' in done.text
    assert "userId or anonymousId is required" in done.text
    report = await web.get(f"/imports/{run}/report")
    assert report.status_code == 200 and b'"line":3' in report.content
    listing = await web.get("/imports")
    assert f'data-import="{run}"' in listing.text
    # Stored through the server's own applier, beside the site's seeded events.
    profile = await web.get("/customers", params={"q": "sara@example.com"})
    assert profile.status_code in (200, 303)


async def test_mapping_mistakes_and_roles(web: httpx.AsyncClient) -> None:
    await sign_in(web, "admin")
    run = (await _upload(web, import_csv())).headers["location"].rsplit("/", 1)[1]
    csrf = await page_csrf(web, f"/imports/{run}")
    twice = await web.post(
        f"/imports/{run}/start",
        data={"csrf_token": csrf, "col-0": "userId", "col-1": "userId", "col-2": ""},
    )
    assert twice.status_code == 400 and 'id="import-error"' in twice.text
    assert 'id="mapping-form"' in twice.text  # the form again, with the choices kept
    bad = await _upload(web, b"not parquet", name="data.parquet")
    assert bad.status_code == 400 and "Parquet" in bad.text
    empty = await _upload(web, b"", name="empty.csv")
    assert empty.status_code == 400 and "empty" in empty.text
    missing = await web.get("/imports/imp_nope")
    assert missing.status_code == 404


async def test_viewers_and_agents_cannot_import(web: httpx.AsyncClient) -> None:
    await sign_in(web, "agent")
    home = await web.get("/")
    assert 'data-nav="imports"' not in home.text
    assert (await web.get("/imports")).status_code == 403
