"""The customer list: pages, search, a saved-segment filter, a trait filter, the CSV of the
current list and saving the trait filter as a segment."""

from __future__ import annotations

import csv
import io
import re

import httpx

from safar.kit.conditions import TraitCondition
from safar.segments import service as segments
from safar.segments.schemas import SegmentCreate
from tests.web.factories import Site, page_csrf, sign_in
from tests.web.seed import NOW, rows_for

LINKS = re.compile(r'href="/customers/([^"?]+)" class="profile-link"')


def _add_members(site: Site, n: int = 40) -> None:
    """``n`` customers, every third on the gold plan (written " Gold " by the SDK)."""
    site.runtime.applier.apply(
        rows_for(
            site.workspace_id,
            [
                {"type": "identify", "userId": f"m-{i:02d}", "messageId": f"m-{i}",
                 "timestamp": NOW.isoformat(),
                 "traits": {"name": f"Member {i:02d}", "plan": " Gold " if i % 3 == 0 else "basic"}}
                for i in range(n)
            ],
        )
    )  # fmt: skip


def _gold(site: Site) -> str:
    with site.runtime.db.session() as session:
        return segments.create_segment(
            session,
            workspace_id=site.workspace_id,
            data=SegmentCreate(name="طلایی", conditions=[TraitCondition(key="plan", value="gold")]),
        ).id


async def test_pages_segment_and_trait_filters_and_csv(web: httpx.AsyncClient, site: Site) -> None:
    _add_members(site)
    gold = _gold(site)
    await sign_in(web, "viewer")
    first = await web.get("/customers")
    assert first.status_code == 200
    page1 = LINKS.findall(first.text)
    assert len(page1) == 25 and 'id="page-prev"' not in first.text
    nxt = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert nxt is not None
    second = await web.get(nxt.group(1).replace("&amp;", "&"))
    page2 = LINKS.findall(second.text)
    assert page2 and not set(page1) & set(page2) and 'id="page-prev"' in second.text

    listed = await web.get("/customers", params={"segment": gold})
    names = re.findall(r'class="profile-link" dir="auto">([^<]+)<', listed.text)
    # The seeded Sara is on the gold plan too.
    assert sorted(names) == [f"Member {i:02d}" for i in range(0, 40, 3)] + ["سارا احمدی"]
    assert f'<option value="{gold}" dir="auto" selected>طلایی</option>' in listed.text
    narrowed = await web.get("/customers", params={"segment": gold, "q": "Member 0"})
    assert sorted(re.findall(r'dir="auto">(Member [^<]+)<', narrowed.text)) == [
        "Member 00", "Member 03", "Member 06", "Member 09",
    ]  # fmt: skip

    by_trait = await web.get(
        "/customers", params={"trait": "plan", "op": "neq", "value": "GOLD", "q": "Member 0"}
    )
    trait_names = re.findall(r'class="profile-link" dir="auto">([^<]+)<', by_trait.text)
    assert sorted(trait_names) == ["Member 01", "Member 02", "Member 04", "Member 05",
                                   "Member 07", "Member 08"]  # fmt: skip
    assert 'id="save-segment"' not in by_trait.text  # a viewer cannot save segments
    bad = await web.get("/customers", params={"trait": "plan", "op": "like", "value": "x"})
    assert bad.status_code == 400 and 'data-field="op"' in bad.text

    csv_link = re.search(r'href="([^"]+)" id="csv-export"', listed.text)
    assert csv_link is not None
    exported = await web.get(csv_link.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["user_id"] for r in rows) == [f"m-{i:02d}" for i in range(0, 40, 3)] + [
        "sara-42"
    ]
    assert {r["plan"] for r in rows} == {" Gold ", "gold"}


async def test_saving_the_trait_filter_as_a_segment(web: httpx.AsyncClient, site: Site) -> None:
    _add_members(site, 9)
    await sign_in(web, "analyst")
    params = {"trait": "plan", "op": "in", "value": "gold, platinum"}
    listed = await web.get("/customers", params=params)
    assert 'id="save-segment"' in listed.text
    token = await page_csrf(web, "/customers")
    saved = await web.post(
        "/customers/segments", data={**params, "name": "VIP", "csrf_token": token}
    )
    assert saved.status_code == 303
    seg_id = saved.headers["location"].split("segment=")[1]
    with site.runtime.db.session() as session:
        seg = segments.get_segment(session, workspace_id=site.workspace_id, segment_id=seg_id)
        assert (seg.name, seg.conditions) == (
            "VIP",
            [{"kind": "trait", "key": "plan", "op": "in", "value": ["gold", "platinum"]}],
        )
    shown = await web.get(saved.headers["location"])
    assert sorted(re.findall(r'class="profile-link" dir="auto">([^<]+)<', shown.text)) == [
        "Member 00", "Member 03", "Member 06", "سارا احمدی",
    ]  # fmt: skip
    await sign_in(web, "viewer")
    token = await page_csrf(web, "/customers")
    refused = await web.post(
        "/customers/segments", data={**params, "name": "x", "csrf_token": token}
    )
    assert refused.status_code == 403


async def test_a_stale_segment_link_shows_everyone_and_says_so(
    web: httpx.AsyncClient, site: Site
) -> None:
    _add_members(site, 5)
    await sign_in(web, "viewer")
    res = await web.get("/customers", params={"segment": "seg_gone", "period": "7d"})
    assert res.status_code == 200
    assert 'id="missing-segment"' in res.text and "<bdi>seg_gone</bdi>" in res.text
    assert len(LINKS.findall(res.text)) >= 5
