"""``/docs`` works offline: Swagger UI comes from the vendored files, never from a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from safar.app import create_app
from safar.config import Settings
from safar.runtime import Runtime
from tests.web.factories import CHROMIUM, CHROMIUM_ARGS, needs_chromium, serving

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.fixture
def docs_site(embedded_settings: Settings) -> Iterator[str]:
    runtime = Runtime(embedded_settings, ingest=False)
    try:
        with serving(create_app(runtime=runtime)) as base:
            yield base
    finally:
        runtime.close()


def test_docs_page_names_only_local_assets(docs_site: str) -> None:
    res = httpx.get(docs_site + "/docs")
    assert res.status_code == 200
    assets = ASSET.findall(res.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    assert all(a.startswith("/static/vendor/swagger-ui/") for a in assets), assets
    assert "http" not in res.text.replace(docs_site, ""), "an absolute URL on the page"
    for asset in assets:
        assert httpx.get(docs_site + asset).status_code == 200, asset
    # The CDN-loaded FastAPI default is gone, not shadowed.
    assert httpx.get(docs_site + "/redoc").status_code == 404


@needs_chromium
def test_docs_render_with_the_internet_blocked(docs_site: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.route("**/*", only_local)
            page.goto(docs_site + "/docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            paths = page.eval_on_selector_all(
                ".opblock-summary-path", "els => els.map(e => e.dataset.path)"
            )
            title = page.inner_text(".info .title")
        finally:
            browser.close()
    assert "/api/surveys" in paths and "/v1/track" in paths, paths[:20]
    assert title.startswith("Safar")
    assert not blocked and not errors, (blocked, errors)
