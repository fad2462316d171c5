"""Journey analytics benchmark: generated events on both engines, real logs beside pm4py.

    PYTHONPATH=src python bench/journeys.py [--events 10000000] [--engines duckdb,clickhouse]
        [--skip-logs] [--data-dir /work/shared/data]

Generated data: N events of 500k customers, 12 event names, 90 days (customers and names drawn
with skewed weights; conversion events are rarer). Figures are wall-clock seconds of one run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from safar.events.store import COLUMNS
from safar.events.store.arrow import SCHEMA
from safar.journeys import analysis
from safar.journeys import queries as q
from safar.journeys.xes import read_xes

NAMES = [
    "page_view", "search", "product_view", "add_to_cart", "remove_from_cart", "checkout",
    "purchase", "login", "signup", "support_chat", "review", "email_open",
]  # fmt: skip
WEIGHTS = np.array([30, 10, 20, 8, 2, 3, 1.2, 8, 1, 1.5, 0.8, 13.5])
FUNNEL = ["page_view", "add_to_cart", "checkout", "purchase"]
WS = "ws_bench"
T0_US = 1_767_225_600_000_000  # 2026-01-01


def generate(n: int, customers: int = 500_000, days: int = 90, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    # Zipf-like activity: some customers are far more active than others.
    weights = 1.0 / np.arange(1, customers + 1) ** 0.6
    cust = rng.choice(customers, n, p=weights / weights.sum())
    names = rng.choice(len(NAMES), n, p=WEIGHTS / WEIGHTS.sum())
    ts = T0_US + rng.integers(0, days * 86_400_000_000, n)
    ids = pa.array(np.char.add("m", np.arange(n).astype(str)))
    user = pa.array(np.char.add("c", cust.astype(str)))
    data: dict[str, Any] = {
        "workspace_id": pa.array(np.full(n, WS)),
        "message_id": ids,
        "message_hash": pa.array(rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)),
        "type": pa.array(np.full(n, "track")),
        "event": pa.array(np.array(NAMES)[names]),
        "channel": pa.array(np.full(n, "web")),
        "user_id": user,
        "timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "received_at": pa.array(ts, pa.timestamp("us", tz="UTC")),
    }
    for c in ("properties", "traits", "context"):
        data[c] = pa.array(np.full(n, "{}"))
    for c in COLUMNS:
        if c not in data:
            data[c] = pa.nulls(n, pa.string())
    return pa.table([data[c] for c in COLUMNS], schema=SCHEMA)


def timed(label: str, fn: Any) -> Any:
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    print(f"  {label:<34} {dt:8.2f} s", flush=True)
    return out, dt


def open_store(engine: str, root: Path) -> Any:
    if engine == "duckdb":
        from safar.events.store.duckdb import DuckDBEventStore

        store: Any = DuckDBEventStore(root / "events.duckdb")
    else:
        from safar.events.store.clickhouse import ClickHouseEventStore

        store = ClickHouseEventStore(f"chdb://{root / 'clickhouse'}")
    store.init()
    d: q.Dialect = "duckdb" if engine == "duckdb" else "clickhouse"
    store.command(q.IDENTITY_MAP_DDL[d].format(db="safar"))
    return store


def bench_generated(n: int, engines: list[str]) -> dict[str, dict[str, float]]:
    print(f"generating {n:,} events ...", flush=True)
    table, _ = timed("generate", lambda: generate(n))
    results: dict[str, dict[str, float]] = {}
    for engine in engines:
        root = Path(tempfile.mkdtemp(prefix=f"journeys-{engine}-"))
        print(f"{engine}:", flush=True)
        try:
            store = open_store(engine, root)
            _, t_ins = timed("insert", lambda s=store: s.insert_arrow("events", table))
            src = q.events_source(
                "duckdb" if engine == "duckdb" else "clickhouse", db="safar", workspace_id=WS
            )
            f, t_f = timed(
                "funnel 4 steps, 7 days",
                lambda s=store, src=src: analysis.funnel(s, src, FUNNEL, window_seconds=7 * 86400),
            )
            print("    reached", [st.cases for st in f.steps])
            ng, t_p = timed(
                "top 10 paths (3 events)", lambda s=store, src=src: analysis.top_ngrams(s, src)
            )
            print("    top path", ng[0])
            _, t_a = timed(
                "paths after add_to_cart (Sankey)",
                lambda s=store, src=src: analysis.paths(s, src, anchor="add_to_cart", depth=3),
            )
            disc, t_d = timed(
                "DFG + variants",
                lambda s=store, src=src: analysis.discover(s, src, max_variants=100),
            )
            print(f"    {len(disc.edges)} edges, {disc.variant_count:,} variants")
            results[engine] = {
                "insert": t_ins, "funnel": t_f, "paths": t_p, "sankey": t_a, "discover": t_d,
            }  # fmt: skip
            store.close()
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return results


def bench_logs(data_dir: Path) -> None:
    import pm4py  # dev-only reference (AGPL); never imported by the package

    for name in ("helpdesk.xes.gz", "bpic2012.xes.gz"):
        path = data_dir / "process_logs" / name
        print(f"{name}:", flush=True)
        table, t_read = timed("safar read_xes", lambda p=path: read_xes(p))
        log = analysis.CaseLog(table)
        ours, t_ours = timed(
            "safar DFG + variants (DuckDB)", lambda lg=log: analysis.discover(lg, lg.source)
        )
        ch_t = None
        try:
            from safar.events.store.clickhouse import ClickHouseEventStore

            root = Path(tempfile.mkdtemp(prefix="journeys-log-"))
            ch = ClickHouseEventStore(f"chdb://{root / 'ch'}")
            ch.init()
            ch.command(
                "CREATE TABLE safar.caselog (case_id String, activity String, ts Int64, "
                "seq Int64, resource Nullable(String)) ENGINE = MergeTree ORDER BY (case_id, ts)"
            )
            ch.insert_arrow("caselog", table)
            src = q.table_source("safar.caselog")
            ch_res, ch_t = timed(
                "safar DFG + variants (ClickHouse)",
                lambda ch=ch, src=src: analysis.discover(ch, src),
            )
            assert ch_res.as_dict() == ours.as_dict(), "engines disagree"
            ch.close()
            shutil.rmtree(root, ignore_errors=True)
        except ImportError:
            pass
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref, t_pread = timed(
                "pm4py read_xes", lambda p=path: pm4py.read_xes(str(p), show_progress_bar=False)
            )

            def pm(ref: Any = ref) -> Any:
                dfg, s, e = pm4py.discover_dfg(ref)
                return dfg, s, e, pm4py.get_variants(ref)

            (dfg, s, e, var), t_pm = timed("pm4py DFG + variants", pm)
        same = (
            {(x["source"], x["target"]): x["frequency"] for x in ours.edges} == dict(dfg)
            and ours.start_activities == dict(s)
            and ours.end_activities == dict(e)
            and {tuple(v["activities"]): v["count"] for v in ours.variants}
            == {tuple(k): (v if isinstance(v, int) else len(v)) for k, v in var.items()}
        )
        print(
            f"    identical counts: {same}; discovery {t_pm / t_ours:.1f}x pm4py, "
            f"read+discover {(t_pread + t_pm) / (t_read + t_ours):.1f}x"
            + (f"; ClickHouse {ch_t:.2f} s" if ch_t else ""),
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--engines", default="duckdb,clickhouse")
    ap.add_argument("--skip-logs", action="store_true")
    ap.add_argument("--skip-generated", action="store_true")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("SAFAR_SHARED_DATA_DIR", "/work/shared/data")),
    )
    args = ap.parse_args()
    if not args.skip_logs:
        if args.data_dir.exists():
            bench_logs(args.data_dir)
        else:
            print(f"no {args.data_dir}; real logs skipped", file=sys.stderr)
    if not args.skip_generated:
        bench_generated(args.events, args.engines.split(","))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
