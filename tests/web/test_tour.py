"""Every dashboard page, with data, in both languages in real Chromium at 1280 px: no English
left on a Persian page, no serious accessibility violation (axe-core), a top bar on one line.

Screenshots of every page in both languages go to test-artifacts/screens/tour-*.png.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from safar.web import catalog
from safar.web.i18n import Formatter
from tests.web.factories import PASSWORD, TOUR_PAGES, Site, needs_chromium, shot, tour

pytestmark = needs_chromium

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
PAGES = TOUR_PAGES
#: Latin words a Persian page may show outside customer data: names of measures and formats.
ACRONYMS = frozenset(
    {"NPS", "CSAT", "CES", "SMS", "CSV", "TSV", "JSON", "JSONL", "YAML", "Parquet", "API", "URL"}
)

#: The text a reader sees, without what is the customer's or the workspace's own (isolated in
#: <bdi> or dir="auto", or code): one string per text node, plus the placeholders and accessible
#: names of the controls.
VISIBLE_TEXT = """() => {
    const lang = document.documentElement.lang;
    // A chart drawn as SVG (the funnel) holds its labels as text, as a canvas chart holds
    // pixels: neither is checked here; their labels are the tables' beside them.
    const own = `bdi, [dir=auto], [lang]:not([lang=${lang}]), code, pre, kbd, samp, textarea, `
        + 'script, style, template, noscript, svg';
    const out = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const el = n.parentElement;
        if (!n.data.trim() || el.closest(own)) continue;
        const shown = el.closest('select') ? el.closest('select') : el;
        if (!shown.checkVisibility()) continue;
        out.push(n.data.trim() + (window.TOUR_DEBUG ? ` <${el.tagName} ${el.className}>` : ''));
    }
    for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
        // A field for an identifier (dir="ltr") may show one as its example.
        if (el.closest(own) || el.closest('[dir=ltr]') || !el.checkVisibility()) continue;
        for (const a of ['placeholder', 'aria-label', 'title']) {
            if (el.getAttribute(a)) out.push(el.getAttribute(a));
        }
    }
    return out;
}"""


@cache
def translated_ids() -> list[tuple[str, re.Pattern[str]]]:
    """Each catalogue message Persian says differently, as a pattern of its English text (its
    placeholders match anything), for messages with at least one English word of their own."""
    out = []
    for message in catalog.load("fa"):
        msgid = str(message.id)
        if not msgid or not message.string or message.string == msgid:
            continue
        literal = re.sub(r"%\([a-z_]+\)[sd]|%[sd]", " ", msgid)
        if not re.search(r"[A-Za-z]{2,}", literal):
            continue
        parts = re.split(r"(%\([a-z_]+\)[sd]|%[sd])", msgid.replace("%%", "%"))
        body = "".join(".+?" if p.startswith("%") and len(p) > 1 else re.escape(p) for p in parts)
        pattern = (r"\b" if msgid[0].isalnum() else "") + body
        pattern += r"\b" if msgid[-1].isalnum() else ""
        out.append((msgid, re.compile(pattern)))
    return out


@cache
def persian_fragments() -> list[str]:
    """The literal pieces of every Persian translation, longest first: English words inside
    them (a property name, a file format) are the translator's choice."""
    pieces = set()
    for message in catalog.load("fa"):
        for piece in re.split(r"%\([a-z_]+\)[sd]|%[sd]", str(message.string or "")):
            if re.search(r"[A-Za-z]", piece) and len(piece.strip()) > 3:
                pieces.add(piece.replace("%%", "%").strip())
    return sorted(pieces, key=len, reverse=True)


@pytest.fixture(scope="module")
def pages(served: tuple[str, Site]) -> dict[str, str]:
    paths = tour(served[1])
    assert tuple(paths) == TOUR_PAGES
    return paths


@pytest.fixture(scope="module", params=["fa", "en"])
def reader(request: pytest.FixtureRequest, browser: Any, served: tuple[str, Site]) -> Iterator[Any]:
    """A signed-in admin's tab in one language, at 1280 px."""
    base, _ = served
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.goto(f"{base}/login")
    tab.fill("input[name=email]", "admin@example.com")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}/")
    if tab.get_attribute("html", "lang") != request.param:
        tab.click("#lang-switch")
        tab.wait_for_load_state()
    assert tab.get_attribute("html", "lang") == request.param
    tab.base = base
    tab.language = request.param
    yield tab
    context.close()


