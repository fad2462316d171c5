"""A journey's webhook step, end to end: a real local receiver checks the HMAC signature, the
body (an object of templates, or one JSON template) and the step's own headers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from safar.orchestration.webhooks import verify_signature
from safar.runtime import Runtime
from tests.flows.factories import Clock, event, publish, pump
from tests.orchestration.factories import Gateway, SmtpServer
from tests.surveys.factories import make_workspace_id, survey_settings

SECRET = "whsec-test-0123456789"


BODIES = {
    "object": {"order": "{{ event.order_id }}", "customer": "{{ first_name }}"},
    "template": '{"order": {{ event.order_id | tojson }}, "customer": {{ first_name | tojson }}}',
}


@pytest.mark.parametrize(
    ("body", "method"),
    [(BODIES["object"], "POST"), (BODIES["template"], "PUT")],
    ids=["object-post", "template-put"],
)
def test_a_webhook_step_posts_signed_json_once(
    tmp_path: Path, smtp: SmtpServer, sms_gateway: Gateway, clock: Clock, body: Any, method: str
) -> None:
    got: list[dict[str, Any]] = []
    arrived = threading.Event()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            got.append(
                {
                    "ok": verify_signature(SECRET, self.headers.get("Safar-Signature", ""), body),
                    "key": self.headers.get("Safar-Idempotency-Key"),
                    "method": self.command,
                    "order": self.headers.get("X-Order"),
                    "body": json.loads(body),
                }
            )
            arrived.set()
            self.send_response(204)
            self.end_headers()

        do_PUT = do_POST

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks/safar"
    settings = survey_settings(
        tmp_path / "w", smtp, sms_gateway, text_analysis=False, webhook_secret=SECRET
    )
    rt = Runtime(settings, background=False, clock=clock)
    try:
        ws = make_workspace_id(rt)
        event(rt, ws, clock, type="track", event="Order Completed", userId="seed")
        publish(
            rt,
            ws,
            {
                "name": "Order to the ERP",
                "trigger": {"type": "event", "event": "Order Completed"},
                "start": "erp",
                "nodes": [
                    {"id": "erp", "type": "webhook", "url": url, "body": body, "method": method,
                     "headers": {"X-Order": "order-{{ event.order_id }}"}}
                ],
                "policy": {"topic": "transactional", "consent_purpose": None},
            },
        )  # fmt: skip
        event(rt, ws, clock, type="identify", userId="u1", traits={"firstName": "سارا"})
        order = event(
            rt,
            ws,
            clock,
            type="track",
            event="Order Completed",
            userId="u1",
            properties={"order_id": "A-17"},
        )
        rt.applier.apply([order])  # a replay sends nothing again
        pump(rt)
        assert arrived.wait(10)
        pump(rt)
        (call,) = got
        assert call["ok"] and call["key"].startswith("flow:") and call["method"] == method
        assert call["body"]["data"] == {"order": "A-17", "customer": "سارا"}
        assert call["body"]["node"] == "erp" and call["order"] == "order-A-17"
    finally:
        rt.close()
        server.shutdown()
