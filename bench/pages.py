"""Time every dashboard page over real HTTP against `safar serve` on a large data dir.

PYTHONPATH=src python bench/pages.py [--profiles 20000] [--events 200000] [--data-dir DIR]
    [--repeat 7]

The data dir is built first through Safar's own write paths (`bench/pages_build.py`) unless
``DIR/build.json`` says a build of it finished; pass the same ``--data-dir`` to reuse it. The
pages are then served by a real `safar serve` subprocess (embedded DuckDB + SQLite, as an
installation has them) and fetched one at a time with a logged-in session: the first hit of
each page (cold: nothing of it cached in the process), then ``--repeat`` warm hits, reporting
p50/p95 of the time from sending the request to the last byte of the answer on loopback (the
server's own time plus a loopback round trip, well under a millisecond).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _server import running_server
from pages_build import ADMIN, build

TARGET_MS = 300.0


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def login(client: httpx.Client) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no login form"
    res = client.post(
        "/login", data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token.group(1)}
    )
    assert res.status_code in (302, 303), res.status_code


def first_link(client: httpx.Client, path: str, pattern: str) -> str:
    """The first link on a page that matches ``pattern`` (a survey, a journey)."""
    m = re.search(pattern, client.get(path).text)
    assert m, f"no link {pattern} on {path}"
    return m.group(0)


def pages(client: httpx.Client) -> list[tuple[str, str]]:
    """(label, path) of every page timed; ids are found as a user would, by following links."""
    res = client.get("/customers", params={"q": "cus-7-00007"})
    profile = res.headers.get("location") or first_link(
        client, "/customers?q=cus-7-00007", r"/customers/prf_[0-9A-Za-z_]+"
    )
    survey = first_link(client, "/surveys", r"/surveys/svy_[0-9a-f]+")
    flow = first_link(client, "/automations", r"/automations/flw_[0-9a-f]+")
    return [
        ("overview", "/"),
        ("overview, 90 days", "/?period=90d"),
        ("customers, page 1", "/customers"),
        ("customers, search", "/customers?q=gmail"),
        ("customers, trait filter", "/customers?trait=city&value=%D8%AA%D9%87%D8%B1%D8%A7%D9%86"),
        ("customer 360", profile),
        ("listen", "/listen"),
        ("listen, 90 days negative", "/listen?period=90d&sentiment=negative"),
        ("journeys analytics", "/journeys"),
        ("automations", "/automations"),
        ("automation (a journey)", flow),
        ("surveys", "/surveys"),
        ("survey results", survey),
        ("import", "/imports"),
        ("settings", "/settings"),
    ]


def time_pages(url: str, repeat: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    with httpx.Client(base_url=url, timeout=600) as client:
        login(client)
        for label, path in pages(client):
            times: list[float] = []
            size = 0
            for _ in range(repeat + 1):
                start = time.perf_counter()
                res = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                assert res.status_code == 200, (path, res.status_code, res.text[:300])
                size = len(res.content)
            cold, warm = times[0], times[1:]
            row = {"page": label, "path": path, "cold_ms": cold, "p50_ms": pct(warm, 50),
                   "p95_ms": pct(warm, 95), "kb": size / 1024}  # fmt: skip
            out.append(row)
            flag = "" if row["p95_ms"] < TARGET_MS else "  over 300 ms"  # type: ignore[operator]
            print(f"{label:28} {cold:9.0f} {row['p50_ms']:9.0f} {row['p95_ms']:9.0f} "
                  f"{size / 1024:6.0f}{flag}", flush=True)  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", type=int, default=20_000)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--build-only", action="store_true")
    args = ap.parse_args()
    temp = args.data_dir is None
    data_dir: Path = args.data_dir or Path(tempfile.mkdtemp(prefix="safar-pages-"))
    marker = data_dir / "build.json"
    if marker.exists() and json.loads(marker.read_text()).get("done"):
        print(f"reusing {data_dir} (built earlier)")
    else:
        if data_dir.exists() and any(data_dir.iterdir()):
            sys.exit(f"{data_dir} holds an unfinished build: remove it first")
        build(data_dir, profiles=args.profiles, events=args.events)
    built = json.loads(marker.read_text())
    print(json.dumps({k: built[k] for k in ("messages", "stored", "story_customers", "contacts",
                      "survey_responses", "texts_analysed", "segments", "seconds",
                      "bytes_on_disk")}, ensure_ascii=False))  # fmt: skip
    if args.build_only:
        return
    try:
        with running_server(data_dir=data_dir) as server:
            print(f"{'page':28} {'cold ms':>9} {'p50 ms':>9} {'p95 ms':>9} {'KB':>6}")
            rows = time_pages(server.url, args.repeat)
            print(json.dumps(rows))
    finally:
        if temp:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
