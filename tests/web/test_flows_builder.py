"""The automations pages: list, new from a template or blank, the visual builder's save,
publish, preview and live counts (httpx), and the builder driven in headless Chromium in
Persian and English: a two-step journey built, published and seen counting its first entrant."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from safar.flows import library
from safar.flows import service as flows
from safar.identity.service import lookup
from tests.flows.factories import Clock, event, pump
from tests.web.factories import (
    SHOTS,
    Site,
    needs_chromium,
    page_csrf,
    shot,
    sign_in,
    sign_in_page,
    use_language,
)

FLOW_ID = re.compile(r"/automations/(flw_[0-9a-f]+)")


def two_steps(trigger_event: str = "Product Viewed", **changes: Any) -> dict[str, Any]:
    """Entry on an event, a personal SMS, an hour's delay, the end."""
    definition: dict[str, Any] = {
        "name": "Welcome SMS",
        "trigger": {"type": "event", "event": trigger_event, "where": []},
        "start": "hello",
        "nodes": [
            {
                "id": "hello",
                "type": "send",
                "channel": "sms",
                "texts": {
                    "fa": {"subject": "", "body": "سلام {{ traits.name }}"},
                    "en": {"subject": "", "body": "Hello {{ traits.name }}"},
                },
                "next": "later",
            },
            {"id": "later", "type": "delay", "mode": "duration", "seconds": 3600, "next": "end"},
            {"id": "end", "type": "exit"},
        ],
    }
    definition.update(changes)
    return definition


def blank_flow(site: Site, name: str = "Draft") -> str:
    with site.runtime.db.session() as s:
        flow = flows.create_flow(
            s,
            workspace_id=site.workspace_id,
            definition={
                "name": name,
                "trigger": {"type": "api"},
                "start": "end",
                "nodes": [{"id": "end", "type": "exit"}],
            },
            user="test",
            now=datetime.now(UTC),
        )
        return flow.id


async def post_json(web: httpx.AsyncClient, path: str, body: Any, csrf: str) -> httpx.Response:
    return await web.post(path, json=body, headers={"X-CSRF-Token": csrf})


async def test_viewer_sees_the_builder_but_cannot_change_it(
    web: httpx.AsyncClient, site: Site
) -> None:
    flow_id = blank_flow(site, "Viewer's view")
    await sign_in(web, "viewer")
    listing = await web.get("/automations")
    assert listing.status_code == 200 and 'data-nav="automations"' in listing.text
    assert "خودکارسازی" in listing.text and "Viewer&#39;s view" in listing.text
    assert 'id="new-flow"' not in listing.text and 'value="archive"' not in listing.text
    page = await web.get(f"/automations/{flow_id}")
    assert page.status_code == 200 and '"can_edit":false' in page.text
    assert 'id="fb-save"' not in page.text and 'id="fb-canvas"' in page.text
    csrf = await page_csrf(web, "/automations")
    saved = await post_json(web, f"/automations/{flow_id}/definition", two_steps(), csrf)
    assert saved.status_code == 403
    published = await post_json(web, f"/automations/{flow_id}/publish", two_steps(), csrf)
    assert published.status_code == 403
    created = await web.post("/automations", data={"name": "x", "csrf_token": csrf})
    assert created.status_code == 403
    paused = await web.post(
        f"/automations/{flow_id}/status", data={"action": "archive", "csrf_token": csrf}
    )
    assert paused.status_code == 403
    stats = await web.get(f"/automations/{flow_id}/stats")
    assert stats.status_code == 200 and stats.json()["summary"]["entered"] == "۰"


