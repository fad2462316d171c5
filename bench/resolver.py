"""Identity resolution in process: demo messages through the applier, CPU seconds.

Applies the first N messages of the seeded demo (identifies, aliases, groups, consent,
traits, tracks) in batches of 1,000 to a fresh embedded installation with text analysis off,
so the figure is the resolver and the stores, not HTTP. Run:
`.venv/bin/python bench/resolver.py [--events 30000]`; compare two trees by running it with
each one's `src` on PYTHONPATH, alternating.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from safar.config import Settings
from safar.demo.generator import generate
from safar.events.messages import normalize, parse_message
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=30_000)
    args = ap.parse_args()
    customers = max(10, args.events // 40)
    messages = generate(7, customers, datetime(2026, 3, 1, tzinfo=UTC)).messages[: args.events]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "safar", text_analysis=False)
        rt = Runtime(settings, ingest=False)
        try:
            with rt.db.session() as s:
                ws = create_workspace(s, name="bench")[0].id
            now = datetime.now(UTC)
            rows = [
                normalize(parse_message(dict(m)), workspace_id=ws, received_at=now)
                for m in messages
            ]
            started = time.process_time()
            for i in range(0, len(rows), 1000):
                rt.applier.apply(rows[i : i + 1000])
            cpu = time.process_time() - started
        finally:
            rt.close()
    print(f"{len(rows)} events applied in {cpu:.2f} s CPU ({len(rows) / cpu:,.0f} events/s)")


if __name__ == "__main__":
    main()
