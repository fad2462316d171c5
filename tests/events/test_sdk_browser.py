"""Both browser SDKs, unmodified, in headless Chromium, from a page on another origin.

The page is served on its own port, so every request to Safar is cross-origin and CORS
applies. Safar sits behind a real proxy that answers 503 to the first event post; each SDK
retries (analytics-next adds ``X-Retry-Count``, RudderStack ``AnonymousId`` and
``rsa-since-last-attempt``, all custom headers behind a preflight), and every event arrives once.

- @segment/analytics-next 1.84.3: the standalone analytics.js Safar vendors and serves, with
  its settings from ``/v1/projects/{writeKey}/settings``; one-by-one and batching delivery.
- @rudderstack/analytics-js 3.34.1 (bundled build from npm), configured from ``/sourceConfig``;
  XHR delivery and ``useBeacon``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.events.sdk_support import (
    NODE_MODULES,
    FlakyProxy,
    PageServer,
    Reader,
    need,
    need_node_package,
)
from tests.processes import ServerProcess, create_workspace_cli
from tests.web.factories import CHROMIUM, launched_chromium

pytestmark = pytest.mark.slow
RUDDER_UMD = "@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    data_dir: Path = tmp_path_factory.mktemp("sdk-browser") / "safar"
    keys = create_workspace_cli(data_dir, "Browser shop")
    proc = ServerProcess(data_dir).start()
    try:
        yield proc, keys
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(CHROMIUM, "Chromium")
    with launched_chromium() as b:
        yield b


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[tuple[Path, PageServer]]:
    root = tmp_path / "site"
    root.mkdir()
    server = PageServer(root)
    try:
        yield root, server
    finally:
        server.close()


def _kind(event: dict[str, Any]) -> str:
    """What a stored event is, whatever id the SDK gave it: identify, page, group, track-N."""
    if event["type"] == "track":
        return f"track-{event['properties']['i']}"
    return str(event["type"])


EXPECTED = ["group", "identify", "page", "track-0", "track-1", "track-2"]


def _wait_for(reader: Reader, user: str, timeout: float = 45) -> list[dict[str, Any]]:
    """The events stored for ``user`` once all six are there (or at the timeout)."""
    deadline = time.monotonic() + timeout
    events: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        reader.flush()
        r = reader.http.get("/api/profiles/lookup", params={"type": "user_id", "value": user})
        if r.status_code == 200:
            events = reader.events(r.json()["id"])
            if len(events) >= len(EXPECTED):
                break
        time.sleep(0.3)
    return events


# Our own stub of the loader snippet: it queues calls until analytics.js replaces it.
SEGMENT_PAGE = """<!doctype html><html><head><meta charset="utf-8"><script>
(function () {
  var a = window.analytics = [];
  ["track", "identify", "page", "group", "alias", "ready", "reset", "debug"].forEach(function (m) {
    a[m] = function () { a.push([m].concat([].slice.call(arguments))); return a; };
  });
  a._writeKey = WRITE_KEY;
  a._cdn = SAFAR;
  a._loadOptions = LOAD_OPTIONS;
  window.safarReady = new Promise(function (resolve) { a.ready(function () { resolve(true); }); });
})();
</script><script async src="BUNDLE"></script></head><body>shop</body></html>
"""

SEGMENT_CALLS = """async (prefix) => {
  const a = window.analytics;
  const id = (n) => ({ messageId: prefix + '-' + n });
  await a.identify(prefix + '-u1', { email: prefix + '@example.com' }, id('identify'));
  await a.page('Shop', 'Home', { path: '/' }, id('page'));
  for (let i = 0; i < 3; i++) await a.track('Product Viewed', { i }, id('track-' + i));
  await a.group(prefix + '-home', { type: 'household' }, id('group'));
  return a.VERSION;
}"""


@pytest.mark.parametrize("strategy", ["standard", "batching"])
def test_analytics_next_from_safar_after_a_503(
    server: tuple[ServerProcess, dict[str, str]],
    browser: Any,
    pages: tuple[Path, PageServer],
    strategy: str,
) -> None:
    proc, keys = server
    root, site = pages
    prefix = f"ajs{strategy}"
    proxy = FlakyProxy(proc.base_url, fail=1).start()
    options: dict[str, Any] = {}
    if strategy == "batching":
        delivery = {"strategy": "batching", "config": {"size": 4, "timeout": 300}}
        options = {"integrations": {"Segment.io": {"deliveryStrategy": delivery}}}
    html = (
        SEGMENT_PAGE.replace("WRITE_KEY", orjson.dumps(keys["write_key"]).decode())
        .replace("SAFAR", orjson.dumps(proxy.url).decode())
        .replace("LOAD_OPTIONS", orjson.dumps(options).decode())
        .replace("BUNDLE", f"{proxy.url}/analytics.js/v1/{keys['write_key']}/analytics.min.js")
    )
    (root / "index.html").write_text(html)
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{site.url}/index.html")
        page.wait_for_function("window.safarReady", timeout=20_000)
        assert page.evaluate("window.safarReady") is True
        version = page.evaluate(SEGMENT_CALLS, prefix)
        assert version == "1.84.3"
        events = _wait_for(Reader(proc.base_url, keys["secret_key"]), f"{prefix}-u1")
    finally:
        page.close()
        proxy.close()
    assert sorted(_kind(e) for e in events) == EXPECTED
    assert {e["message_id"] for e in events} == {f"{prefix}-{k}" for k in EXPECTED}
    got = [(s.method, s.path) for s in proxy.log]
    assert ("GET", f"/v1/projects/{keys['write_key']}/settings") in got
    posts = proxy.posts()
    assert posts[0].status == 503 and all(p.status == 200 for p in posts[1:])
    assert any("x-retry-count" in p.headers for p in posts[1:]), "no retry was sent"
    assert {p.path for p in posts} == (
        {"/v1/b"} if strategy == "batching" else {"/v1/i", "/v1/p", "/v1/t", "/v1/g"}
    )
    # Only the 503 (answered on purpose) may be logged as a failed load.
    assert not [p for p in problems if "CORS" in p or "Access-Control" in p], problems


RUDDER_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="rudder.js"></script><script>
window.rudder = new rudderanalytics.RudderAnalytics();
window.rudderLoaded = new Promise(function (resolve) {
  window.rudder.load(WRITE_KEY, SAFAR, Object.assign({
    configUrl: SAFAR,
    polyfillIfRequired: false,
    logLevel: "ERROR",
    onLoaded: function () { resolve(true); }
  }, LOAD_OPTIONS));
});
</script></head><body>shop</body></html>
"""