async def test_new_from_every_template_and_blank(web: httpx.AsyncClient, site: Site) -> None:
    await sign_in(web, "analyst")
    listing = await web.get("/automations")
    assert 'id="no-flows"' in listing.text
    for name in library.names():
        assert f'data-template="{name}"' in listing.text
    assert "سبد خرید رهاشده" in listing.text  # the abandoned cart template, in Persian
    csrf = await page_csrf(web, "/automations")
    made = await web.post("/automations", data={"template": "abandoned_cart", "csrf_token": csrf})
    assert made.status_code == 303
    cart_id = FLOW_ID.search(made.headers["location"]).group(1)  # type: ignore[union-attr]
    builder = await web.get(f"/automations/{cart_id}")
    assert builder.status_code == 200 and '"wait_order"' in builder.text
    assert '"can_edit":true' in builder.text
    blank = await web.post("/automations", data={"name": "سلام تازه", "csrf_token": csrf})
    blank_id = FLOW_ID.search(blank.headers["location"]).group(1)  # type: ignore[union-attr]
    with site.runtime.db.session() as s:
        names = {f.id: f.name for f in flows.list_flows(s, workspace_id=site.workspace_id)}
        ws = site.workspace_id
        cart = flows.version_of(s, workspace_id=ws, flow_id=cart_id, version=1).definition
        empty = flows.version_of(s, workspace_id=ws, flow_id=blank_id, version=1).definition
    assert names == {cart_id: "سبد خرید رهاشده", blank_id: "سلام تازه"}
    # Installed in the reader's language, its steps' names too; a blank one ends at "پایان".
    labels = [n["label"] for n in cart["nodes"]]
    assert len(labels) == 3 and not [x for x in labels if re.search("[A-Za-z]", x)], labels
    assert [(n["id"], n["label"]) for n in empty["nodes"]] == [("end", "پایان")]
    export = await web.get(f"/automations/{cart_id}/export?format=yaml")
    assert export.status_code == 200 and "wait_order" in export.text
    missing = await web.post("/automations", data={"template": "nope", "csrf_token": csrf})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "persian"),
    [
        ({"channel": "fax"}, "nodes.hello.channel", None),
        ({"texts": {}}, "nodes.hello.texts", "دست‌کم یک متن"),
        ({"next": "nowhere"}, "nodes.hello.next", "nowhere"),
    ],
)
async def test_a_bad_definition_comes_back_with_its_field(
    web: httpx.AsyncClient,
    site: Site,
    change: dict[str, Any],
    field: str,
    persian: str | None,
) -> None:
    flow_id = blank_flow(site)
    await sign_in(web, "agent")
    csrf = await page_csrf(web, f"/automations/{flow_id}")
    bad = two_steps()
    bad["nodes"][0].update(change)
    res = await post_json(web, f"/automations/{flow_id}/definition", bad, csrf)
    assert res.status_code == 400, res.text
    body = res.json()
    assert body["field"] == field and body["message"]
    if persian:
        assert persian in body["message"], body
    with site.runtime.db.session() as s:
        flow = flows.get_flow(s, workspace_id=site.workspace_id, flow_id=flow_id)
        kept = flows.version_of(s, workspace_id=site.workspace_id, flow_id=flow_id, version=1)
        assert flow.name == "Draft" and kept.definition["start"] == "end"


async def test_a_delay_without_its_duration_names_the_field_inside_the_node(
    web: httpx.AsyncClient, site: Site
) -> None:
    flow_id = blank_flow(site)
    await sign_in(web, "admin")
    csrf = await page_csrf(web, f"/automations/{flow_id}")
    bad = two_steps()
    bad["nodes"][1]["seconds"] = None
    res = await post_json(web, f"/automations/{flow_id}/definition", bad, csrf)
    assert res.status_code == 400 and res.json()["field"] == "nodes.later.seconds", res.text
    no_token = await web.post(f"/automations/{flow_id}/definition", json=two_steps())
    assert no_token.status_code == 403


