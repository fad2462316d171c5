"""The Import page in real headless Chromium, in Persian and English: upload, map, progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.events.factories import import_csv
from tests.web.factories import Site, needs_chromium
from tests.web.factories import shot as _shot
from tests.web.factories import sign_in_page as _sign_in

pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium

CRM = (
    "Customer ID,E-mail,Phone,Timestamp,شهر\n"
    "c1,sara@example.com,09121234567,2026-03-01T09:00:00Z,تهران\n"
    ",nobody@example.com,,2026-03-01T10:00:00Z,شیراز\n"
    "c2,ali@example.com,09350000000,2026-03-02T09:00:00Z,اصفهان\n"
)


def _import(page: Any, base: str, path: Path, lang: str) -> None:
    page.goto(f"{base}/imports")
    page.set_input_files("#import-file", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#mapping-form")
    _shot(page, f"{lang}-import-mapping")


def test_import_page_uploads_maps_and_follows_progress(
    browser: Any, served: tuple[str, Site], tmp_path: Path
) -> None:
    base, _ = served
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, base, "admin")
    page.click("[data-nav=imports]")
    assert page.inner_text("h1") == "درون‌ریزی"
    _shot(page, "fa-imports")

    crm = tmp_path / "مشتریان.csv"
    crm.write_text(CRM, encoding="utf-8")
    _import(page, base, crm, "fa")
    chosen = page.eval_on_selector_all("#mapping select", "els => els.map(e => e.value)")
    assert chosen == ["userId", "traits.email", "traits.phone", "timestamp", ""]
    page.fill("input[name=event]", "Signed Up")
    page.click("#start-import")
    page.wait_for_selector("#import-done", timeout=60_000)
    assert page.inner_text("[data-count=stored]") == "۲"
    assert "userId or anonymousId is required" in page.inner_text("#bad-rows")
    _shot(page, "fa-import-done")

    # A larger file: the bar moves while the server imports, and the page shows the end
    # without a reload by hand (the script polls the status route).
    big = tmp_path / "orders.csv"
    big.write_bytes(import_csv(good=30_000))
    with page.expect_navigation():
        page.click("#lang-switch")
    _import(page, base, big, "en")
    assert page.locator("#mapping select").first.input_value() == "userId"
    page.fill("input[name=event]", "Order Completed")
    page.click("#start-import")
    page.wait_for_selector("#import-status")
    seen = page.evaluate("document.getElementById('import-status').dataset.state")
    assert seen in ("queued", "running"), seen
    page.wait_for_function("document.getElementById('import-progress').value > 0", timeout=60_000)
    page.wait_for_function(
        "document.querySelector('#import-meta [data-state]').dataset.state"
        " === 'running' || document.getElementById('import-done')"
    )
    _shot(page, "en-import-running")
    page.wait_for_selector("#import-done", timeout=120_000)
    assert page.inner_text("[data-count=stored]") == "30,000"
    assert page.get_attribute("html", "dir") == "ltr"
    _shot(page, "en-import-done")
    page.goto(f"{base}/imports")
    assert page.locator("#import-list tbody tr").count() == 2
    _shot(page, "en-imports")
    assert errors == []
