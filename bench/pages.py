"""Time the dashboard's pages over real HTTP on demo-sized data (default 400 customers).

PYTHONPATH=src python bench/pages.py [--customers 400] [--events-per 60]
"""

from __future__ import annotations

import argparse
import random
import re
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from safar.app import create_app
from safar.auth.service import create_user
from safar.config import Settings
from safar.events.messages import normalize, parse_message
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace

CHANNELS = ["web", "app", "email", "sms", "chat", "phone", "store"]
EVENTS = ["Product Viewed", "Added to Cart", "Order Completed", "Ticket Opened", "Email Opened"]
#: One event in ten is a review with one of these texts (analysed by the text worker).
REVIEWS = [
    "پیک خیلی دیر رسید و غذا سرد بود",
    "همه چیز عالی بود، ممنون",
    "قیمت ها خیلی گران شده",
    "The app crashed at checkout again",
    "Great service, fast delivery",
    "پشتیبانی جواب نداد",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=400)
    ap.add_argument("--events-per", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(Settings(data_dir=Path(tmp) / "safar"))
        with runtime.db.session() as s:
            ws, _, _ = create_workspace(s, name="bench")
            create_user(s, email="admin@example.com", password="bench-password", role="admin")
        now = datetime.now(UTC)
        msgs = []
        for c in range(args.customers):
            msgs.append(
                {
                    "type": "identify",
                    "userId": f"u{c}",
                    "messageId": f"i{c}",
                    "traits": {"name": f"مشتری {c}", "email": f"c{c}@example.com"},
                }
            )
            for e in range(args.events_per):
                review = rng.random() < 0.1
                msgs.append(
                    {
                        "type": "track",
                        "userId": f"u{c}",
                        "event": "Review Submitted" if review else rng.choice(EVENTS),
                        "messageId": f"e{c}-{e}",
                        "timestamp": (
                            now - timedelta(minutes=rng.randrange(90 * 1440))
                        ).isoformat(),
                        "context": {"channel": rng.choice(CHANNELS)},
                        "properties": {"text": rng.choice(REVIEWS)}
                        if review
                        else {"total": rng.randrange(10, 500)},
                    }
                )
        rows = [normalize(parse_message(m), workspace_id=ws.id, received_at=now) for m in msgs]
        for i in range(0, len(rows), 10_000):
            runtime.applier.apply(rows[i : i + 10_000])
        if runtime.text_worker is not None:
            runtime.text_worker.wait_idle(600)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(create_app(runtime=runtime), port=port, log_level="warning")
        )
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as client:
            form = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert token
            client.post(
                "/login",
                data={
                    "email": "admin@example.com",
                    "password": "bench-password",
                    "csrf_token": token.group(1),
                },
            )
            pid = client.get("/customers", params={"q": "c7@example.com"}).headers["location"]
            pages = ["/", "/customers", "/customers?q=c12", pid, pid + "?channel=web", "/settings"]
            pages += ["/listen", "/listen?period=90d&sentiment=negative"]
            print(
                f"{len(rows)} events, {args.customers} customers, engine duckdb, HTTP via uvicorn"
            )
            print(f"{'page':40} {'median ms':>10} {'max ms':>8} {'KB':>6}")
            for path in pages:
                times = []
                size = 0
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    res = client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    assert res.status_code == 200, (path, res.status_code)
                    size = len(res.content)
                label = "/customers/<id>" + path[len(pid) :] if path.startswith(pid) else path
                print(
                    f"{label:40} {statistics.median(times):10.1f} {max(times):8.1f} {size / 1024:6.0f}"
                )
        server.should_exit = True
        time.sleep(0.3)
        runtime.close()


if __name__ == "__main__":
    main()
