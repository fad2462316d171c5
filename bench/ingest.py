"""Ingest throughput and latency through a real `safar serve` (durable acknowledgement).

Prints: events/s through /v1/batch with raw HTTP (prebuilt 100-event batches, concurrent
clients), the time until every acknowledged event is applied to the stores, single-event
requests/s with p50/p99 latency, the unmodified Segment Python client's rate, and the server's
memory. Run: `.venv/bin/python bench/ingest.py [--events 200000] [--clients 8]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _server import Server, running_server

CHANNELS = ["web", "app", "email", "sms", "chat", "phone", "social", "store"]
USERS = 20_000
EVENTS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Email Opened"]


def make_batch(i: int, size: int) -> bytes:
    msgs = []
    for j in range(size):
        n = i * size + j
        user = n % USERS
        msgs.append(
            {
                "type": "track",
                "event": EVENTS[n % len(EVENTS)],
                "userId": f"user-{user}",
                # Each customer uses one or two devices, as real traffic does.
                "anonymousId": f"anon-{user}-{(n // USERS) % 2}",
                "messageId": str(uuid.uuid4()),
                "timestamp": "2026-11-20T10:00:00Z",
                "properties": {
                    "sku": f"SKU-{n % 999}",
                    "price": (n % 97) * 1000,
                    "currency": "IRR",
                },
                "context": {"channel": CHANNELS[n % len(CHANNELS)], "library": {"name": "bench"}},
            }
        )
    return orjson.dumps({"batch": msgs, "sentAt": "2026-11-20T10:00:01Z"})


async def batch_load(server: Server, total: int, clients: int, size: int) -> None:
    bodies = [make_batch(i, size) for i in range(total // size)]
    latencies: list[float] = []
    auth = (server.write_key, "")
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    peak = 0.0

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=server.url, auth=auth, timeout=60) as c:
            while not queue.empty():
                body = queue.get_nowait()
                t = time.perf_counter()
                r = await c.post(
                    "/v1/batch", content=body, headers={"Content-Type": "application/json"}
                )
                latencies.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text

    async def sampler() -> None:
        nonlocal peak
        while not queue.empty():
            peak = max(peak, server.rss_mb()[0])
            await asyncio.sleep(0.2)

    cpu0 = server.cpu_seconds()
    t0 = time.perf_counter()
    await asyncio.gather(sampler(), *(worker() for _ in range(clients)))
    acked = time.perf_counter() - t0
    cpu_acked = server.cpu_seconds() - cpu0
    async with httpx.AsyncClient(base_url=server.url, timeout=600) as c:
        h = {"Authorization": f"Bearer {server.secret_key}"}
        while True:
            peak = max(peak, server.rss_mb()[0])
            r = await c.post("/api/ingest/flush", headers=h, params={"timeout": 1})
            if r.json()["applied"]:
                break
        applied = time.perf_counter() - t0
        cpu_applied = server.cpu_seconds() - cpu0
        stats = (await c.get("/api/stats", headers=h)).json()
    n = len(bodies) * size
    lat = sorted(latencies)
    print(f"batch ingest: {n:,} events in {len(bodies):,} requests of {size}, {clients} clients")
    print(f"  acknowledged (durable): {n / acked:,.0f} events/s  ({acked:.2f} s)")
    print(
        f"  request latency p50 {1000 * lat[len(lat) // 2]:.1f} ms, p99 {1000 * lat[int(len(lat) * 0.99)]:.1f} ms"
    )
    print(
        f"  applied to identity graph + event store: {n / applied:,.0f} events/s end to end ({applied:.2f} s)"
    )
    print(
        f"  server CPU per 1,000 events: {1000 * cpu_acked / n * 1000:.1f} ms until acknowledged, "
        f"{1000 * cpu_applied / n * 1000:.1f} ms until applied"
    )
    print(f"  stored events: {stats['events']:,}; profiles: {stats['profiles']:,}")
    print(f"  server RSS peak while ingesting: {peak:.0f} MB")


async def single_load(server: Server, total: int, clients: int) -> None:
    latencies: list[float] = []
    auth = (server.write_key, "")
    counter = iter(range(total))

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=server.url, auth=auth, timeout=60) as c:
            for n in counter:
                body = orjson.dumps(
                    {
                        "event": "Page Viewed",
                        "userId": f"u{n % 5000}",
                        "messageId": str(uuid.uuid4()),
                        "properties": {"n": n},
                    }
                )
                t = time.perf_counter()
                r = await c.post(
                    "/v1/track", content=body, headers={"Content-Type": "application/json"}
                )
                latencies.append(time.perf_counter() - t)
                assert r.status_code == 200

    cpu0 = server.cpu_seconds()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    took = time.perf_counter() - t0
    cpu = server.cpu_seconds() - cpu0
    lat = sorted(latencies)
    print(
        f"single-event /v1/track: {total / took:,.0f} requests/s, {clients} clients; "
        f"p50 {1000 * statistics.median(lat):.1f} ms, p99 {1000 * lat[int(len(lat) * 0.99)]:.1f} ms; "
        f"server CPU {1000 * cpu / total:.2f} ms per request"
    )


def segment_client(server: Server, total: int) -> None:
    import segment.analytics as analytics

    client = analytics.Client(
        write_key=server.write_key,
        host=server.url,
        max_queue_size=total + 10,
        upload_size=100,
        thread=2,
        gzip=False,
        sync_mode=False,
    )
    t0 = time.perf_counter()
    for n in range(total):
        client.track(
            user_id=f"seg-{n % 1000}",
            event="Product Viewed",
            properties={"n": n},
            context={"channel": "web"},
        )
    client.flush()
    took = time.perf_counter() - t0
    client.shutdown()
    print(
        f"segment-analytics-python client: {total / took:,.0f} events/s ({total:,} events, "
        "the client's own serialisation included)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--single", type=int, default=10_000)
    ap.add_argument("--segment", type=int, default=50_000)
    args = ap.parse_args()
    with running_server() as server:
        asyncio.run(batch_load(server, args.events, args.clients, args.batch_size))
        asyncio.run(single_load(server, args.single, args.clients))
        segment_client(server, args.segment)
        print(f"server RSS now / peak: {server.rss_mb()[0]:.0f} / {server.rss_mb()[1]:.0f} MB")


if __name__ == "__main__":
    main()