RUDDER_CALLS = """async (prefix) => {
  const r = window.rudder;
  r.identify(prefix + '-u1', { email: prefix + '@example.com' });
  r.page('Shop', 'Home', { path: '/' });
  for (let i = 0; i < 3; i++) r.track('Product Viewed', { i });
  r.group(prefix + '-home', { type: 'household' });
  return r.getAnonymousId();
}"""


@pytest.mark.parametrize("transport", ["xhr", "beacon"])
def test_rudderstack_js_configured_by_safar(
    server: tuple[ServerProcess, dict[str, str]],
    browser: Any,
    pages: tuple[Path, PageServer],
    transport: str,
) -> None:
    need_node_package("@rudderstack/analytics-js")
    proc, keys = server
    root, site = pages
    prefix = f"rs{transport}"
    # sendBeacon never shows the page a response, so the 503 is injected on XHR delivery only.
    proxy = FlakyProxy(proc.base_url, fail=1 if transport == "xhr" else 0).start()
    options: dict[str, Any] = {"queueOptions": {"minRetryDelay": 200, "maxRetryDelay": 1000}}
    if transport == "beacon":
        options = {"useBeacon": True, "beaconQueueOptions": {"flushQueueInterval": 300}}
    (root / "rudder.js").symlink_to(NODE_MODULES / RUDDER_UMD)
    html = (
        RUDDER_PAGE.replace("WRITE_KEY", orjson.dumps(keys["write_key"]).decode())
        .replace("SAFAR", orjson.dumps(proxy.url).decode())
        .replace("LOAD_OPTIONS", orjson.dumps(options).decode())
    )
    (root / "index.html").write_text(html)
    page = browser.new_page()
    try:
        page.goto(f"{site.url}/index.html")
        page.wait_for_function("window.rudderLoaded", timeout=20_000)
        assert page.evaluate("window.rudderLoaded") is True
        anonymous_id = page.evaluate(RUDDER_CALLS, prefix)
        reader = Reader(proc.base_url, keys["secret_key"])
        events = _wait_for(reader, f"{prefix}-u1")
    finally:
        page.close()
        proxy.close()
    assert sorted(_kind(e) for e in events) == EXPECTED
    assert any(s.method == "GET" and s.path.startswith("/sourceConfig") for s in proxy.log)
    posts = proxy.posts()
    if transport == "beacon":
        assert posts and {p.path for p in posts} == {"/beacon/v1/batch"}
        assert all(p.headers["content-type"].startswith("text/plain") for p in posts)
    else:
        assert posts[0].status == 503 and all(p.status == 200 for p in posts[1:])
        assert all("anonymousid" in p.headers for p in posts)
        assert any("rsa-since-last-attempt" in p.headers for p in posts[1:]), "no retry"
        preflights = [s for s in proxy.log if s.method == "OPTIONS"]
        assert preflights and all(s.status == 204 for s in preflights)
    profile = reader.lookup("user_id", f"{prefix}-u1")
    assert ("anonymous_id", anonymous_id) in {
        (i["type"], i["value"]) for i in profile["identities"]
    }
