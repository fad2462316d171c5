"""The settings page shows the workspace's rejected events (what a partial batch refused)."""

from __future__ import annotations

import httpx

from tests.web.factories import Site, sign_in


async def test_rejected_events_are_listed_by_field(web: httpx.AsyncClient, site: Site) -> None:
    await sign_in(web, "analyst")
    empty = await web.get("/settings")
    assert 'id="rejected-none"' in empty.text
    batch = {
        "batch": [
            {"type": "track", "messageId": "ok-1", "userId": "u-r", "event": "Paid"},
            {"type": "track", "messageId": "bad-1", "userId": "u-r", "event": "Paid\tTwice"},
            {"type": "track", "messageId": "bad-2", "userId": "u-r", "event": "Paid\nAgain"},
        ]
    }
    r = await web.post("/v1/batch", json=batch, auth=(site.write_key, ""))
    assert r.status_code == 200 and len(r.json()["rejected"]) == 2
    page = await web.get("/settings")
    assert 'data-field="event"' in page.text
    row = page.text.split('data-field="event"', 1)[1].split("</tr>", 1)[0]
    assert "۲" in row  # the count, in Persian digits
    assert "bad-2" in row  # the latest example
    assert "نباید نویسهٔ کنترلی" in row  # the API's reason, said in Persian
    await sign_in(web, "agent")
    assert 'id="rejected"' not in (await web.get("/settings")).text
