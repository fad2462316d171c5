"""Journey analytics benchmark: generated events on both engines, real logs beside pm4py.

    PYTHONPATH=src python bench/journeys.py [--events 10000000] [--engines duckdb,clickhouse]
        [--skip-logs] [--skip-generated] [--check] [--data-dir /work/shared/data]

Generated data: N events of 500k customers, 12 event names, 90 days (customers and names drawn
with skewed weights; conversion events are rarer), generated and inserted in chunks of 1M.
Each engine runs in two child processes: one generates and inserts, one opens the stored
events and runs the analyses, so the peak memory printed for the analyses is theirs alone.
``--check`` also runs the reference SQL of ``queries`` (``analysis.USE_INDEX = False``) on
DuckDB and asserts identical results. Figures are wall-clock seconds of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from safar.events.store import COLUMNS
from safar.events.store.arrow import SCHEMA
from safar.journeys import analysis, funnels
from safar.journeys import queries as q
from safar.journeys.xes import read_xes

NAMES = [
    "page_view", "search", "product_view", "add_to_cart", "remove_from_cart", "checkout",
    "purchase", "login", "signup", "support_chat", "review", "email_open",
]  # fmt: skip
WEIGHTS = np.array([30, 10, 20, 8, 2, 3, 1.2, 8, 1, 1.5, 0.8, 13.5])
FUNNEL = ["page_view", "add_to_cart", "checkout", "purchase"]
CHANNELS = ["web", "app", "email", "sms", "chat", "store", "phone", "social"]
CHANNEL_WEIGHTS = np.array([40, 30, 10, 6, 5, 4, 3, 2])
CITIES = ["Tehran", "Mashhad", "Isfahan", "Shiraz", "Tabriz", "Karaj", "Rasht", "Qom"]
WS = "ws_bench"
T0_US = 1_767_225_600_000_000  # 2026-01-01
CHUNK = 1_000_000


def generate(n: int, customers: int = 500_000, days: int = 90, seed: int = 1) -> Iterator[pa.Table]:
    """The events as Arrow tables of at most ``CHUNK`` rows (never all in memory at once)."""
    rng = np.random.default_rng(seed)
    # Channels and cities (for funnel breakdowns) from their own stream: the other columns stay
    # as they were before breakdowns existed.
    rng_bd = np.random.default_rng(seed + 1000)
    # Zipf-like activity: some customers are far more active than others.
    weights = 1.0 / np.arange(1, customers + 1) ** 0.6
    weights /= weights.sum()
    for lo in range(0, n, CHUNK):
        m = min(CHUNK, n - lo)
        cust = rng.choice(customers, m, p=weights)
        names = rng.choice(len(NAMES), m, p=WEIGHTS / WEIGHTS.sum())
        ts = T0_US + rng.integers(0, days * 86_400_000_000, m)
        data: dict[str, Any] = {
            "workspace_id": pa.array(np.full(m, WS)),
            "message_id": pa.array(np.char.add("m", np.arange(lo, lo + m).astype(str))),
            "message_hash": pa.array(rng.integers(0, 2**63, m, dtype=np.int64).astype(np.uint64)),
            "type": pa.array(np.full(m, "track")),
            "event": pa.array(np.array(NAMES)[names]),
            "channel": pa.array(
                np.array(CHANNELS)[
                    rng_bd.choice(len(CHANNELS), m, p=CHANNEL_WEIGHTS / CHANNEL_WEIGHTS.sum())
                ]
            ),
            "user_id": pa.array(np.char.add("c", cust.astype(str))),
            "timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "received_at": pa.array(ts, pa.timestamp("us", tz="UTC")),
        }
        city = np.array(CITIES)[rng_bd.integers(0, len(CITIES), m)]
        data["properties"] = pa.array(np.char.add(np.char.add('{"city": "', city), '"}'))
        for c in ("traits", "context"):
            data[c] = pa.array(np.full(m, "{}"))
        for c in COLUMNS:
            if c not in data:
                data[c] = pa.nulls(m, pa.string())
        yield pa.table([data[c] for c in COLUMNS], schema=SCHEMA)


def timed(label: str, fn: Any) -> Any:
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    print(f"  {label:<38} {dt:8.2f} s", flush=True)
    return out, dt


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def child_load(engine: str, root: Path, n: int) -> dict[str, Any]:
    store = open_store(engine, root)
    t = time.perf_counter()
    for chunk in generate(n):
        store.insert_arrow("events", chunk)
    dt = time.perf_counter() - t
    print(f"  {'generate + insert (1M chunks)':<38} {dt:8.2f} s", flush=True)
    store.close()
    return {"load": dt, "load_peak_mb": peak_mb()}


def funnel_variants(store: Any, src: q.Source, out: dict[str, Any], t: dict[str, float]) -> None:
    """Any-order funnel and breakdowns (channel of the entry event, an event property)."""
    d: q.Dialect = "duckdb" if store.engine_name == "duckdb" else "clickhouse"
    details = q.events_source(d, db="safar", workspace_id=WS, details=True)
    srcs = funnels.BreakdownSources(details=details, traits=details)
    week = 7 * 86400
    for label, key, kw in (
        ("funnel 4 steps any order, 7 days", "any", {"mode": "any"}),
        ("funnel strict, by channel (top 5)", "by_channel",
         {"breakdown": funnels.Breakdown.parse("channel")}),
        ("funnel any order, by property city", "any_by_city",
         {"mode": "any", "breakdown": funnels.Breakdown.parse("property:city", limit=8)}),
    ):  # fmt: skip
        f, t[key] = timed(
            label,
            lambda kw=kw: funnels.funnel(
                store, src, FUNNEL, window_seconds=week, dropped_limit=5,
                breakdown_sources=srcs, **kw,
            ),
        )  # fmt: skip
        out[key] = f.as_dict()
        print("    reached", [st.cases for st in f.steps], flush=True)


def analyses(store: Any, src: q.Source) -> tuple[dict[str, Any], dict[str, float]]:
    out: dict[str, Any] = {}
    t: dict[str, float] = {}
    f, t["funnel"] = timed(
        "funnel 4 steps, 7 days",
        lambda: funnels.funnel(store, src, FUNNEL, window_seconds=7 * 86400, dropped_limit=5),
    )
    out["funnel"] = f.as_dict()
    print("    reached", [st.cases for st in f.steps], flush=True)
    funnel_variants(store, src, out, t)
    out["paths"], t["paths"] = timed(
        "top 10 paths (3 events)", lambda: analysis.top_ngrams(store, src)
    )
    print("    top path", out["paths"][0], flush=True)
    out["sankey"], t["sankey"] = timed(
        "paths after add_to_cart (Sankey)",
        lambda: analysis.paths(store, src, anchor="add_to_cart", depth=3),
    )
    disc, t["discover"] = timed(
        "DFG + variants", lambda: analysis.discover(store, src, max_variants=100)
    )
    out["discover"] = [disc.as_dict(durations_p90=True), disc.cases, disc.variant_count]
    print(f"    {len(disc.edges)} edges, {disc.variant_count:,} variants", flush=True)
    return out, t


def child_analyse(engine: str, root: Path, check: bool) -> dict[str, Any]:
    store = open_store(engine, root)
    d: q.Dialect = "duckdb" if engine == "duckdb" else "clickhouse"
    src = q.events_source(d, db="safar", workspace_id=WS)
    res: dict[str, Any] = {}
    if engine == "duckdb":
        from safar.journeys import index as ix

        full = q.events_source(d, db="safar", workspace_id=WS)
        assert src.index is not None
        _, res["index_build"] = timed(
            "journey index build (when stale)",
            lambda: ix.get_index(store, src.index, full.sql, full.params),
        )
        _, res["index_check"] = timed(
            "journey index freshness check",
            lambda: ix.get_index(store, src.index, full.sql, full.params),
        )
    out, t = analyses(store, src)
    res.update(t)
    res["peak_mb"] = peak_mb()
    if check and engine == "duckdb":
        print("  reference SQL (USE_INDEX = False):", flush=True)
        analysis.USE_INDEX = False
        ref, t_ref = analyses(store, src)
        analysis.USE_INDEX = True
        assert ref == out, "index and SQL disagree"
        print("    identical results: True", flush=True)
        res["sql"] = t_ref
    res["out"] = json.loads(json.dumps(out, default=str))
    store.close()
    return res


def run_child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, check=True
    )
    lines = proc.stdout.splitlines()
    for line in lines[:-1]:
        print(line, flush=True)
    return json.loads(lines[-1])


def bench_generated(n: int, engines: list[str], check: bool) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for engine in engines:
        root = Path(tempfile.mkdtemp(prefix=f"journeys-{engine}-"))
        print(f"{engine}, {n:,} events:", flush=True)
        try:
            load = run_child(["--child", "load", "--engine", engine, "--root", str(root),
                              "--events", str(n)])  # fmt: skip
            res = run_child(["--child", "analyse", "--engine", engine, "--root", str(root)]
                            + (["--check"] if check else []))  # fmt: skip
            res.update(load)
            print(f"  peak RSS of the analysis process {res['peak_mb']:,.0f} MB "
                  f"(load process {load['load_peak_mb']:,.0f} MB)", flush=True)  # fmt: skip
            results[engine] = res
        finally:
            shutil.rmtree(root, ignore_errors=True)
    if len(results) > 1:
        outs = [r["out"] for r in results.values()]
        same = all(o == outs[0] for o in outs)
        print(f"engines agree on every result: {same}", flush=True)
        assert same, "engines disagree"
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
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--child", choices=["load", "analyse"])
    ap.add_argument("--engine")
    ap.add_argument("--root", type=Path)
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("SAFAR_SHARED_DATA_DIR", "/work/shared/data")),
    )
    args = ap.parse_args()
    if args.child == "load":
        print(json.dumps(child_load(args.engine, args.root, args.events)))
        return
    if args.child == "analyse":
        print(json.dumps(child_analyse(args.engine, args.root, args.check)))
        return
    if not args.skip_logs:
        if args.data_dir.exists():
            bench_logs(args.data_dir)
        else:
            print(f"no {args.data_dir}; real logs skipped", file=sys.stderr)
    if not args.skip_generated:
        bench_generated(args.events, args.engines.split(","), args.check)


if __name__ == "__main__":
    main()
