"""Profile lookup latency with 1M profiles in the embedded state store.

Builds a workspace with N profiles (each: user_id, email, phone, anonymous_id and four traits)
with bulk inserts, then measures `GET /api/profiles/lookup?type=email&value=...` through a real
`safar serve`, with 1 and 4 concurrent keep-alive clients (and with `wrk` when asked), the
server's CPU time per request, and the in-process service call.
Run: `.venv/bin/python bench/lookup.py --data-dir DIR` once (populates DIR and measures), then
`.venv/bin/python bench/lookup.py --reuse DIR` to measure again on the same data.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).parent))
from _server import running_server

from safar.config import Settings
from safar.db import Database
from safar.identity import service
from safar.identity.models import Identity, Profile, TraitValue
from safar.workspaces import models as _workspace_models  # noqa: F401
from safar.workspaces.service import create_workspace


def create_bench_workspace(data_dir: Path) -> str:
    """Migrate a new data dir and create the workspace the profiles go into."""
    settings = Settings(data_dir=data_dir)
    settings.ensure_dirs()
    db = Database(settings.resolved_state_url)
    db.migrate()
    with db.session() as s:
        ws, _, _ = create_workspace(s, name="Bench")
        ws_id = ws.id
    db.dispose()
    return ws_id


def populate(data_dir: Path, workspace_id: str, n: int) -> float:
    db = Database(Settings(data_dir=data_dir).resolved_state_url)
    t0 = time.perf_counter()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    chunk = 20_000
    next_id = 1
    for start in range(0, n, chunk):
        profiles, idents, traits = [], [], []
        for i in range(start, min(n, start + chunk)):
            pid = f"prf_bench{i:015d}"
            profiles.append(
                {
                    "id": pid,
                    "workspace_id": workspace_id,
                    "created_at": now,
                    "updated_at": now,
                    "merged_into": None,
                }
            )
            for t, v in (
                ("user_id", f"cust-{i}"),
                ("email", f"customer{i}@example.com"),
                ("phone", f"+98912{i:07d}"),
                ("anonymous_id", f"anon-{i}"),
            ):
                idents.append(
                    {
                        "id": next_id,
                        "workspace_id": workspace_id,
                        "type": t,
                        "value": v,
                        "profile_id": pid,
                        "first_seen": now,
                        "source": "bench",
                    }
                )
                next_id += 1
            for k, v in (
                ("name", f"Customer {i}"),
                ("language", "fa" if i % 2 else "en"),
                ("city", "Tehran"),
                ("birthday", "1990-03-21"),
            ):
                traits.append(
                    {
                        "workspace_id": workspace_id,
                        "identity_id": next_id - 4,
                        "key": k,
                        "value": v,
                        "source": "bench",
                        "observed_at": now,
                        "message_id": f"m{i}",
                    }
                )
        with db.session() as s:
            s.execute(insert(Profile), profiles)
            s.execute(insert(Identity), idents)
            s.execute(insert(TraitValue), traits)
    took = time.perf_counter() - t0
    db.dispose()
    return took


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return 1000 * values[min(len(values) - 1, int(len(values) * p))]


def cached_share(path: Path) -> str:
    """How much of a file the OS page cache holds (``fincore``, util-linux), if it can tell.

    Random lookups over a file that is not cached read pages from disk; this machine also
    reclaims file pages that were not used for a while, so say how the run started.
    """
    if shutil.which("fincore") is None:
        return "unknown (no fincore)"
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES,SIZE", str(path)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    if len(out) != 2:
        return "unknown"
    res, size = int(out[0]), int(out[1])
    return f"{res / 2**20:,.0f} of {size / 2**20:,.0f} MB ({100 * res / max(size, 1):.0f}%)"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads).

    Unlike latency, it hardly depends on what else runs on the machine, so it compares two
    versions fairly on a busy machine.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_lookups(
    url: str, secret: str, n_profiles: int, requests: int, clients: int, seed: int = 1
) -> tuple[list[float], float]:
    """Latencies of ``requests`` lookups spread over ``clients`` keep-alive connections.

    One thread per client with a plain ``http.client`` connection: the client's own cost per
    request is tens of microseconds, so it does not hide the server's latency (httpx's async
    client cost about 1 ms of CPU per request on this machine). Returns (latencies, wall s).
    """
    parsed = urlsplit(url)
    headers = {"Authorization": f"Bearer {secret}"}
    per_client = [requests // clients + (c < requests % clients) for c in range(clients)]
    lats: list[list[float]] = [[] for _ in range(clients)]
    failures: list[str] = []

    def worker(c: int) -> None:
        rnd = random.Random(seed * 1000 + c)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        out = lats[c]
        checks: list[tuple[int, bytes]] = []
        for _ in range(per_client[c]):
            i = rnd.randrange(n_profiles)
            path = f"/api/profiles/lookup?type=email&value=customer{i}%40example.com"
            t = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            out.append(time.perf_counter() - t)
            if resp.status != 200:
                failures.append(f"{resp.status} {body[:200]!r}")
                return
            checks.append((i, body))
        conn.close()
        # Checked after the timed loop so that parsing does not compete with the requests.
        for i, body in checks:
            if json.loads(body)["traits"]["name"] != f"Customer {i}":
                failures.append(f"wrong profile for customer {i}: {body[:200]!r}")
                return

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    if failures:
        raise SystemExit(f"lookup failed: {failures[0]}")
    return [x for lat in lats for x in lat], wall


WRK_SCRIPT = """
math.randomseed(%(seed)d)
request = function()
  local i = math.random(0, %(n)d - 1)
  return wrk.format("GET", "/api/profiles/lookup?type=email&value=customer" .. i .. "%%40example.com")
