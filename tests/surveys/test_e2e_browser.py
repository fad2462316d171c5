"""End to end: an ``order_delivered`` event -> email at a real SMTP server -> answered in Persian
in headless Chromium -> NPS and CSAT move; fatigue holds back a second survey; an SMS reaches a
real local HTTP gateway and its link works with JavaScript switched off.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from safar.app import create_app
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace
from tests.orchestration.factories import Gateway, PassClock, SmtpServer
from tests.surveys.factories import survey_settings
from tests.web.factories import CHROMIUM, CHROMIUM_ARGS, listening_socket, needs_chromium, serving

pytestmark = [
    pytest.mark.slow,
    needs_chromium,
]


@dataclass
class Server:
    base: str
    runtime: Runtime
    workspace_id: str
    write_key: str
    secret: str
    clock: PassClock

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {self.secret}"}, timeout=10
        )

    def track(self, **msg: Any) -> None:
        r = httpx.post(f"{self.base}/v1/track", json=msg, auth=(self.write_key, ""), timeout=10)
        assert r.status_code == 200, r.text

    def flush(self) -> None:
        """Wait until everything acknowledged so far is applied (read-your-writes)."""
        r = self.api().post("/api/ingest/flush")
        assert r.status_code == 200 and r.json()["applied"] is True, r.text

    def identify(self, **msg: Any) -> None:
        r = httpx.post(f"{self.base}/v1/identify", json=msg, auth=(self.write_key, ""), timeout=10)
        assert r.status_code == 200, r.text


@pytest.fixture
def server(tmp_path: Path, smtp: SmtpServer, sms_gateway: Gateway) -> Iterator[Server]:
    sock = listening_socket()
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    settings = survey_settings(tmp_path / "safar", smtp, sms_gateway, public_url=base, port=port)
    runtime = Runtime(settings)
    clock = PassClock()
    runtime.scheduler.clock = clock
    try:
        with runtime.db.session() as s:
            ws, write, secret = create_workspace(s, name="Digikala-like shop")
            ws_id = ws.id
        with serving(create_app(runtime=runtime), sock):
            yield Server(base, runtime, ws_id, write, secret, clock)
    finally:
        runtime.close()


def metric(api: httpx.Client, name: str, survey_id: str) -> dict[str, Any]:
    rows = api.get("/api/surveys/metrics", params={"metric": name, "survey_id": survey_id}).json()
    return dict(rows["rows"][0]) if rows["rows"] else {}


def test_order_delivered_to_answer_in_persian_in_chromium(
    server: Server, smtp: SmtpServer, sms_gateway: Gateway
) -> None:
    from playwright.sync_api import sync_playwright

    api = server.api()
    survey = api.post("/api/surveys/from-template", json={"template": "post_delivery"}).json()
    ride = api.post("/api/surveys/from-template", json={"template": "post_ride"}).json()
    r = api.post(
        "/api/triggers",
        json={
            "name": "after delivery",
            "event": "order_delivered",
            "action": "survey",
            "params": {"survey_id": survey["id"]},
            "channel": "email",
            "delay_seconds": 1,
            "fatigue_days": 30,
        },
    )
    assert r.status_code == 201, r.text
    r = api.post(
        "/api/triggers",
        json={
            "name": "after ride",
            "event": "ride_finished",
            "action": "survey",
            "params": {"survey_id": ride["id"]},
            "channel": "sms",
            "fatigue_days": 30,
        },
    )
    assert r.status_code == 201, r.text
    assert metric(api, "nps", survey["id"]) == {}

    server.identify(
        userId="c-100",
        traits={"email": "maryam@example.ir", "first_name": "مریم", "language": "fa"},
    )
    server.track(
        userId="c-100",
        event="order_delivered",
        messageId="delivery-1",
        properties={"order_id": "A-1"},
    )
    mails = smtp.mailbox.wait(1, timeout=20)
    assert len(mails) == 1
    body = mails[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(re.escape(server.base) + r"/s/\S+", body)
    assert link is not None

    # A second delivery inside the fatigue window sends nothing.
    server.track(userId="c-100", event="order_delivered", messageId="delivery-2")
    server.flush()  # its job is scheduled, a second after the (scheduler's) now
    server.clock.advance(2)

    def statuses() -> list[str]:
        return sorted(j["status"] for j in api.get("/api/jobs").json())

    assert server.clock.wait_until(lambda: statuses() == ["done", "skipped"]), statuses()
    assert len(smtp.mailbox.messages) == 1

    # An SMS survey after a ride goes to the local HTTP gateway.
    server.identify(userId="c-200", traits={"phone": "0912 000 1122"})
    server.track(userId="c-200", event="ride_finished", messageId="ride-1")
    sms = sms_gateway.wait(1, timeout=20)
    assert len(sms) == 1 and sms[0]["body"]["to"] == "+989120001122"
    sms_link = re.search(r"http://\S+/s/\S+", sms[0]["body"]["text"])
    assert sms_link is not None

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="fa-IR", viewport={"width": 390, "height": 844})
            page.goto(link.group(0))
            assert page.evaluate("document.documentElement.dir") == "rtl"
            assert (
                page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "rtl"
            )
            assert page.evaluate("document.documentElement.lang") == "fa"
            assert "۱۰" in page.inner_text("form")
            # Mobile-first: nothing wider than the phone's screen.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            # CSAT by clicking a star label; NPS with the keyboard only.
            page.click('label.opt:has(input[name="csat"][value="4"])')
            page.focus('input[name="nps"][value="0"]')
            for _ in range(3):
                page.keyboard.press("ArrowDown")
            assert page.evaluate("document.querySelector('input[name=nps]:checked').value") == "3"
            page.get_by_role("button", name="ثبت پاسخ").click()
            page.wait_for_load_state()
            # A low score asks what went wrong; the field has its own label.
            box = page.get_by_label("چه چیزی باعث نارضایتی شما شد؟")
            box.fill("بسته دیر رسید و خیس بود")
            page.get_by_label("با تأخیر").check()
            page.get_by_role("button", name="ثبت پاسخ").click()
            page.wait_for_load_state()
            assert "سپاس" in page.inner_text("main")
            page.go_back()
            page.reload()
            assert "پاسخ داده شده" in page.inner_text("main")

            # The SMS link, answered in a browser with JavaScript switched off.
            nojs = browser.new_context(java_script_enabled=False, locale="fa-IR")
            p2 = nojs.new_page()
            p2.goto(sms_link.group(0))
            p2.click('label.opt:has(input[name="driver"][value="5"])')
            p2.get_by_role("button", name="ثبت پاسخ").click()
            p2.click('label.opt:has(input[name="nps"][value="10"])')
            p2.get_by_role("button", name="ثبت پاسخ").click()
            assert "سپاس" in p2.inner_text("main")
            nojs.close()
        finally:
            browser.close()

    nps = metric(api, "nps", survey["id"])
    csat = metric(api, "csat", survey["id"])
    assert nps["n"] == 1 and nps["score"] == -100.0
    assert csat["n"] == 1 and csat["mean"] == 4.0 and csat["top2_pct"] == 100.0
    assert metric(api, "nps", ride["id"])["score"] == 100.0
    responses = api.get(f"/api/surveys/{survey['id']}/responses").json()
    assert responses[0]["answers"]["what_wrong"] == "بسته دیر رسید و خیس بود"
    assert responses[0]["trigger_message_id"] == "delivery-1"
    assert responses[0]["channel"] == "email" and responses[0]["complete"] is True


def test_in_app_widget_in_chromium(server: Server) -> None:
    """An app asks for pending surveys, embeds the widget; the answer closes the overlay."""
    from playwright.sync_api import sync_playwright

    api = server.api()
    survey = api.post("/api/surveys/from-template", json={"template": "ces"}).json()
    server.identify(userId="app-1", traits={"language": "en"})
    server.flush()
    r = api.get("/api/profiles/lookup", params={"type": "user_id", "value": "app-1"})
    assert r.status_code == 200, r.text
    profile_id = r.json()["id"]
    r = api.post(f"/api/surveys/{survey['id']}/invitations", json={"profile_id": profile_id})
    assert r.status_code == 201, r.text
    pending = api.get("/api/surveys/pending", params={"profile_id": profile_id}).json()
    assert len(pending) == 1, (profile_id, r.json(), pending)
    token = pending[0]["token"]
    host = (
        "<!doctype html><html lang='en'><body><h1>My shop</h1>"
        f"<script src='{server.base}/s/widget.js' data-token='{token}' data-lang='en'></script>"
        "</body></html>"
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content(host)
            dialog = page.get_by_role("dialog")
            dialog.wait_for()
            assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Close"
            frame = page.frame_locator("iframe")
            frame.locator('label.opt:has(input[name="ces"][value="6"])').click()
            frame.get_by_role("button", name="Submit").click()  # optional comment left empty
            frame.get_by_text("Thank you!").wait_for()
            dialog.wait_for(state="detached", timeout=5000)
        finally:
            browser.close()
    ces = metric(api, "ces", survey["id"])
    assert ces["n"] == 1 and ces["mean"] == 6.0 and ces["easy_pct"] == 100.0
    assert api.get("/api/surveys/pending", params={"profile_id": profile_id}).json() == []
