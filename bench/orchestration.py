"""Journey orchestration on the embedded runtime, through a real `safar serve`.

Prints, against a local HTTP SMS gateway in this process:
1. trigger-to-send latency (p50/p99): events POSTed to /v1/batch at a target rate, each one
   entering a journey whose first step is an SMS; measured from the request to the gateway's
   receipt of that message (the text carries the event's number);
2. timer lag (p50/p99): the same with a 3-second delay before the SMS, minus the 3 seconds;
3. waiting instances: N instances waiting on timers (written into the state store as the
   runtime writes them), the server's memory while it holds them, then the rate at which they
   fire and their SMS reach the gateway.

Run: `.venv/bin/python bench/orchestration.py [--rate 1000] [--seconds 10] [--waiting 100000]`.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _server import running_server


class Gateway:
    """An SMS provider on loopback: records each message's arrival time and text."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body leave in two writes: without this, Nagle's algorithm and the
                # client's delayed ACK add 40 ms to every answer (a real gateway does not).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                now = time.time()
                text = orjson.loads(body).get("text", "")
                with gateway.lock:
                    gateway.arrivals.append((now, text))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


def journey(name: str, event: str, delay_s: int = 0) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": "sms", "type": "send", "channel": "sms", "texts": {"en": {"body": "{{ event.n }}"}}}
    ]
    if delay_s:
        nodes.insert(0, {"id": "wait", "type": "delay", "seconds": delay_s, "next": "sms"})
    return {
        "name": name,
        "trigger": {"type": "event", "event": event},
        "start": nodes[0]["id"],
        "nodes": nodes,
        "entry": {"reentry": "always"},
        "policy": {"topic": "transactional", "consent_purpose": None},
    }


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def post(client: httpx.Client, key: str, msgs: list[dict[str, Any]]) -> None:
    r = client.post("/v1/batch", auth=(key, ""), content=orjson.dumps({"batch": msgs}))
    r.raise_for_status()


def identify(client: httpx.Client, key: str, users: range) -> None:
    batch: list[dict[str, Any]] = []
    for u in users:
        batch.append({"type": "identify", "userId": f"u{u}", "traits": {"phone": f"+98912{u:07d}"}})
        if len(batch) == 500:
            post(client, key, batch)
            batch = []
    if batch:
        post(client, key, batch)


def flush(client: httpx.Client, secret: str) -> None:
    for _ in range(20):
        r = client.post("/api/ingest/flush", headers={"authorization": f"Bearer {secret}"})
        if r.status_code == 200 and r.json().get("applied"):
            return
    raise RuntimeError("events were not applied")


def create(client: httpx.Client, secret: str, definition: dict[str, Any]) -> str:
    auth = {"authorization": f"Bearer {secret}"}
    r = client.post("/api/journeys/flows", headers=auth, json=definition)
    r.raise_for_status()
    flow_id = str(r.json()["id"])
    client.post(f"/api/journeys/flows/{flow_id}/publish", headers=auth).raise_for_status()
    return flow_id


def load(
    client: httpx.Client, key: str, event: str, first: int, count: int, rate: float
) -> dict[int, float]:
    """``count`` events at ``rate``/s in 10 ms slices; the send time of each event number."""
    sent: dict[int, float] = {}
    per_slice = max(1, int(rate / 100))
    start = time.perf_counter()
    n = first
    while n < first + count:
        msgs = []
        for _ in range(min(per_slice, first + count - n)):
            msgs.append(
                {
                    "type": "track",
                    "event": event,
                    "userId": f"u{n}",
                    "messageId": str(uuid.uuid4()),
                    "properties": {"n": n},
                }
            )
            n += 1
        t = time.time()
        post(client, key, msgs)
        for m in msgs:
            sent[m["properties"]["n"]] = t
        target = start + (n - first) / rate
        pause = target - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    return sent


