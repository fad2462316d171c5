"""Results of reads over the event store, kept while the store is unchanged.

A dashboard page at 10M events runs the same aggregates (events per day and channel, the
journey analyses) on every view although nothing was written since the last one. ``cached``
keeps such a result under its key together with the store's ``generation()``, which every
write through the store (events, text analyses, the identity map, deletions) moves on; the
next read after any write recomputes. So a cached result is never stale: it is exactly what
the computation would return now. An engine other processes write to (ClickHouse) has no
generation, and nothing is cached on it.

Only results computed from the event store alone may be cached here (what a write to the
state store changes, such as text-label corrections or survey answers, must not be).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from safar.events.store import EventStore

T = TypeVar("T")

#: Entries kept (each a small aggregate or an analysis result, not rows).
SIZE = 128

_LOCK = threading.Lock()
_ENTRIES: OrderedDict[tuple[int, Hashable], tuple[int, Any]] = OrderedDict()


def cached(store: EventStore, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or a copy of its result from an earlier call with ``key`` when the store
    has not been written to since (callers may change what they get back)."""
    generation = store.generation()
    try:
        hash(key)
    except TypeError:  # a key holding a list or a model: not cacheable, computed each time
        generation = None
    if generation is None:
        return compute()
    slot = (id(store), key)
    with _LOCK:
        hit = _ENTRIES.get(slot)
        if hit is not None and hit[0] == generation:
            _ENTRIES.move_to_end(slot)
            return copy.deepcopy(hit[1])  # type: ignore[no-any-return]
    # The generation was read before computing: a write during the computation leaves the
    # entry under the older generation, so the next read computes again.
    value = compute()
    with _LOCK:
        _ENTRIES[slot] = (generation, copy.deepcopy(value))
        _ENTRIES.move_to_end(slot)
        while len(_ENTRIES) > SIZE:
            _ENTRIES.popitem(last=False)
    return value


def forget(store: EventStore) -> None:
    """Drop the entries of a store (when it closes)."""
    with _LOCK:
        for slot in [s for s in _ENTRIES if s[0] == id(store)]:
            del _ENTRIES[slot]
