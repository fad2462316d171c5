"""How long a segment's members take on the embedded stores (SQLite + DuckDB).

Seeds ``--profiles`` customers (an identify with plan, age and consent each) and ``--events``
track events over 90 days through ``Applier.apply``, then times ``segments.service.members``
for a trait segment, an event-history segment (within 30 days, at least 2), one with a
property condition, a combination of the three, and ``profile_matches`` for one profile.
Prints one line per figure (best of ``--repeat`` runs); not a timed test.
Run: `PYTHONPATH=src .venv/bin/python bench/segments.py [--profiles 100000 --events 1000000]
[--data-dir DIR]` (DIR is seeded once and reused on later runs).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from safar.config import Settings
from safar.events.messages import normalize, parse_message
from safar.identity import service as identity
from safar.runtime import Runtime
from safar.segments import service
from safar.segments.schemas import SegmentCreate
from safar.workspaces import service as workspaces
from safar.workspaces.service import create_workspace

NOW = datetime(2026, 6, 1, tzinfo=UTC)
EVENTS = ["Page Viewed", "Product Viewed", "Cart Updated", "Order Completed", "Support Chat"]
BATCH = 5_000


def _apply(rt: Runtime, ws: str, messages: list[dict[str, Any]]) -> None:
    rows = [normalize(parse_message(m), workspace_id=ws, received_at=NOW) for m in messages]
    rt.applier.apply(rows)


def seed(rt: Runtime, profiles: int, events: int) -> str:
    rnd = random.Random(1)
    with rt.db.session() as s:
        ws = create_workspace(s, name="bench")[0].id
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for i in range(profiles):
        granted = rnd.random() < 0.6
        batch.append({
            "type": "identify", "userId": f"u{i}", "messageId": f"i{i}",
            "timestamp": (NOW - timedelta(days=100)).isoformat(),
            "traits": {"plan": rnd.choice(["gold", "silver", "basic"]), "age": rnd.randint(18, 80)},
            "context": {"consent": {"categoryPreferences": {"marketing": granted}}},
        })  # fmt: skip
        if len(batch) == BATCH:
            _apply(rt, ws, batch)
            batch = []
    for j in range(events):
        batch.append({
            "type": "track", "userId": f"u{rnd.randrange(profiles)}", "messageId": f"e{j}",
            "event": rnd.choice(EVENTS), "timestamp": (NOW - timedelta(days=rnd.random() * 90)).isoformat(),
            "properties": {"total": rnd.randint(1, 500)},
        })  # fmt: skip
        if len(batch) == BATCH:
            _apply(rt, ws, batch)
            batch = []
    if batch:
        _apply(rt, ws, batch)
    print(
        f"seeded {profiles:,} profiles and {events:,} events in {time.perf_counter() - started:.1f} s"
    )
    return ws


DEFINITIONS: dict[str, dict[str, Any]] = {
    "trait: plan = gold": {"conditions": [{"kind": "trait", "key": "plan", "value": "gold"}]},
    "event: 2+ orders in 30 days": {"conditions": [
        {"kind": "event", "event": "Order Completed", "within_days": 30, "min_count": 2}]},
    "event with where: order total > 400": {"conditions": [
        {"kind": "event", "event": "Order Completed", "where": [{"key": "total", "op": "gt", "value": 400}]}]},
    "all of: gold, 2+ orders, marketing consent, age >= 30": {"conditions": [
        {"kind": "trait", "key": "plan", "value": "gold"},
        {"kind": "event", "event": "Order Completed", "within_days": 30, "min_count": 2},
        {"kind": "consent", "purpose": "marketing"},
        {"kind": "trait", "key": "age", "op": "gte", "value": 30}]},
}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="safar-segments-"))
    fresh = not (data_dir / "state.db").exists()
    rt = Runtime(Settings(data_dir=data_dir, text_analysis=False), ingest=False, background=False)
    try:
        if fresh:
            ws = seed(rt, args.profiles, args.events)
        else:
            with rt.db.session() as s:
                ws = workspaces.list_workspaces(s)[0].id
        with rt.db.session() as s:
            ids = {}
            for name, body in DEFINITIONS.items():
                ids[name] = service.create_segment(
                    s, workspace_id=ws, data=SegmentCreate(name=name[:200], **body)
                ).id
        for name, seg_id in ids.items():
            best, count = float("inf"), 0
            for _ in range(args.repeat):
                with rt.db.session() as s:
                    t = time.perf_counter()
                    count = len(
                        service.members(s, rt.store, workspace_id=ws, segment_id=seg_id, now=NOW)
                    )
                    best = min(best, time.perf_counter() - t)
            print(f"members  {name:55s} {best * 1000:8.0f} ms  {count:,} members")
        last = list(DEFINITIONS.values())[-1]
        body = SegmentCreate(name="x", **last)
        took = []
        for i in range(50):
            with rt.db.session() as s:
                pid = identity.lookup(s, workspace_id=ws, type_="user_id", value=f"u{i}")
                t = time.perf_counter()
                service.profile_matches(
                    s,
                    rt.store,
                    workspace_id=ws,
                    profile_id=pid,
                    conditions=body.conditions,
                    now=NOW,
                )
                took.append(time.perf_counter() - t)
        print(
            f"profile_matches, the combined definition: median {statistics.median(took) * 1000:.1f}"
            f" ms, max {max(took) * 1000:.1f} ms (50 profiles)"
        )
    finally:
        rt.close()


if __name__ == "__main__":
    main()