end
done = function(summary, latency, requests)
  io.write(string.format("WRK %%f %%f %%d %%d\\n", latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


def wrk_lookups(
    url: str, secret: str, n_profiles: int, seconds: int, clients: int
) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, requests/s) from ``wrk`` (C, one thread per connection)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % {"seed": 1, "n": n_profiles})
        script.flush()
        out = subprocess.run(
            [
                "wrk",
                f"-t{clients}",
                f"-c{clients}",
                f"-d{seconds}s",
                "-s",
                script.name,
                "-H",
                f"Authorization: Bearer {secret}",
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    p50, p99, n, errors = line.split()[1:]
    if int(errors):
        raise SystemExit(f"wrk: {errors} failed requests\n{out}")
    return float(p50), float(p99), int(n) / seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--reuse", type=Path, help="a data dir this script populated before")
    ap.add_argument(
        "--data-dir", type=Path, help="populate this (new, empty) dir and keep it for --reuse"
    )
    ap.add_argument(
        "--clients",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 4],
        help="concurrent keep-alive clients per run, comma-separated",
    )
    ap.add_argument(
        "--wrk", type=int, default=0, metavar="SECONDS", help="also measure with wrk for SECONDS"
    )
    ap.add_argument(
        "--warm-file",
        action="store_true",
        help="read the state file once first, so lookups find its pages in the OS cache",
    )
    args = ap.parse_args()
    if args.data_dir is not None:
        if args.data_dir.exists() and any(args.data_dir.iterdir()):
            ap.error(f"--data-dir {args.data_dir}: not empty; use --reuse to run on it again")
        ws = create_bench_workspace(args.data_dir)
        took = populate(args.data_dir, ws, args.profiles)
        print(f"populated {args.profiles:,} profiles (4 identities, 4 traits each) in {took:.1f} s")
        args.reuse = args.data_dir
    with running_server(data_dir=args.reuse) as server:
        if args.reuse is None:
            took = populate(server.data_dir, server.workspace_id, args.profiles)
            print(
                f"populated {args.profiles:,} profiles (4 identities, 4 traits each) in {took:.1f} s"
            )
        print(f"data dir: {server.data_dir}")
        state_file = server.data_dir / "state.db"
        if args.warm_file:
            with state_file.open("rb") as f:
                while f.read(1 << 24):
                    pass
        print(f"state file in the OS page cache: {cached_share(state_file)}")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        # Warm up (and check every answer), then measure.
        http_lookups(server.url, server.secret_key, args.profiles, 1000, 1, seed=0)
        for clients in args.clients:
            cpu0 = cpu_seconds(server.proc.pid)
            lat, wall = http_lookups(
                server.url, server.secret_key, args.profiles, args.requests, clients
            )
            cpu = cpu_seconds(server.proc.pid) - cpu0
            print(
                f"HTTP lookup by email, {clients} client(s), http.client: "
                f"p50 {pct(lat, 0.5):.2f} ms, p99 {pct(lat, 0.99):.2f} ms, "
                f"{len(lat) / wall:,.0f} req/s; server CPU {cpu / len(lat) * 1000:.2f} ms/request"
            )
        if args.wrk and shutil.which("wrk"):
            for clients in args.clients:
                p50, p99, rate = wrk_lookups(
                    server.url, server.secret_key, args.profiles, args.wrk, clients
                )
                print(
                    f"HTTP lookup by email, {clients} client(s), wrk {args.wrk} s: "
                    f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, {rate:,.0f} req/s"
                )
        elif args.wrk:
            print("wrk not installed (apt-get install wrk): skipped")
        print(f"server RSS: {server.rss_mb()[0]:.0f} MB")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    db = Database(Settings(data_dir=server.data_dir).resolved_state_url)
    rnd = random.Random(2)
    lat = []
    with db.read() as conn:
        for _ in range(args.requests):
            i = rnd.randrange(args.profiles)
            t = time.perf_counter()
            service.lookup_profile_json(
                conn,
                workspace_id=server.workspace_id,
                type_="email",
                value=f"customer{i}@example.com",
            )
            lat.append(time.perf_counter() - t)
    print(
        f"in-process lookup (statement + JSON): p50 {pct(lat, 0.5):.2f} ms, "
        f"p99 {pct(lat, 0.99):.2f} ms"
    )
    db.dispose()


if __name__ == "__main__":
    main()
