"""Throughput and memory of each text-analytics path; prints a table for docs/benchmarks.md.

Texts: Safar's own corpus (fa + en), or the shared SnappFood comments when
``SAFAR_SHARED_DATA_DIR`` is set. Run: ``python bench/text.py [--n 4000] [--accurate 200]``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def texts_for(n: int) -> tuple[str, list[str]]:
    shared = os.environ.get("SAFAR_SHARED_DATA_DIR", "/work/shared/data")
    path = Path(shared) / "persian" / "snappfood_comments.csv.gz"
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            rows = [r["comment_text"] for r in csv.DictReader(f) if r["comment_text"]]
        return "SnappFood comments (fa)", (rows * (n // len(rows) + 1))[:n]
    from safar.text.corpus import build_corpus

    return "Safar corpus (fa+en)", [e.text for e in build_corpus(n // 2 + 1)][:n]


def timed(label: str, n: int, fn: Callable[[], object]) -> None:
    before = rss_mb()
    start = time.perf_counter()
    fn()
    took = time.perf_counter() - start
    print(
        f"| {label} | {n} | {n / took:,.0f} | {rss_mb():,.0f} (+{rss_mb() - before:,.0f}) "
        f"| {peak_mb():,.0f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--accurate", type=int, default=200, help="texts for the +e5 path (0 = skip)")
    args = ap.parse_args()
    from safar.text import embeddings
    from safar.text.normalize import prepare
    from safar.text.pipeline import Analyzer, default_model_path

    imported = rss_mb()
    source, texts = texts_for(args.n)
    mean_len = sum(map(len, texts)) / len(texts)
    print(f"texts: {source}, mean {mean_len:.0f} chars; python {sys.version.split()[0]}")
    art = default_model_path().parent
    size = sum(p.stat().st_size for p in art.glob("*.joblib")) / 1e6
    print(f"shipped model files: {size:.1f} MB; RSS at start {rss_mb():.0f} MB\n")
    print("| path | texts | texts/s | RSS MB (delta) | peak MB |")
    print("|---|---|---|---|---|")
    timed("normalise + language", len(texts), lambda: [prepare(t) for t in texts])
    t0 = time.perf_counter()
    analyzer = Analyzer.open()
    print(f"| load default model ({time.perf_counter() - t0:.2f} s) | | | {rss_mb():,.0f} | |")
    norm = [prepare(t).text for t in texts]
    timed(
        "sentiment only (n-grams, 1 core)",
        len(texts),
        lambda: analyzer.default.predict(norm, ["sentiment"]),
    )
    timed("whole pipeline, fast path", len(texts), lambda: analyzer.analyze(texts))
    if args.accurate and embeddings.available():
        # The same loaded models with the embedding heads on, as one server process runs them.
        acc = Analyzer(analyzer.default, analyzer.local, accurate=True)
        sample = texts[: args.accurate]
        timed(
            f"whole pipeline + e5 (OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']})",
            len(sample),
            lambda: acc.analyze(sample),
        )
    print(
        f"\nmemory of the models (RSS now minus after imports, {imported:.0f} MB of which "
        f"are Python, numpy, scikit-learn and the pandas it imports): {rss_mb() - imported:.0f} MB"
    )


if __name__ == "__main__":
    main()