async def test_publish_refuses_an_unknown_event_then_counts_an_entrant(
    web: httpx.AsyncClient, site: Site
) -> None:
    flow_id = blank_flow(site)
    await sign_in(web, "admin")
    csrf = await page_csrf(web, f"/automations/{flow_id}")
    refused = await post_json(web, f"/automations/{flow_id}/publish", two_steps("Signed Up"), csrf)
    assert refused.status_code == 400
    body = refused.json()
    assert body["field"] == "trigger.event"
    assert "Signed Up" in body["message"] and "رویدادی" in body["message"], body
    with site.runtime.db.session() as s:
        flow = flows.get_flow(s, workspace_id=site.workspace_id, flow_id=flow_id)
        assert flow.status == "draft" and flow.published_version is None
        assert flow.name == "Welcome SMS"  # the draft was kept, only publishing was refused
    before = (await web.get(f"/automations/{flow_id}/stats")).json()["summary"]["goal"]
    assert before == {"treatment": "–", "control": "–", "uplift": "–"}  # no goal yet
    goal = {"event": "Order Completed", "within_days": 7}
    ok = await post_json(web, f"/automations/{flow_id}/publish", two_steps(goal=goal), csrf)
    assert ok.status_code == 200 and ok.json()["status"] == "published", ok.text

    clock = Clock(datetime.now(UTC))
    event(site.runtime, site.workspace_id, clock, type="track", userId="user-1",
          event="Product Viewed")  # fmt: skip
    pump(site.runtime)
    stats = (await web.get(f"/automations/{flow_id}/stats")).json()
    assert stats["entered"] == 1 and stats["summary"]["entered"] == "۱"
    assert stats["nodes"]["hello"]["reached"] == "۱"
    # The site has no SMS gateway: the step is reached, its message is not delivered, and the
    # box says so (it counts what the scheduler sent, not what the journey queued).
    assert stats["nodes"]["hello"]["sent"] == "۰"
    assert stats["summary"]["messages"] == [{"label": "ارسال\u200cنشده: خطای کانال", "n": "۱"}]
    assert stats["nodes"]["later"]["waiting"] == "۱"
    # One entrant, no conversion yet, no holdout to compare with.
    assert stats["summary"]["goal"] == {"treatment": "۰٪ از ۱", "control": "–", "uplift": "–"}
    listing = await web.get("/automations")
    assert 'class="entered">۱<' in listing.text

    paused = await web.post(
        f"/automations/{flow_id}/status", data={"action": "pause", "csrf_token": csrf}
    )
    assert paused.status_code == 303
    resumed = await web.post(
        f"/automations/{flow_id}/status", data={"action": "resume", "csrf_token": csrf}
    )
    assert resumed.status_code == 303
    archived = await web.post(
        f"/automations/{flow_id}/status", data={"action": "archive", "csrf_token": csrf}
    )
    assert archived.status_code == 303
    assert (await web.get(f"/automations/{flow_id}")).status_code == 404
    assert f'data-flow="{flow_id}"' not in (await web.get("/automations")).text


async def test_preview_renders_a_send_step_for_a_real_profile(
    web: httpx.AsyncClient, site: Site
) -> None:
    flow_id = blank_flow(site)
    with site.runtime.db.session() as s:
        profile_id = lookup(s, workspace_id=site.workspace_id, type_="user_id", value="user-2")
    await sign_in(web, "viewer")
    csrf = await page_csrf(web, f"/automations/{flow_id}")
    body = {"definition": two_steps(), "node": "hello", "profile_id": profile_id}
    res = await post_json(web, f"/automations/{flow_id}/preview", body, csrf)
    assert res.status_code == 200, res.text
    texts = res.json()["texts"]
    assert texts["fa"]["body"] == "سلام Customer 2" and texts["en"]["body"] == "Hello Customer 2"
    res = await post_json(web, f"/automations/{flow_id}/preview", {**body, "node": "later"}, csrf)
    assert res.status_code == 400 and res.json()["field"] == "node"


async def test_the_summary_reports_uplift_against_the_holdout_in_persian(
    web: httpx.AsyncClient, site: Site
) -> None:
    flow_id = blank_flow(site)
    await sign_in(web, "admin")
    csrf = await page_csrf(web, f"/automations/{flow_id}")
    definition = two_steps(goal={"event": "Order Completed", "within_days": 7}, holdout_percent=50)
    ok = await post_json(web, f"/automations/{flow_id}/publish", definition, csrf)
    assert ok.status_code == 200, ok.text
    clock = Clock(datetime.now(UTC))
    # The holdout is drawn per profile: all 16 on one side has a chance of 1 in 32,768.
    for i in range(16):
        event(site.runtime, site.workspace_id, clock, type="track", userId=f"up-{i}",
              event="Product Viewed")  # fmt: skip
    pump(site.runtime)
    for i in range(0, 16, 2):
        event(site.runtime, site.workspace_id, clock, type="track", userId=f"up-{i}",
              event="Order Completed")  # fmt: skip
    pump(site.runtime)
    summary = (await web.get(f"/automations/{flow_id}/stats")).json()["summary"]
    assert summary["entered"] == "۱۶" and summary["holdout"] not in ("۰", "۱۶"), summary
    goal = summary["goal"]
    assert " از " in goal["treatment"] and " از " in goal["control"], goal
    assert "بازهٔ اطمینان ۹۵ درصد" in goal["uplift"], goal
    assert not re.search(r"[0-9]", goal["uplift"]), goal  # Persian digits only
    assert any(e["label"] == "رسیدن به هدف" for e in summary["exits"]), summary["exits"]


