"""Builders the journeys tests share: events written straight into either engine, the shared
data dir, and brute-force reference funnels the engines' answers are checked against."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyarrow as pa

from safar.events.store import COLUMNS
from safar.events.store.arrow import SCHEMA

BASE_US = 1_700_000_000_000_000


def events_table(
    workspace_id: str,
    events: list[tuple[str, str, int]],
    *,
    anonymous: bool = False,
    channel: str = "web",
) -> pa.Table:
    """Arrow rows of the ``events`` table from ``(customer, event name, seconds)`` triples."""
    n = len(events)
    data: dict[str, list[object]] = {c: [None] * n for c in COLUMNS}
    for i, (cust, name, sec) in enumerate(events):
        mid = f"m{i:07d}"
        data["workspace_id"][i] = workspace_id
        data["message_id"][i] = mid
        data["message_hash"][i] = int.from_bytes(
            hashlib.blake2b(mid.encode(), digest_size=8).digest()
        )
        data["type"][i] = "track"
        data["event"][i] = name
        data["channel"][i] = channel
        data["anonymous_id" if anonymous else "user_id"][i] = cust
        data["timestamp"][i] = BASE_US + sec * 1_000_000
        data["received_at"][i] = BASE_US + sec * 1_000_000
        data["properties"][i] = "{}"
        data["traits"][i] = "{}"
        data["context"][i] = "{}"
    return pa.Table.from_pydict(data, schema=SCHEMA)


def shared_data_dir() -> Path | None:
    raw = os.environ.get("SAFAR_SHARED_DATA_DIR")
    path = Path(raw) if raw else Path("/work/shared/data")
    return path if path.exists() else None


def strict_cases(
    events: list[tuple[str, str, int]], steps: list[str], window: int
) -> dict[str, tuple[int, list[int | None]]]:
    """Per case with a step event: last step reached and the first time each was reached.

    Chains use distinct events with strictly increasing times, last minus first <= window.
    """
    by_case: dict[str, list[tuple[int, str]]] = {}
    for c, a, t in events:
        by_case.setdefault(c, []).append((t, a))
    n = len(steps)
    out: dict[str, tuple[int, list[int | None]]] = {}
    for case, evs in by_case.items():
        evs.sort()
        # best[k][j]: latest start of a chain of steps 1..k+1 ending at event j (None if none).
        best: list[list[int | None]] = [[None] * len(evs) for _ in range(n)]
        for j, (t, a) in enumerate(evs):
            if a == steps[0]:
                best[0][j] = t
            for k in range(1, n):
                if a != steps[k]:
                    continue
                starts = [
                    best[k - 1][i]
                    for i in range(len(evs))
                    if evs[i][0] < t and best[k - 1][i] is not None
                ]
                valid = [s for s in starts if s is not None and t - s <= window]
                best[k][j] = max(valid) if valid else None
        first: list[int | None] = []
        for k in range(n):
            times = [evs[j][0] for j in range(len(evs)) if best[k][j] is not None]
            first.append(min(times) if times else None)
        if any(a in steps for _, a in evs):
            out[case] = (sum(f is not None for f in first), first)
    return out


def any_order_cases(
    events: list[tuple[str, str, int]], steps: list[str], window: int
) -> dict[str, tuple[int, list[int | None]]]:
    """Any order, by brute force over every (start, end) pair of a case's step events: level k
    is reached at time T when some step event at t0 <= T <= t0 + window has k distinct steps
    among the case's step events in [t0, T]."""
    by_case: dict[str, list[tuple[int, str]]] = {}
    for c, a, t in events:
        if a in steps:
            by_case.setdefault(c, []).append((t, a))
    out: dict[str, tuple[int, list[int | None]]] = {}
    for case, evs in by_case.items():
        first: list[int | None] = [None] * len(steps)
        for t0, _ in evs:
            for t1, _ in evs:
                if not t0 <= t1 <= t0 + window:
                    continue
                k = len({a for t, a in evs if t0 <= t <= t1})
                for level in range(1, k + 1):
                    f = first[level - 1]
                    first[level - 1] = t1 if f is None else min(f, t1)
        out[case] = (sum(f is not None for f in first), first)
    return out