def visit(reader: Any, path: str) -> None:
    res = reader.goto(reader.base + path)
    assert res.status == 200, (path, res.status)
    reader.wait_for_load_state("networkidle")


def english_left(texts: list[str]) -> list[str]:
    """What a Persian reader would find in English: catalogue messages shown untranslated, and
    any other English word outside customer data."""
    found = []
    for text in texts:
        hits = [msgid for msgid, pattern in translated_ids() if pattern.search(text)]
        rest = text
        for piece in persian_fragments():
            rest = rest.replace(piece, " ")
        words = [w for w in re.findall(r"[A-Za-z]{2,}", rest) if w not in ACRONYMS]
        if hits or words:
            found.append(f"{text!r} (catalogue: {hits})" if hits else repr(text))
    return found


@pytest.mark.parametrize("reader", ["en"], indirect=True)
@pytest.mark.parametrize("name", PAGES)
def test_english_pages_isolate_persian_data(reader: Any, pages: dict[str, str], name: str) -> None:
    """Persian customer data on an English page sits in <bdi> or dir="auto", so it keeps its
    own direction (and nothing of the Persian catalogue leaks onto the page)."""
    visit(reader, pages[name])
    left = [t for t in reader.evaluate(VISIBLE_TEXT) if re.search("[\u0600-\u06ff]", t)]
    assert not left, f"{name}:\n" + "\n".join(left)


@pytest.mark.parametrize("reader", ["fa"], indirect=True)
@pytest.mark.parametrize("name", PAGES)
def test_persian_pages_show_no_english(reader: Any, pages: dict[str, str], name: str) -> None:
    visit(reader, pages[name])
    left = english_left(reader.evaluate(VISIBLE_TEXT))
    assert not left, f"{name}:\n" + "\n".join(left)


def test_the_check_finds_an_untranslated_message() -> None:
    assert english_left(["نمای کلی", "سارا"]) == []
    assert english_left(["۳ مشتری"]) == []
    found = english_left(["Process map", "از Email Sent"])
    assert found[0].startswith("'Process map' (catalogue: ['Process map'])") and len(found) == 2


def _axe_source() -> str:
    if not AXE.exists():
        reason = f"axe-core not installed ({AXE}); run `make sdk-packages`"
        if os.environ.get("SAFAR_TEST_REQUIRE_SDKS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE.read_text()


@pytest.mark.parametrize("name", PAGES)
def test_pages_have_no_serious_accessibility_violation(
    reader: Any, pages: dict[str, str], name: str
) -> None:
    source = _axe_source()
    visit(reader, pages[name])
    shot(reader, f"tour-{reader.language}-{name}")
    reader.add_script_tag(content=source)
    violations = reader.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 5)
                .map(n => n.target.join(' ')).join(', ')}`)"""
    )
    assert not violations, f"{reader.language} {name}:\n" + "\n".join(violations)


def run_axe(tab: Any) -> list[str]:
    """axe-core's serious and critical violations on the tab's page: rule, then targets."""
    tab.add_script_tag(content=_axe_source())
    found: list[str] = tab.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 5)
                .map(n => n.target.join(' ')).join(', ')}`)"""
    )
    return found


@pytest.mark.parametrize("language", ["fa", "en"])
def test_public_pages_are_accessible(browser: Any, served: tuple[str, Site], language: str) -> None:
    """The sign-in page and an error page, for someone not signed in."""
    base, _ = served
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    for name, path, status in (("login", "/login", 200), ("not-found", "/nowhere", 404)):
        res = tab.goto(f"{base}{path}?lang={language}")
        assert res.status == status and tab.get_attribute("html", "lang") == language
        shot(tab, f"tour-{language}-{name}")
        violations = run_axe(tab)
        assert not violations, f"{language} {name}:\n" + "\n".join(violations)
        if language == "fa":
            left = english_left(tab.evaluate(VISIBLE_TEXT))
            assert not left, f"{name}:\n" + "\n".join(left)
    context.close()


def test_account_menu_opens_by_keyboard_and_is_accessible(
    reader: Any, pages: dict[str, str]
) -> None:
    visit(reader, pages["overview"])
    reader.focus("#account-menu summary")
    reader.keyboard.press("Enter")
    assert reader.is_visible("#logout") and reader.is_visible("#calendar-switch")
    shot(reader, f"tour-{reader.language}-account-menu")
    violations = run_axe(reader)
    assert not violations, "\n".join(violations)
    if reader.language == "fa":
        left = english_left(reader.evaluate(VISIBLE_TEXT))
        assert not left, "\n".join(left)
    reader.keyboard.press("Escape")
    assert not reader.is_visible("#logout")
    assert reader.evaluate("document.activeElement.matches('#account-menu summary')")


def _bar(tab: Any) -> dict[str, Any]:
    """The top bar's height, and the boxes of its menu entries and tools."""
    box: dict[str, Any] = tab.evaluate(
        """() => {
            const r = el => { const b = el.getBoundingClientRect();
                return {top: b.top, bottom: b.bottom, left: b.left, right: b.right}; };
            const bar = document.querySelector('.topbar');
            const items = [...bar.querySelectorAll('.brand, .nav a, #lang-switch, .account summary')];
            return {height: bar.getBoundingClientRect().height, width: innerWidth,
                    scroll: document.documentElement.scrollWidth,
                    items: items.map(r),
                    labels: [...bar.querySelectorAll('.nav a .label')].map(l => l.getBoundingClientRect().width > 2)};
        }"""
    )
    return box


