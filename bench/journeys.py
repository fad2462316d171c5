"""Journey analytics benchmark: generated events on both engines, real logs beside pm4py.

    PYTHONPATH=src python bench/journeys.py [--events 10000000] [--engines duckdb,clickhouse]
        [--skip-logs] [--skip-generated] [--check] [--log-runs 3] [--data-dir /work/shared/data]

Generated data: N events of 500k customers, 12 event names, 90 days (customers and names drawn
with skewed weights; conversion events are rarer), generated and inserted in chunks of 1M.
Each engine runs in two child processes: one generates and inserts, one opens the stored
events and runs the analyses, so the peak memory printed for the analyses is theirs alone.
``--check`` also runs the reference SQL of ``queries`` (``accelerate=False``) on
DuckDB and asserts identical results. Figures are wall-clock seconds of one run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
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

from safar.events.store import COLUMNS, analytics
from safar.events.store.arrow import SCHEMA
from safar.journeys import analysis, funnels
from safar.journeys import queries as q
from safar.journeys.xes import read_xes
from safar.kit.query import Dialect

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
    analytics.ensure_identity_map(store)
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


def funnel_variants(
    store: Any, src: q.Source, out: dict[str, Any], t: dict[str, float], acc: bool
) -> None:
    """Any-order funnel and breakdowns (channel of the entry event, an event property)."""
    d: Dialect = "duckdb" if store.engine_name == "duckdb" else "clickhouse"
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
                breakdown_sources=srcs, accelerate=acc, **kw,
            ),
        )  # fmt: skip
        out[key] = f.as_dict()
        print("    reached", [st.cases for st in f.steps], flush=True)


def analyses(
    store: Any, src: q.Source, acc: bool = True
) -> tuple[dict[str, Any], dict[str, float]]:
    out: dict[str, Any] = {}
    t: dict[str, float] = {}
    f, t["funnel"] = timed(
        "funnel 4 steps, 7 days",
        lambda: funnels.funnel(
            store, src, FUNNEL, window_seconds=7 * 86400, dropped_limit=5, accelerate=acc
        ),
    )
    out["funnel"] = f.as_dict()
    print("    reached", [st.cases for st in f.steps], flush=True)
    funnel_variants(store, src, out, t, acc)
    out["paths"], t["paths"] = timed(
        "top 10 paths (3 events)", lambda: analysis.top_ngrams(store, src, accelerate=acc)
    )
    print("    top path", out["paths"][0], flush=True)
    out["sankey"], t["sankey"] = timed(
        "paths after add_to_cart (Sankey)",
        lambda: analysis.paths(store, src, anchor="add_to_cart", depth=3, accelerate=acc),
    )
    disc, t["discover"] = timed(
        "DFG + variants", lambda: analysis.discover(store, src, max_variants=100, accelerate=acc)
    )
    out["discover"] = [disc.as_dict(durations_p90=True), disc.cases, disc.variant_count]
    print(f"    {len(disc.edges)} edges, {disc.variant_count:,} variants", flush=True)
    return out, t


def child_analyse(engine: str, root: Path, check: bool) -> dict[str, Any]:
    store = open_store(engine, root)
    d: Dialect = "duckdb" if engine == "duckdb" else "clickhouse"
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
        print("  reference SQL (accelerate=False):", flush=True)
        ref, t_ref = analyses(store, src, acc=False)
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


def _counts(edges: Any, starts: Any, ends: Any, variants: Any) -> dict[str, Any]:
    """Counts in one comparable form: edges, start and end activities, variants."""
    return {
        "edges": sorted([a, b, int(f)] for (a, b), f in edges.items()),
        "starts": sorted([a, int(c)] for a, c in starts.items()),
        "ends": sorted([a, int(c)] for a, c in ends.items()),
        "variants": sorted([list(k), int(c)] for k, c in variants.items()),
    }


def log_safar(path: str, clickhouse: bool) -> dict[str, Any]:
    """Safar on one log, in a fresh process: read (XES scan) and discovery timed apart, then
    the same discovery through DuckDB (and ClickHouse) asserted identical."""
    c0, t0 = time.process_time(), time.perf_counter()
    table = read_xes(Path(path))
    t1 = time.perf_counter()
    ours = analysis.discover_table(table)
    c2, t2 = time.process_time(), time.perf_counter()
    res: dict[str, Any] = {
        "read": t1 - t0,
        "discover": t2 - t1,
        "cpu": c2 - c0,
        "events": table.num_rows,
    }
    res["counts"] = _counts(
        {(x["source"], x["target"]): x["frequency"] for x in ours.edges},
        ours.start_activities,
        ours.end_activities,
        {tuple(v["activities"]): v["count"] for v in ours.variants},
    )
    # Again in the same process (warm: imports, allocator and caches as in a running server).
    t = time.perf_counter()
    again = analysis.discover_table(read_xes(Path(path)))
    res["warm"] = time.perf_counter() - t
    assert again.as_dict(durations_p90=True) == ours.as_dict(durations_p90=True)
    log = analysis.CaseLog(table)
    t = time.perf_counter()
    via_duckdb = analysis.discover(log, log.source)
    res["duckdb"] = time.perf_counter() - t
    assert via_duckdb.as_dict(durations_p90=True) == ours.as_dict(durations_p90=True)
    log.close()
    if clickhouse:
        from safar.events.store.clickhouse import ClickHouseEventStore

        root = Path(tempfile.mkdtemp(prefix="journeys-log-"))
        try:
            ch = ClickHouseEventStore(f"chdb://{root / 'ch'}")
            ch.init()
            caselog = analytics.create_case_table(ch, "caselog", table)
            t = time.perf_counter()
            via_ch = analysis.discover(ch, q.table_source(caselog))
            res["clickhouse"] = time.perf_counter() - t
            assert via_ch.as_dict() == ours.as_dict(), "engines disagree"
            ch.close()
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return res


def log_pm4py(path: str) -> dict[str, Any]:
    """pm4py on one log, in a fresh process (imported before the clock starts)."""
    import pm4py  # dev-only reference (AGPL); never imported by the package

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c0, t0 = time.process_time(), time.perf_counter()
        ref = pm4py.read_xes(path, show_progress_bar=False)
        t1 = time.perf_counter()
        dfg, s, e = pm4py.discover_dfg(ref)
        var = pm4py.get_variants(ref)
        c2, t2 = time.process_time(), time.perf_counter()
        again = pm4py.read_xes(path, show_progress_bar=False)
        pm4py.discover_dfg(again)
        pm4py.get_variants(again)
        t3 = time.perf_counter()
    variants = {k: (v if isinstance(v, int) else len(v)) for k, v in var.items()}
    return {
        "read": t1 - t0,
        "discover": t2 - t1,
        "cpu": c2 - c0,
        "warm": t3 - t2,
        "counts": _counts(dfg, s, e, variants),
    }


def in_fresh_process(fn: Any, *args: Any) -> dict[str, Any]:
    """Run ``fn`` in a new interpreter (imports done before it starts timing), as a one-shot
    command like ``safar journeys discover`` would."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        out: dict[str, Any] = pool.apply(fn, args)
    return out


