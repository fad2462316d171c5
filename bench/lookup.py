"""Profile lookup latency with 1M profiles in the embedded state store.

Builds a workspace with N profiles (each: user_id, email, phone, anonymous_id and four traits)
with bulk inserts, then measures `GET /api/profiles/lookup?type=email&value=...` through a real
`safar serve`, sequentially and with concurrent clients, plus the in-process service call.
Run: `.venv/bin/python bench/lookup.py [--profiles 1000000] [--requests 5000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).parent))
from _server import running_server

from safar.config import Settings
from safar.db import Database
from safar.identity import service
from safar.identity.models import Identity, Profile, TraitValue
from safar.workspaces import models as _workspace_models  # noqa: F401


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


async def http_lookups(
    url: str, secret: str, n_profiles: int, requests: int, clients: int
) -> list[float]:
    lat: list[float] = []
    rnd = random.Random(1)
    todo = iter(range(requests))

    async def worker() -> None:
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {secret}"}
        ) as c:
            for _ in todo:
                i = rnd.randrange(n_profiles)
                t = time.perf_counter()
                r = await c.get(
                    "/api/profiles/lookup",
                    params={"type": "email", "value": f"customer{i}@example.com"},
                )
                lat.append(time.perf_counter() - t)
                assert r.status_code == 200 and r.json()["traits"]["name"] == f"Customer {i}", (
                    r.text
                )

    await asyncio.gather(*(worker() for _ in range(clients)))
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--reuse", type=Path, help="a data dir this script populated before")
    args = ap.parse_args()
    with running_server(data_dir=args.reuse) as server:
        if args.reuse is None:
            took = populate(server.data_dir, server.workspace_id, args.profiles)
            print(
                f"populated {args.profiles:,} profiles (4 identities, 4 traits each) in {took:.1f} s"
            )
        print(f"data dir: {server.data_dir}")
        # Warm up, then measure.
        asyncio.run(http_lookups(server.url, server.secret_key, args.profiles, 200, 1))
        for clients in (1, 4):
            lat = asyncio.run(
                http_lookups(server.url, server.secret_key, args.profiles, args.requests, clients)
            )
            print(
                f"HTTP lookup by email, {clients} client(s): p50 {pct(lat, 0.5):.2f} ms, "
                f"p99 {pct(lat, 0.99):.2f} ms, {len(lat) / max(sum(lat) / clients, 1e-9):,.0f} req/s"
            )
        print(f"server RSS: {server.rss_mb()[0]:.0f} MB")
    db = Database(Settings(data_dir=server.data_dir).resolved_state_url)
    rnd = random.Random(2)
    lat = []
    with db.session() as s:
        for _ in range(args.requests):
            i = rnd.randrange(args.profiles)
            t = time.perf_counter()
            pid = service.lookup(
                s, workspace_id=server.workspace_id, type_="email", value=f"customer{i}@example.com"
            )
            service.get_profile(s, workspace_id=server.workspace_id, profile_id=pid)
            lat.append(time.perf_counter() - t)
    print(
        f"in-process lookup + full profile: p50 {pct(lat, 0.5):.2f} ms, p99 {pct(lat, 0.99):.2f} ms"
    )


if __name__ == "__main__":
    main()
