"""Where one journey event's time goes, stage by stage, in one process (no HTTP ingest).

N events of N known people are applied through the `Applier` in batches of 100 (entries into a
journey whose first step is an SMS), then the journey worker and the scheduler are run by hand
until nothing is left; each stage prints its wall and CPU time and database statements per
event. The SMS gateway is a local HTTP server. CPU time is the steadier figure on a shared
machine; `--concurrency 1` sends one after another (the gateway shares this process's GIL, so
parallel sends only cost here; they pay off against a provider with real latency).
`--timers`: the SMS comes after an hour's delay; the clock is then moved on and the worker fires
the timers (the path of `bench/orchestration.py --waiting`) as a stage of its own.

Run: `PYTHONPATH=src .venv/bin/python bench/orchestration_stages.py [--events 1000]
[--concurrency 1] [--timers]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event

sys.path.insert(0, str(Path(__file__).parent))
from orchestration import Gateway, journey
from safar.config import Settings
from safar.events.messages import normalize, parse_message
from safar.events.rows import EventRow
from safar.flows import service as flows
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--timers", action="store_true", help="send after a delay: fire timers")
    args = ap.parse_args()
    n, gw = args.events, Gateway()
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="safar-stages-")),
        sms_provider="generic",
        sms_url=gw.url,
        text_analysis=False,
        send_concurrency=args.concurrency,
    )
    now = datetime.now(UTC)
    ahead = [timedelta(0)]  # the real clock, moved on by `--timers` to fire the delays
    rt = Runtime(settings, background=False, clock=lambda: datetime.now(UTC) + ahead[0])
    with rt.db.session() as s:
        ws = create_workspace(s, name="bench")[0].id

    def rows(msgs: list[dict[str, Any]]) -> list[EventRow]:
        stamp = {"timestamp": now.isoformat()}
        return [
            normalize(
                parse_message(m | stamp | {"messageId": uuid.uuid4().hex}),
                workspace_id=ws,
                received_at=now,
            )
            for m in msgs
        ]

    people = [
        {"type": "identify", "userId": f"u{u}", "traits": {"phone": f"+98912{u:07d}"}}
        for u in range(n)
    ]
    for i in range(0, n, 500):
        rt.applier.apply(rows(people[i : i + 500]))
    rt.applier.apply(rows([{"type": "track", "event": "Bench Now", "userId": "seed"}]))
    with rt.db.session() as s:
        flow = flows.create_flow(
            s,
            workspace_id=ws,
            definition=journey("Now", "Bench Now", delay_s=3600 if args.timers else 0),
            user="bench",
            now=now,
        )
        rt.flows.publish(s, workspace_id=ws, flow_id=flow.id)
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    sa_event.listen(rt.db.engine, "before_cursor_execute", count)
    events = rows(
        [
            {"type": "track", "event": "Bench Now", "userId": f"u{u}", "properties": {"n": u}}
            for u in range(n)
        ]
    )

    def enter() -> None:
        for i in range(0, n, 100):
            rt.applier.apply(events[i : i + 100])

    def until_idle(run: Callable[[], int]) -> Callable[[], None]:
        def go() -> None:
            while run() > 0:
                pass

        return go

    def fire() -> None:
        ahead[0] += timedelta(seconds=3601)
        until_idle(rt.flows.runtime.run_due)()

    stages = [
        ("entry (applier + hook)", enter),
        ("journey worker", until_idle(rt.flows.runtime.run_due)),
        *([("worker (timers fire)", fire)] if args.timers else []),
        ("scheduler (send)", until_idle(rt.scheduler.run_due)),
    ]
    for name, run in stages:
        statements[0] = 0
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"{name:24s} {wall * 1000 / n:6.2f} ms/event wall, {cpu * 1000 / n:6.2f} ms CPU, "
            f"{statements[0] / n:5.1f} statements/event"
        )
    print(f"gateway received {gw.count():,} of {n:,}")
    rt.close()


if __name__ == "__main__":
    main()