# -- the builder in headless Chromium (after the async tests: the module's browser keeps
# Playwright's event loop running on this thread until the module ends) ---------------------


def _build_and_publish(page: Any, base: str, lang: str, trigger_event: str) -> str:
    """Blank journey -> entry on ``trigger_event`` -> send SMS -> delay -> exit, published."""
    page.goto(f"{base}/automations")
    page.fill("#blank-name", f"Welcome {lang}")
    page.click("#new-blank button[type=submit]")
    page.wait_for_url(re.compile(r"/automations/flw_"))
    flow_id = FLOW_ID.search(page.url).group(1)  # type: ignore[union-attr]
    page.wait_for_selector('[data-node="__entry__"].fb-selected')
    page.select_option('[data-path="trigger.type"] select', "event")
    if lang == "fa":
        # An event this workspace has never seen is refused, with the field shown in red.
        page.fill('[data-path="trigger.event"] input', "Signed Up")
        page.click("#fb-publish")
        alert = page.locator('[data-path="trigger.event"] [role=alert]')
        alert.wait_for()
        assert "Signed Up" in alert.inner_text() and "رویدادی" in alert.inner_text()
        assert page.locator('[data-path="trigger.event"].fb-invalid').count() == 1
        shot(page, "fa-automation-refused")
    page.fill('[data-path="trigger.event"] input', trigger_event)
    page.select_option("#fb-add select", "send")
    page.click("#fb-add button")
    page.wait_for_selector('[data-node="send_1"].fb-selected')
    page.fill('[data-path="nodes.send_1.texts.fa.body"] textarea', "سلام {{ traits.name }}")
    page.fill('[data-path="nodes.send_1.texts.en.body"] textarea', "Hello {{ traits.name }}")
    page.select_option("#fb-add select", "delay")
    page.click("#fb-add button")
    page.wait_for_selector('[data-node="delay_1"].fb-selected')
    page.click("#fb-publish")
    page.wait_for_function(
        "document.getElementById('fb-flow-status').classList.contains('ok')", timeout=10_000
    )
    assert page.locator("#fb-alert").is_hidden()
    return flow_id


@needs_chromium
@pytest.mark.parametrize(
    ("lang", "trigger_event"), [("fa", "Product Viewed"), ("en", "Ticket Opened")]
)
def test_builder_builds_publishes_and_counts_in_chromium(
    browser: Any, served: tuple[str, Site], lang: str, trigger_event: str
) -> None:
    base, site = served
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in_page(page, base, "admin")
    use_language(page, lang)
    assert page.get_attribute("html", "lang") == lang
    flow_id = _build_and_publish(page, base, lang, trigger_event)
    # The graph: entry -> send -> delay -> exit, arrows labelled, boxes in reading order.
    for edge in ("__entry__>send_1", "send_1>delay_1", "delay_1>end"):
        assert page.locator(f'[data-edge="{edge}"]').count() == 1, edge
    xs = [page.locator(f'[data-node="{n}"]').bounding_box()["x"] for n in ("__entry__", "send_1", "delay_1", "end")]  # fmt: skip
    assert xs == sorted(xs, reverse=(lang == "fa")), xs

    httpx.post(
        f"{base}/v1/track",
        json={"userId": f"browser-{lang}", "event": trigger_event, "messageId": f"fb-{lang}"},
        auth=(site.write_key, ""),
    ).raise_for_status()
    one = "۱" if lang == "fa" else "1"
    page.wait_for_function(
        f"document.querySelector('[data-sum=entered]').textContent === '{one}'", timeout=20_000
    )
    page.wait_for_function(
        "document.querySelector('[data-counts=delay_1] [data-count=waiting]')"
        f".textContent.endsWith('{one}')",
        timeout=10_000,
    )
    reached = page.inner_text("[data-counts=send_1] [data-count=reached]")
    assert reached.endswith(one), reached
    page.click('[data-node="send_1"]')
    shot(page, f"{lang}-automation-builder")
    page.goto(f"{base}/automations")
    assert page.inner_text(f'[data-flow="{flow_id}"] .entered') == one
    shot(page, f"{lang}-automations")
    assert errors == []


