"""CPU of the ingest request path's own work on one core: JSON in, WAL record out.

Times what ``POST /v1/batch`` does with a body between the socket and the log append, in
process and without a server: parse the JSON, validate and normalise the batch on the fast
path, encode the WAL record. Prints the best of several rounds (the least disturbed by other
work on the machine) in microseconds per 100-event batch. The batches are the ones
``bench/ingest.py`` sends. Run it against two trees to compare them:
`PYTHONPATH=src .venv/bin/python bench/ingest_validate.py [--batches 300] [--rounds 7]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from ingest import make_batch

from safar.events import api
from safar.events.messages import fast_rows, parse_time
from safar.events.pipeline import encode_record


def one(raw: bytes) -> bytes:
    """The fast path of one batch request, as the endpoint runs it."""
    body = orjson.loads(raw)
    items = body["batch"]
    limit = 32 * 1024
    # The size guard the endpoint runs before the fast path (whichever form this tree has).
    if hasattr(api, "read_body"):
        fits = len(raw) <= limit or api._sizes_fit(items, limit)
    else:
        fits = len(orjson.dumps(body)) <= limit or api._sizes_fit(items, limit)
    assert fits
    rows = fast_rows(
        items,
        workspace_id="ws_bench",
        received_at=datetime.now(UTC),
        batch_sent_at=parse_time(body.get("sentAt"), "sentAt"),
        source="key_bench",
    )
    assert rows is not None and len(rows) == len(items)
    return encode_record(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    bodies = [make_batch(i, 100) for i in range(args.batches)]
    one(bodies[0])
    best = float("inf")
    for _ in range(args.rounds):
        t = time.process_time()
        for raw in bodies:
            one(raw)
        best = min(best, (time.process_time() - t) / len(bodies))
    print(f"fast path, 100-event batch: {best * 1e6:,.0f} us CPU (best of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