def latencies(gw: Gateway, sent: dict[int, float], minus: float, timeout: float) -> list[float]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with gw.lock:
            got = {
                int(text): at for at, text in gw.arrivals if text.isdigit() and int(text) in sent
            }
        if len(got) >= len(sent):
            break
        time.sleep(0.2)
    return [(got[n] - sent[n] - minus) * 1000 for n in got]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--waiting", type=int, default=100_000)
    ap.add_argument(
        "--fire", type=int, default=0, help="how many of the waiting fire (default: all)"
    )
    ap.add_argument("--skip-latency", action="store_true", help="only the waiting instances")
    args = ap.parse_args()
    gw = Gateway()
    env = {
        "SAFAR_SMS_PROVIDER": "generic",
        "SAFAR_SMS_URL": gw.url,
        "SAFAR_TEXT_ANALYSIS": "false",
        "SAFAR_SCHEDULER_INTERVAL_S": "0.2",
    }
    count = int(args.rate * args.seconds)
    if args.skip_latency:
        waiting(args.waiting, env, args.fire or args.waiting)
        return
    with running_server(env) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        identify(client, server.write_key, range(0, 2 * count))
        post(
            client,
            server.write_key,
            [{"type": "track", "event": e, "userId": "seed"} for e in ("Bench Now", "Bench Later")],
        )
        flush(client, server.secret_key)
        create(client, server.secret_key, journey("Now", "Bench Now"))
        create(client, server.secret_key, journey("Later", "Bench Later", delay_s=3))
        time.sleep(6)  # the ingest hook's index of published journeys refreshes every 5 s
        t0 = time.perf_counter()
        sent = load(client, server.write_key, "Bench Now", 0, count, args.rate)
        took = time.perf_counter() - t0
        lat = latencies(gw, sent, 0.0, timeout=120)
        done = time.perf_counter() - t0
        print(
            f"trigger-to-send: {len(lat)}/{count} events at {count / took:,.0f}/s offered; "
            f"p50 {pct(lat, 0.5):.0f} ms, p99 {pct(lat, 0.99):.0f} ms, max {max(lat):.0f} ms; "
            f"all sent after {done:.1f} s ({len(lat) / done:,.0f} sends/s)"
        )
        sent = load(client, server.write_key, "Bench Later", count, count, args.rate)
        lag = latencies(gw, sent, 3.0, timeout=120)
        print(
            f"timer lag (3 s delay, {len(lag)}/{count}): p50 {pct(lag, 0.5):.0f} ms, "
            f"p99 {pct(lag, 0.99):.0f} ms"
        )
        rss, peak = server.rss_mb()
        print(f"server memory: {rss:.0f} MB now, {peak:.0f} MB peak")
    if args.waiting:
        waiting(args.waiting, env, args.fire or args.waiting)


def waiting(n: int, env: dict[str, str], fire: int) -> None:
    """N instances waiting on a timer; memory while held, then the fire rate of the first
    ``fire`` of them (the others' timers stay a day away, held)."""
    from safar.config import Settings
    from safar.db import Database
    from safar.flows import service
    from safar.flows.definition import parse
    from safar.flows.interpreter import Facts, Start, State, advance
    from safar.flows.models import FlowInstance, FlowTimer

    gw = Gateway()
    env = env | {"SAFAR_SMS_URL": gw.url}
    with running_server(env) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        identify(client, server.write_key, range(n))
        post(client, server.write_key, [{"type": "track", "event": "Bench Hold", "userId": "seed"}])
        flush(client, server.secret_key)
        definition = journey("Hold", "Bench Hold", delay_s=3600)
        flow_id = create(client, server.secret_key, definition)
        db = Database(Settings(data_dir=server.data_dir).resolved_state_url)
        flow = parse(definition)
        due = datetime.now(UTC) + timedelta(seconds=60 + n / 4000)
        later = due + timedelta(days=1)
        t0 = time.perf_counter()
        with db.session() as s:
            version = service.get_flow(s, workspace_id=server.workspace_id, flow_id=flow_id).version
            from safar.identity.service import profile_of

            pids = []
            for u in range(n):
                pid = profile_of(
                    s, workspace_id=server.workspace_id, type_="user_id", value=f"u{u}"
                )
                assert pid is not None
                pids.append(pid)
        rows, timers = [], []
        now = datetime.now(UTC)
        for u, pid in enumerate(pids):
            state, _ = advance(flow, State(), Start(Facts(now=now), f"{flow_id}:{pid}", {"n": u}))
            state.waiting.until = due  # type: ignore[union-attr]
            iid = f"fin_bench{u:012d}"
            rows.append(
                dict(
                    id=iid,
                    workspace_id=server.workspace_id,
                    flow_id=flow_id,
                    version=version,
                    profile_id=pid,
                    entry_key=f"bench:{u}",
                    status="waiting",
                    properties={"n": u},
                    state=state.model_dump(mode="json"),
                    control=False,
                    entered_at=now,
                    node="wait",
                    created_at=now,
                    updated_at=now,
                )
            )
            timers.append(
                dict(
                    workspace_id=server.workspace_id,
                    instance_id=iid,
                    token=state.token,
                    due_at=due if u < fire else later,
                )
            )
        with db.session() as s:
            for i in range(0, n, 5000):
                s.execute(FlowInstance.__table__.insert(), rows[i : i + 5000])
                s.execute(FlowTimer.__table__.insert(), timers[i : i + 5000])
        db.dispose()
        print(f"waiting instances: {n:,} written in {time.perf_counter() - t0:.0f} s")
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds() - 5))
        rss, peak = server.rss_mb()
        print(f"server memory holding {n:,} waiting instances: {rss:.0f} MB (peak {peak:.0f} MB)")
        while datetime.now(UTC) < due:
            time.sleep(0.05)
        t1 = time.perf_counter()
        marks = []
        while gw.count() < fire and time.perf_counter() - t1 < 3600:
            time.sleep(1)
            marks.append((time.perf_counter() - t1, gw.count()))
        took = time.perf_counter() - t1
        rss, peak = server.rss_mb()
        steady = [c for t, c in marks if t > 5]
        print(
            f"fired {gw.count():,}/{fire:,} of {n:,} in {took:.0f} s: {gw.count() / took:,.0f} actions/s to the gateway; "
            f"memory {rss:.0f} MB (peak {peak:.0f} MB); first 10 s: {dict(marks[:10])}; steady {len(steady)}"
        )


if __name__ == "__main__":
    main()
