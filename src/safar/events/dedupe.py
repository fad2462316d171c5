"""De-duplication by messageId: a compact filter of 64-bit message hashes.

The filter answers "maybe seen" from memory (8 bytes per stored event, sorted numpy array plus
a small set of recent additions); only maybe-seen messages are confirmed against the store by
their exact messageId. This works the same on DuckDB and ClickHouse, which has no unique keys.
"""

from __future__ import annotations

import threading

import numpy as np

MERGE_AT = 200_000


class SeenFilter:
    def __init__(self, hashes: np.ndarray | None = None) -> None:
        self._base = (
            np.unique(hashes.astype(np.uint64))
            if hashes is not None and len(hashes)
            else np.empty(0, np.uint64)
        )
        self._recent: set[int] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._base) + len(self._recent)

    def maybe_seen(self, hashes: list[int]) -> list[bool]:
        with self._lock:
            if not hashes:
                return []
            arr = np.asarray(hashes, dtype=np.uint64)
            if len(self._base):
                idx = np.searchsorted(self._base, arr)
                idx[idx >= len(self._base)] = 0
                in_base = self._base[idx] == arr
            else:
                in_base = np.zeros(len(arr), dtype=bool)
            recent = self._recent
            return [bool(b) or h in recent for b, h in zip(in_base, hashes, strict=True)]

    def add(self, hashes: list[int]) -> None:
        with self._lock:
            self._recent.update(hashes)
            if len(self._recent) >= MERGE_AT:
                merged = np.concatenate([self._base, np.fromiter(self._recent, dtype=np.uint64)])
                self._base = np.unique(merged)
                self._recent = set()