def bench_logs(data_dir: Path, runs: int = 3, clickhouse: bool = True) -> None:
    """Each tool reads and discovers each log ``runs`` times, alternating, each time in a
    fresh process; medians are printed (and every run's figures)."""
    for name in ("helpdesk.xes.gz", "bpic2012.xes.gz"):
        path = str(data_dir / "process_logs" / name)
        print(f"{name}:", flush=True)
        ours: list[dict[str, Any]] = []
        refs: list[dict[str, Any]] = []
        for i in range(runs):
            ours.append(in_fresh_process(log_safar, path, clickhouse and i == 0))
            refs.append(in_fresh_process(log_pm4py, path))
            o, r = ours[-1], refs[-1]
            print(
                f"  run {i + 1}: safar read {o['read']:.3f} + discover {o['discover']:.3f} s "
                f"(CPU {o['cpu']:.3f}); pm4py read {r['read']:.2f} + discover "
                f"{r['discover']:.2f} s (CPU {r['cpu']:.2f}); again in the same process: "
                f"safar {o['warm']:.3f} s, pm4py {r['warm']:.2f} s",
                flush=True,
            )
        same = all(o["counts"] == r["counts"] for o, r in zip(ours, refs, strict=True))
        assert same, "counts differ from pm4py"

        def med(rows: list[dict[str, Any]], key: str) -> float:
            return float(np.median([row[key] for row in rows]))

        s_read, s_disc = med(ours, "read"), med(ours, "discover")
        p_read, p_disc = med(refs, "read"), med(refs, "discover")
        totals = [o["read"] + o["discover"] for o in ours]
        ptotals = [r["read"] + r["discover"] for r in refs]
        c = ours[0]["counts"]
        print(
            f"  {ours[0]['events']:,} events, {len(c['edges'])} edges, {len(c['variants']):,} "
            f"variants; identical counts (edges, variants, starts, ends): {same}\n"
            f"  median of {runs}: safar read {s_read:.3f} s, discover {s_disc:.3f} s "
            f"(through DuckDB {med(ours, 'duckdb'):.3f} s"
            + (f", ClickHouse {ours[0]['clickhouse']:.2f} s" if "clickhouse" in ours[0] else "")
            + f"); pm4py read {p_read:.2f} s, discover {p_disc:.2f} s\n"
            f"  read + discover: safar {np.median(totals):.3f} s, pm4py "
            f"{np.median(ptotals):.2f} s: {np.median(ptotals) / np.median(totals):.1f}x faster "
            f"(read {p_read / s_read:.1f}x, discover {p_disc / s_disc:.1f}x; "
            f"best runs {min(ptotals) / min(totals):.1f}x); CPU time: safar {med(ours, 'cpu'):.3f} "
            f"s, pm4py {med(refs, 'cpu'):.2f} s: {med(refs, 'cpu') / med(ours, 'cpu'):.1f}x\n"
            f"  second read + discover in the same process: safar {med(ours, 'warm'):.3f} s, "
            f"pm4py {med(refs, 'warm'):.2f} s: {med(refs, 'warm') / med(ours, 'warm'):.1f}x",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--engines", default="duckdb,clickhouse")
    ap.add_argument("--skip-logs", action="store_true")
    ap.add_argument("--skip-generated", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--log-runs", type=int, default=3, help="runs per tool and real log")
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
            bench_logs(args.data_dir, args.log_runs, "clickhouse" in args.engines.split(","))
        else:
            print(f"no {args.data_dir}; real logs skipped", file=sys.stderr)
    if not args.skip_generated:
        bench_generated(args.events, args.engines.split(","), args.check)


if __name__ == "__main__":
    main()
