"""Journeys across a real `safar serve` that is killed: a wait survives a SIGKILL and fires
once after the restart; a send interrupted by a SIGKILL is never sent twice."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.orchestration.factories import sms_gateway_server
from tests.processes import ServerProcess, create_workspace_cli


def journey(delay_s: int) -> dict[str, Any]:
    return {
        "name": "Reminder",
        "trigger": {"type": "event", "event": "Product Added"},
        "start": "wait",
        "nodes": [
            {"id": "wait", "type": "delay", "seconds": delay_s, "next": "sms"},
            {
                "id": "sms",
                "type": "send",
                "channel": "sms",
                "texts": {"fa": {"body": "یادآوری {{ event.n }}"}},
            },
        ],
        "entry": {"reentry": "always"},
        "policy": {"topic": "transactional", "consent_purpose": None},
    }


def send(server: ServerProcess, key: str, *msgs: dict[str, Any]) -> None:
    r = httpx.post(
        server.base_url + "/v1/batch", auth=(key, ""), json={"batch": list(msgs)}, timeout=30
    )
    assert r.status_code == 200, r.text


def flush(server: ServerProcess, secret: str) -> None:
    r = httpx.post(
        server.base_url + "/api/ingest/flush",
        headers={"authorization": f"Bearer {secret}"},
        timeout=60,
    )
    assert r.json()["applied"], r.text


def test_a_wait_survives_a_sigkill_and_fires_once(tmp_path: Path) -> None:
    data = tmp_path / "safar"
    keys = create_workspace_cli(data)
    with sms_gateway_server() as gateway:
        env = {
            "SAFAR_SMS_PROVIDER": "generic",
            "SAFAR_SMS_URL": gateway.url + "/send",
            "SAFAR_TEXT_ANALYSIS": "false",
            "SAFAR_SCHEDULER_INTERVAL_S": "0.2",
        }
        server = ServerProcess(data, env=env).start()
        try:
            auth = {"authorization": f"Bearer {keys['secret_key']}"}
            send(
                server,
                keys["write_key"],
                {"type": "identify", "userId": "u1", "traits": {"phone": "+989121111111"}},
                {"type": "track", "event": "Product Added", "userId": "seed"},
            )
            flush(server, keys["secret_key"])
            r = httpx.post(
                server.base_url + "/api/journeys/flows", headers=auth, json=journey(4), timeout=30
            )
            assert r.status_code == 201, r.text
            flow_id = r.json()["id"]
            r = httpx.post(
                server.base_url + f"/api/journeys/flows/{flow_id}/publish", headers=auth, timeout=30
            )
            assert r.status_code == 200, r.text
            time.sleep(5.5)  # the ingest hook's index of live journeys refreshes every 5 s
            send(
                server,
                keys["write_key"],
                {"type": "track", "event": "Product Added", "userId": "u1", "properties": {"n": 1}},
            )
            flush(server, keys["secret_key"])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                r = httpx.get(
                    server.base_url + f"/api/journeys/flows/{flow_id}/instances",
                    headers=auth,
                    timeout=30,
                )
                if r.json() and r.json()[0]["status"] == "waiting":
                    break
                time.sleep(0.1)
            assert r.json()[0]["status"] == "waiting", r.text
            server.kill()
            assert gateway.received == []
            time.sleep(4)  # the timer falls due while the server is down
            server = ServerProcess(data, env=env, port=server.port).start()
            got = gateway.wait(1, timeout=20)
            assert [m["body"]["text"] for m in got] == ["یادآوری 1"]
            time.sleep(2)
            assert len(gateway.received) == 1
            r = httpx.get(
                server.base_url + f"/api/journeys/flows/{flow_id}/stats", headers=auth, timeout=30
            )
            assert r.json()["exits"] == {"completed": 1} and r.json()["messages"] == {"done": 1}
        finally:
            server.stop()


def test_a_sigkill_during_a_send_never_sends_twice(tmp_path: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[float] = []
    arrived = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            received.append(time.monotonic())
            arrived.set()
            time.sleep(8)  # the provider is slow: the server dies while it waits
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    gw = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=gw.serve_forever, daemon=True).start()
    data = tmp_path / "safar"
    keys = create_workspace_cli(data)
    env = {
        "SAFAR_SMS_PROVIDER": "generic",
        "SAFAR_SMS_URL": f"http://127.0.0.1:{gw.server_address[1]}/send",
        "SAFAR_TEXT_ANALYSIS": "false",
        "SAFAR_SCHEDULER_INTERVAL_S": "0.2",
    }
    server = ServerProcess(data, env=env).start()
    try:
        auth = {"authorization": f"Bearer {keys['secret_key']}"}
        send(
            server,
            keys["write_key"],
            {"type": "identify", "userId": "u1", "traits": {"phone": "+989121111111"}},
            {"type": "track", "event": "Product Added", "userId": "seed"},
        )
        flush(server, keys["secret_key"])
        definition = journey(1)
        definition["nodes"] = definition["nodes"][1:]
        definition["start"] = "sms"
        r = httpx.post(
            server.base_url + "/api/journeys/flows", headers=auth, json=definition, timeout=30
        )
        flow_id = r.json()["id"]
        httpx.post(
            server.base_url + f"/api/journeys/flows/{flow_id}/publish", headers=auth, timeout=30
        )
        time.sleep(5.5)
        send(
            server,
            keys["write_key"],
            {"type": "track", "event": "Product Added", "userId": "u1", "properties": {"n": 1}},
        )
        assert arrived.wait(20), server.log()
        server.kill()  # mid-send: the provider has the request, Safar never heard back
        server = ServerProcess(data, env=env, port=server.port).start()
        time.sleep(3)
        r = httpx.get(server.base_url + "/api/jobs", headers=auth, timeout=30)
        (job,) = [j for j in r.json() if j["channel"] == "sms"]
        assert job["status"] in ("sending", "uncertain"), job
        assert len(received) == 1
    finally:
        server.stop()
        gw.shutdown()
