"""Cost of triggers on ingestion, and how fast the scheduler drains due survey jobs.

Prints: events/s through ``Applier.apply`` with no trigger and with one trigger matching 10 % of
events (jobs scheduled per second), then in-app survey jobs run per second (consent, fatigue,
invitation, contact log, exactly-once claim; the in-app channel sends nothing over the network).
Run: `PYTHONPATH=src .venv/bin/python bench/surveys.py [--events 50000]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from safar.config import Settings
from safar.events.messages import normalize, parse_message
from safar.orchestration import service as orch
from safar.orchestration.schemas import TriggerCreate
from safar.runtime import Runtime
from safar.surveys import presets
from safar.surveys import service as svc
from safar.workspaces.service import create_workspace


def rows(ws: str, n: int, users: int) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        name = "order_delivered" if i % 10 == 0 else "product_viewed"
        msg = {
            "type": "track",
            "event": name,
            "userId": f"u{i % users}",
            "messageId": uuid.uuid4().hex,
            "timestamp": now.isoformat(),
        }
        out.append(normalize(parse_message(msg), workspace_id=ws, received_at=now))
    return out


def run(events: int, with_trigger: bool) -> tuple[float, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(Settings(data_dir=Path(tmp)), ingest=False, background=False)
        try:
            with rt.db.session() as s:
                ws = create_workspace(s, name="bench")[0].id
                survey = svc.create_survey(s, workspace_id=ws, data=presets.template("nps"))
                if with_trigger:
                    orch.create_trigger(
                        s,
                        workspace_id=ws,
                        data=TriggerCreate(
                            name="t",
                            event="order_delivered",
                            action="survey",
                            channel="app",
                            params={"survey_id": survey.id},
                            fatigue_days=30,
                        ),
                    )
            data = rows(ws, events, users=events // 20)
            start = time.perf_counter()
            for i in range(0, len(data), 5000):
                rt.applier.apply(data[i : i + 5000])
            ingest = time.perf_counter() - start
            start = time.perf_counter()
            ran = rt.scheduler.run_due(limit=10**9) if with_trigger else 0
            drain = time.perf_counter() - start
            return events / ingest, ran, ran / drain if ran else 0.0
        finally:
            rt.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    base, _, _ = run(args.events, with_trigger=False)
    hooked, jobs, rate = run(args.events, with_trigger=True)
    print(f"apply without triggers: {base:,.0f} events/s")
    print(f"apply with one trigger (10% match): {hooked:,.0f} events/s ({hooked / base:.0%})")
    print(f"scheduler: {jobs:,} in-app survey jobs run at {rate:,.0f} jobs/s")


if __name__ == "__main__":
    main()