@pytest.mark.parametrize("width", [1280, 1140, 1024, 700, 400])
def test_top_bar_stays_on_one_line(reader: Any, pages: dict[str, str], width: int) -> None:
    """Eight menu entries, the language switch and the account menu in one line at 1280 px
    with their labels; narrower, the entries show icons only and keep their names; nothing
    wraps and the page never scrolls sideways."""
    reader.set_viewport_size({"width": width, "height": 900})
    try:
        visit(reader, pages["overview"])
        bar = _bar(reader)
        items = bar["items"]
        assert len(items) == 8 + 3, items  # brand, eight entries, language, account
        # One line: every item's vertical middle lies within every other's top and bottom.
        middles = [(i["top"] + i["bottom"]) / 2 for i in items if i["right"] > i["left"]]
        assert all(
            i["top"] < m < i["bottom"] for m in middles for i in items if i["right"] > i["left"]
        )
        assert bar["height"] < 64, bar
        assert bar["scroll"] <= width, bar
        # Every entry is on screen, none scrolled out of the menu.
        assert all(i["left"] >= 0 and i["right"] <= width for i in items), items
        if width > 1120:  # app.css: labels shown from 1121 px up
            assert all(bar["labels"]), bar["labels"]
        elif width <= 1024:
            assert bar["labels"].count(True) <= 1  # only the current page's label, if any
        names = reader.eval_on_selector_all(
            ".nav a", "els => els.map(a => a.innerText.trim() || a.textContent.trim())"
        )
        assert all(names), names  # an icon-only entry still has its name
        reader.focus(".nav a:nth-of-type(3)")
        reader.keyboard.press("Tab")
        focused = reader.evaluate("document.activeElement.dataset.nav")
        assert focused, "the menu can be walked by keyboard"
        shot(reader, f"tour-{reader.language}-topbar-{width}")
    finally:
        reader.set_viewport_size({"width": 1280, "height": 900})


def test_charts_write_numbers_and_percents_in_the_page_s_locale(
    reader: Any, pages: dict[str, str]
) -> None:
    """ECharts' axis labels come from the page's locale: Persian digits, decimal sign, minus and
    percent sign on a Persian page, as the server writes them (``Formatter``)."""
    fmt = Formatter(reader.language)
    axis = """([id, value]) => {
        const option = echarts.getInstanceByDom(document.getElementById(id)).getOption();
        const axis = [...option.xAxis, ...option.yAxis].find(a => a.type === 'value');
        return axis.axisLabel.formatter(value);
    }"""
    visit(reader, pages["journeys"])
    reader.wait_for_selector("#chart-drivers[data-drawn]")
    assert reader.evaluate(axis, ["chart-drivers", -1.5]) == fmt.number(-1.5)
    visit(reader, pages["survey-csat"])
    reader.wait_for_selector("#chart-csat[data-drawn]")
    assert reader.evaluate(axis, ["chart-csat", 62.5]) == fmt.percent(62.5)
    assert reader.evaluate(axis, ["chart-csat", -2]) == fmt.percent(-2)
