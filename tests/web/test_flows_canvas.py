"""The automation builder's canvas and webhook form in headless Chromium, Persian and English:
a wide journey (ten columns) scrolls, pans and zooms inside its own box (buttons, Ctrl and the
wheel, the keyboard), its boxes, arrows and labels do not overlap and point the reading way;
its webhook step is edited with a form (URL, method, headers, a JSON body refused at publish
next to its field), then published and seen counting."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from safar.flows import library
from safar.flows import service as flows
from tests.web.factories import SHOTS, Site, needs_chromium, shot, sign_in_page, use_language

FLOW_ID = re.compile(r"/automations/(flw_[0-9a-f]+)")
VIEW = "document.getElementById('fb-viewport')"
#: The canvas's scale, read from its computed transform (``none`` at 100%).
SCALE = """() => {
  const t = getComputedStyle(document.getElementById('fb-canvas')).transform;
  return t === 'none' ? 1 : Number(t.match(/matrix\\(([^,]+)/)[1]);
}"""
#: Resolves once the box's scroll position has stopped moving (smooth scrolling has ended).
SETTLED = """() => new Promise(done => {
  const view = document.getElementById('fb-viewport');
  let last = null;
  const tick = () => {
    const now = view.scrollLeft + ',' + view.scrollTop;
    if (now === last) { done(true); } else { last = now; setTimeout(tick, 150); }
  };
  tick();
})"""
#: Pairs of things on the canvas that overlap: two boxes, or an arrow's label and a box.
OVERLAPS = """() => {
  const boxes = [...document.querySelectorAll('.fb-node')].map(e => [e.dataset.node, e.getBoundingClientRect()]);
  const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const out = [];
  boxes.forEach(([i, a], k) => boxes.slice(k + 1).forEach(([j, b]) => { if (hit(a, b)) out.push(i + ' / ' + j); }));
  document.querySelectorAll('.fb-edge-label').forEach(t => {
    const r = t.getBoundingClientRect();
    boxes.forEach(([i, b]) => { if (hit(r, b)) out.push('label ' + t.textContent + ' / ' + i); });
  });
  return out;
}"""
#: Arrows that do not come into their target the reading way: through its start side (the
#: right one on a right-to-left page) heading towards the end, or up through its bottom.
WRONG_WAY = """() => {
  const rtl = document.documentElement.dir === 'rtl', out = [];
  document.querySelectorAll('.fb-edge').forEach(p => {
    const to = document.querySelector(`[data-node="${p.dataset.edge.split('>')[1]}"]`);
    const v = p.getAttribute('d').match(/-?[\\d.]+/g).map(Number);  // x1 y1 cx1 cy1 cx2 cy2 x2 y2
    const left = parseFloat(to.style.left), top = parseFloat(to.style.top);
    const dx = v[6] - v[4], dy = v[7] - v[5];
    const side = Math.abs(v[6] - (rtl ? left + to.offsetWidth : left)) < 1 && Math.sign(dx) === (rtl ? -1 : 1);
    const bottom = Math.abs(v[7] - (top + to.offsetHeight)) < 1 && dy < 0 && dx === 0;
    if (!side && !bottom) { out.push(p.dataset.edge); }
  });
  return out;
}"""
#: Boxes whose name or kind is cut off (too wide, or a line hidden past the two shown), or whose
#: content overflows the box.
CLIPPED = """() => [...document.querySelectorAll('.fb-node')].filter(b =>
  b.scrollHeight > b.clientHeight + 1 ||
  [...b.querySelectorAll('.fb-name, .fb-type')].some(e =>
    e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 8)  // a hidden line
).map(b => b.dataset.node)"""


def _add_after(page: Any, node: str, kind: str, new: str) -> None:
    """Select ``node`` (or the entry), add a ``kind`` step after it, wait for ``new``."""
    page.click(f'[data-node="{node}"]')
    page.wait_for_selector(f'[data-node="{node}"].fb-selected')
    page.select_option("#fb-add select", kind)
    page.click("#fb-add button")
    page.wait_for_selector(f'[data-node="{new}"].fb-selected')


#: The steps of the wide journey, each added after the one before it: ten columns, with a split
#: and a branch whose paths join again.
WIDE_STEPS = (
    ("send", "send_1"),
    ("split", "split_1"),
    ("delay", "delay_1"),
    ("branch", "branch_1"),
    ("send", "send_2"),
    ("delay", "delay_2"),
    ("webhook", "webhook_1"),
    ("set_trait", "set_trait_1"),
)


def _build(page: Any, base: str, lang: str, trigger_event: str) -> None:
    """A blank journey on ``trigger_event`` with the wide steps, their fields filled in."""
    page.goto(f"{base}/automations")
    page.fill("#blank-name", f"Wide {lang}")
    page.click("#new-blank button[type=submit]")
    page.wait_for_url(re.compile(r"/automations/flw_"))
    page.wait_for_selector('[data-node="__entry__"].fb-selected')
    page.select_option('[data-path="trigger.type"] select', "event")
    page.fill('[data-path="trigger.event"] input', trigger_event)
    previous = "__entry__"
    for kind, node in WIDE_STEPS:
        _add_after(page, previous, kind, node)
        previous = node
    for send in ("send_1", "send_2"):
        page.click(f'[data-node="{send}"]')
        page.fill(f'[data-path="nodes.{send}.texts.fa.body"] textarea', "سلام {{ first_name }}")
    page.click('[data-node="branch_1"]')
    page.fill('[data-path="nodes.branch_1.rules.0.conditions.0.key"] input', "city")
    page.fill('[data-path="nodes.branch_1.rules.0.conditions.0.value"] input', "Tehran")
    page.click('[data-node="set_trait_1"]')
    page.fill('[data-path="nodes.set_trait_1.key"] input', "nudged")
    page.fill('[data-path="nodes.set_trait_1.value"] input', "yes")


def _check_drawing(page: Any, lang: str) -> None:
    """Every step named in the page's language; nothing overlaps, is cut off or points back."""
    names = page.eval_on_selector_all(
        "[data-node]:not([data-node=__entry__]) .fb-name", "els => els.map(e => e.textContent)"
    )
    assert len(names) == len(WIDE_STEPS) + 1, names
    assert all(not re.search("[A-Za-z]", n) for n in names) == (lang == "fa"), names
    assert page.locator(".fb-edge").count() >= len(WIDE_STEPS) + 2
    assert page.evaluate(OVERLAPS) == []
    assert page.evaluate(WRONG_WAY) == []
    assert page.evaluate(CLIPPED) == []


def _check_view(page: Any, lang: str) -> None:
    """Scrolls in its box (never the page), pans by dragging, zooms by buttons, wheel, keys."""
    sizes = page.evaluate(
        f"[{VIEW}.scrollWidth, {VIEW}.clientWidth, document.documentElement.scrollWidth,"
        " window.innerWidth]"
    )
    assert sizes[0] > sizes[1] + 500 and sizes[2] <= sizes[3], sizes
    page.evaluate(f"{VIEW}.scrollLeft = 0")  # the start (selecting steps scrolled it)
    entry = page.locator('[data-node="__entry__"]').bounding_box()
    box = page.locator("#fb-viewport").bounding_box()
    assert box["x"] <= entry["x"] and entry["x"] + entry["width"] <= box["x"] + box["width"]
    shot(page, f"{lang}-automation-wide-start")
    # Dragging the background pans the view towards the end of the journey: the boxes move.
    start = (box["x"] + box["width"] / 2, entry["y"] + entry["height"] + 30)  # under the row
    towards_end = 300 if lang == "fa" else -300
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + towards_end, start[1], steps=5)
    page.mouse.up()
    scrolled = page.evaluate(f"Math.abs({VIEW}.scrollLeft)")
    assert 250 <= scrolled <= 350, scrolled
    moved = page.locator('[data-node="__entry__"]').bounding_box()["x"] - entry["x"]
    assert abs(moved - towards_end) < 60, moved
    assert page.evaluate("window.scrollX") == 0
    shot(page, f"{lang}-automation-wide")
    # The arrow keys on the focused box pan too.
    page.focus("#fb-viewport")
    page.keyboard.press("ArrowLeft" if lang == "fa" else "ArrowRight")
    page.wait_for_function(f"Math.abs({VIEW}.scrollLeft) > {scrolled} + 20", timeout=3000)
    page.evaluate(SETTLED)  # the keys scroll smoothly: let it end before measuring again

    # Ctrl and the wheel zoom at the pointer: the box under it stays under it.
    assert page.evaluate(SCALE) == 1
    target = page.locator('[data-node="delay_1"]').bounding_box()
    at = (target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
    page.mouse.move(*at)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    page.wait_for_function(f"({SCALE})() > 1.05", timeout=5000)
    under = page.evaluate(
        f"document.elementFromPoint({at[0]}, {at[1]}).closest('[data-node]').dataset.node"
    )
    assert under == "delay_1"
    # The keys: 0 is the actual size, - and + zoom out and in.
    page.focus("#fb-viewport")
    page.keyboard.press("0")
    assert page.evaluate(SCALE) == 1
    page.keyboard.press("-")
    assert page.evaluate(SCALE) == pytest.approx(0.8)
    # The toolbar's buttons, from the keyboard too.
    page.focus("#fb-zoom-in")
    page.keyboard.press("Enter")
    assert page.evaluate(SCALE) == 1
    page.keyboard.press("Enter")
    assert page.evaluate(SCALE) == pytest.approx(1.25)
    page.click("#fb-zoom-level")
    assert page.evaluate(SCALE) == 1 and page.inner_text("#fb-zoom-level") in ("100%", "۱۰۰٪")
    # Fit to view: everything in the box, smaller, and still drawn without overlaps.
    page.click("#fb-fit")
    fitted = page.evaluate(f"[{VIEW}.scrollWidth, {VIEW}.clientWidth]")
    assert fitted[0] <= fitted[1] + 1, fitted
    assert 0.3 <= page.evaluate(SCALE) < 0.9
    level = page.inner_text("#fb-zoom-level")
    assert level not in ("100%", "۱۰۰٪") and ("٪" in level) == (lang == "fa"), level
    assert page.evaluate(OVERLAPS) == []
    shot(page, f"{lang}-automation-wide-fit")
    page.click("#fb-zoom-level")


def _check_webhook(page: Any, site: Site, lang: str) -> None:
    """The webhook's form; a body that is not JSON once rendered is refused next to it."""
    page.click('[data-node="webhook_1"]')
    page.fill('[data-path="nodes.webhook_1.url"] input', "https://erp.example/hooks")
    page.select_option('[data-path="nodes.webhook_1.method"] select', "PUT")
    body = '[data-path="nodes.webhook_1.body"] textarea'
    page.fill(body, '{"name": "{{ first_name }}", "total": {{ event.total }}}')
    page.click('[data-path="nodes.webhook_1.headers"] button')
    page.fill('[data-path="nodes.webhook_1.headers.X-Header"] input >> nth=1', "{{ profile_id }}")
    page.click("#fb-publish")
    alert = page.locator('[data-path="nodes.webhook_1.body"] [role=alert]')
    alert.wait_for()
    said = alert.evaluate("e => e.firstChild.textContent")  # the message, before the field
    assert "JSON" in said and ("مشتری نمونه" in said) == (lang == "fa"), said
    # Where it went wrong, in the reader's digits.
    assert re.search("[۰-۹]", said) if lang == "fa" else re.search("column [0-9]+", said), said
    assert lang == "en" or not re.search("[0-9]", said), said
    assert alert.locator("code").inner_text() == "nodes.webhook_1.body"
    assert page.locator('[data-node="webhook_1"].fb-invalid').count() == 1
    assert page.inner_text("#fb-flow-status") != "" and page.locator("#fb-flow-status.ok").count() == 0  # fmt: skip
    page.locator("#fb-side").screenshot(path=str(SHOTS / f"{lang}-automation-webhook-refused.png"))
    page.fill(body, '{"name": {{ first_name | tojson }}, "total": {{ event.total | default(0) }}}')
    page.click("#fb-publish")
    page.wait_for_function(
        "document.getElementById('fb-flow-status').classList.contains('ok')", timeout=10_000
    )
    assert page.locator("[role=alert]").count() == 0
    flow_id = FLOW_ID.search(page.url).group(1)  # type: ignore[union-attr]
    with site.runtime.db.session() as s:
        flow = flows.get_flow(s, workspace_id=site.workspace_id, flow_id=flow_id)
        row = flows.version_of(s, workspace_id=site.workspace_id, flow_id=flow_id, version=1)
        hook = next(n for n in row.definition["nodes"] if n["id"] == "webhook_1")
    assert flow.status == "published"
    assert hook["body"].startswith('{"name": {{ first_name | tojson }}')
    assert hook["headers"] == {"X-Header": "{{ profile_id }}"} and hook["method"] == "PUT"
    assert hook["url"] == "https://erp.example/hooks"


@needs_chromium
@pytest.mark.parametrize(
    ("lang", "trigger_event"), [("fa", "Product Viewed"), ("en", "Ticket Opened")]
)
def test_a_wide_journey_pans_and_zooms_and_its_webhook_is_edited_with_a_form(
    browser: Any, served: tuple[str, Site], lang: str, trigger_event: str
) -> None:
    base, site = served
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in_page(page, base, "admin")
    use_language(page, lang)
    _build(page, base, lang, trigger_event)
    _check_drawing(page, lang)
    _check_view(page, lang)
    _check_webhook(page, site, lang)

    httpx.post(
        f"{base}/v1/track",
        json={"userId": f"wide-{lang}", "event": trigger_event, "messageId": f"wide-{lang}"},
        auth=(site.write_key, ""),
    ).raise_for_status()
    one = "۱" if lang == "fa" else "1"
    page.wait_for_function(
        f"document.querySelector('[data-sum=entered]').textContent === '{one}'", timeout=20_000
    )
    # The split sends the person on to the delay or straight to the end (its second path).
    page.wait_for_function(
        "document.querySelector('[data-counts=split_1] [data-count=reached]')"
        f".textContent.endsWith('{one}')",
        timeout=10_000,
    )
    assert page.inner_text("[data-counts=send_1] [data-count=reached]").endswith(one)
    assert page.evaluate(CLIPPED) == []  # the counts fit their boxes
    page.click('[data-node="send_1"]')
    shot(page, f"{lang}-automation-wide-live")
    assert errors == []


@needs_chromium
@pytest.mark.parametrize("lang", ["fa", "en"])
def test_every_template_is_drawn_without_overlaps_or_cut_names(
    browser: Any, served: tuple[str, Site], lang: str
) -> None:
    base, _ = served
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in_page(page, base, "admin")
    use_language(page, lang)
    found: dict[str, list[list[str]]] = {}  # per template: overlaps, wrong-way arrows, cut names
    for name in library.names():
        page.goto(f"{base}/automations")
        page.click(f'[data-template="{name}"] button')
        page.wait_for_url(re.compile(r"/automations/flw_"))
        page.wait_for_selector('[data-node="__entry__"].fb-selected')
        page.locator("#fb-viewport").screenshot(path=str(SHOTS / f"{lang}-template-{name}.png"))
        assert page.locator(".fb-node").count() == len(library.load(name)["nodes"]) + 1
        found[name] = [page.evaluate(OVERLAPS), page.evaluate(WRONG_WAY), page.evaluate(CLIPPED)]
    assert {k: v for k, v in found.items() if v != [[], [], []]} == {}
    assert errors == []