@needs_chromium
def test_every_template_opens_and_every_step_has_its_form(
    browser: Any, served: tuple[str, Site]
) -> None:
    """The shipped journeys (branches, waits, splits of conditions) draw and edit without a
    script error; a dragged step keeps its place after saving; a message previews for a
    real customer."""
    base, site = served
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in_page(page, base, "admin")
    use_language(page, "fa")  # the user's choice is kept: an earlier test may have changed it
    for name in library.names():
        page.goto(f"{base}/automations")
        page.click(f'[data-template="{name}"] button')
        page.wait_for_url(re.compile(r"/automations/flw_"))
        nodes = page.eval_on_selector_all("[data-node]", "els => els.map(e => e.dataset.node)")
        assert len(nodes) == len(library.load(name)["nodes"]) + 1, name
        # In Persian every step's name and kind, the entry's description and every label of
        # the forms is Persian (event names, codes and template text are the user's data).
        shown = page.eval_on_selector_all(
            ".fb-node:not(.fb-entry) .fb-name, .fb-type", "els => els.map(e => e.textContent)"
        )
        assert not [t for t in shown if re.search("[A-Za-z]", t)], (name, shown)
        for node in nodes:
            page.click(f'[data-node="{node}"]')
            page.wait_for_selector(f'[data-node="{node}"].fb-selected')
            assert page.locator("#fb-form .fb-field").count() >= 1, (name, node)
            labels = page.eval_on_selector_all(
                "#fb-form .fb-field > span, #fb-form h2, #fb-form h3, #fb-form legend,"
                " #fb-form button, #fb-form option, #fb-form .fb-hint",
                "els => els.map(e => e.firstChild ? e.firstChild.textContent : '')",
            )
            # A target step shows its id after " · ", an edge its event after ": " (data);
            # acronyms stay as they are.
            words = [
                re.sub(r"\bAPI|JSON|NPS|CSAT|HH:MM\b", "", re.split(" · |: ", t)[0]) for t in labels
            ]
            latin = [t for t in words if re.search("[A-Za-z]", t)]
            assert not latin, (name, node, latin)
        if name == "detractor_recovery":
            page.click('[data-node="value"]')
            cond = '[data-path="nodes.value.rules.0.conditions.0.value"] input'
            assert page.input_value(cond) == "gold, platinum"
            assert page.locator('[data-edge="value>call"]').count() == 1
            page.evaluate("document.querySelector('.fb-canvas-wrap').scrollLeft = 0")
            shot(page, "fa-automation-branch")
    assert errors == []

    # Drag the send step down, save, reload: it stays where it was put.
    flow_id = FLOW_ID.search(page.url).group(1)  # type: ignore[union-attr]
    first = library.load("win_back")["nodes"][0]["id"]
    box = page.locator(f'[data-node="{first}"]').bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 20, box["y"] + 220, steps=5)
    page.mouse.up()
    page.click("#fb-save")
    page.wait_for_function("document.getElementById('fb-status').textContent.length > 1")
    with site.runtime.db.session() as s:
        flow = flows.get_flow(s, workspace_id=site.workspace_id, flow_id=flow_id)
        row = flows.version_of(s, workspace_id=site.workspace_id, flow_id=flow_id, version=1)
        moved = next(n for n in row.definition["nodes"] if n["id"] == first)
        assert flow.status == "draft" and moved["y"] >= 200, moved
    page.reload()
    again = page.locator(f'[data-node="{first}"]').bounding_box()
    assert abs(again["y"] - (box["y"] + 200)) < 5, (box, again)

    with site.runtime.db.session() as s:
        profile_id = lookup(s, workspace_id=site.workspace_id, type_="user_id", value="user-3")
    page.click(f'[data-node="{first}"]')
    page.fill("#fb-preview-profile", profile_id)
    page.click("#fb-preview button")
    page.wait_for_selector("#fb-preview-out .fb-preview-body")
    bodies = page.locator("#fb-preview-out .fb-preview-body").all_inner_texts()
    assert len(bodies) == 2 and all("{{" not in b for b in bodies), bodies
    page.locator("#fb-preview").screenshot(path=str(SHOTS / "fa-automation-preview.png"))
    assert errors == []
