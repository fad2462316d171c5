"""The write-ahead log alone: append and read throughput, without HTTP or the stores.

Prints the best of ``--repeat`` runs of appending ``--records`` request-sized records in
groups (one write + fsync each, as the group committer does) and reading them all back.
``--module PATH`` loads another ``wal.py`` (e.g. the previous main's) to compare the framing.
Run: `.venv/bin/python bench/wal.py [--dir /dev/shm] [--module OLD/wal.py]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

#: About 10 KB: one 100-event request after validation.
PAYLOAD = b'{"type":"track","event":"Product Viewed","userId":"user-1","properties":{}}' * 140


def load(path: str | None) -> ModuleType:
    if path is None:
        from safar.events import wal

        return wal
    spec = importlib.util.spec_from_file_location("wal_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--group", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dir", default=None, help="where to write (default: the temp dir)")
    ap.add_argument("--module", default=None, help="path of another wal.py to measure")
    args = ap.parse_args()
    wal_module = load(args.module)
    appends, reads = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(dir=args.dir) as d:
            log = wal_module.WriteAheadLog(Path(d))
            t = time.perf_counter()
            for _ in range(args.records // args.group):
                log.append_many([PAYLOAD] * args.group)
            appends.append(time.perf_counter() - t)
            t = time.perf_counter()
            n = sum(1 for _ in log.read_from(0, max_bytes=1 << 40))
            reads.append(time.perf_counter() - t)
            log.close()
    mb = n * len(PAYLOAD) / 1e6
    print(
        f"{n:,} records ({mb:,.0f} MB) in groups of {args.group}: "
        f"append {min(appends) * 1000:,.0f} ms, read {min(reads) * 1000:,.0f} ms "
        f"(best of {args.repeat})"
    )


if __name__ == "__main__":
    main()
