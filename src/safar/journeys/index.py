"""Journey index: a case source as sorted integer columns, and the analyses that use it.

On the embedded DuckDB engine the heavy analyses (funnels, consecutive paths, anchored paths,
directly-follows graph and variants) do not run as SQL window queries over the events with
their identity join each time. Instead the engine resolves the source once into a compact
index: ``actor`` (int32, the customer; ids follow the order of the customer ids as text),
``ts`` (int64 microseconds) and ``act`` (int32; ids follow the order of the activity names),
sorted by (customer, time, tie-breaker). The index is rebuilt only when its source changed: a
signature computed in the engine (number of events, latest receipt time, xor of the message
hashes, and a hash of the workspace's identity map) must match. The analyses then run as
vectorised numpy passes over the index arrays.

The results are identical to the SQL of ``queries`` (which ClickHouse keeps running; the tests
compare both, and compare this path with the DuckDB SQL on random data with ties):

* directly-follows pairs are consecutive rows of one actor; durations use the same linear
  quantile as ``quantile_cont``;
* a variant is keyed like the SQL, by its length and the 64-bit sum of a hash of each
  (position, activity), with the representative the smallest customer id;
* funnels use the same semantics: a customer reaches step k when events of steps 1..k exist
  with strictly increasing times within the window. With rows sorted by time, the latest start
  of a valid chain ending at an event is non-decreasing along the actor's rows, so the running
  maximum of the SQL is the value at the last valid row before the event's group of equal
  times.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safar.events.store import analytics
from safar.journeys.arrays import ints, np_ints
from safar.kit.query import Rendered

_LOCK = threading.Lock()
_CACHE: OrderedDict[tuple[Any, ...], JourneyIndex] = OrderedDict()
_CACHE_SIZE = 4


@dataclass(frozen=True)
class IndexSpec:
    """What an index is built from: a workspace's events, or a loaded case table."""

    kind: Literal["events", "table"]
    name: str  # workspace id, or table name
    since_us: int | None = None
    until_us: int | None = None


@dataclass
class JourneyIndex:
    actor: np.ndarray  # int32, sorted
    ts: np.ndarray  # int64
    act: np.ndarray  # int32
    actors: pa.Array  # case ids (text), position = actor id, sorted
    acts: list[str]  # activity names, position = activity id, sorted
    _segs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    _groups: tuple[np.ndarray, np.ndarray] | None = None
    sig: tuple[Any, ...] | None = None
    #: Results computed on this index, by query key (funnel levels shared by summary and cohorts).
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Per row: first row of its actor, first row of its (actor, time) group."""
        if self._groups is None:
            new, _, _, _ = self.segments()
            pos = np.arange(len(self.actor), dtype=np.int64)
            tie = new.copy()
            if len(tie):
                tie[1:] |= self.ts[1:] != self.ts[:-1]
            self._groups = (
                np.maximum.accumulate(np.where(new, pos, 0)) if len(pos) else pos,
                np.maximum.accumulate(np.where(tie, pos, 0)) if len(pos) else pos,
            )
        return self._groups

    def segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(new-actor flag per row, start and end row of each actor, actor rank per row)."""
        if self._segs is None:
            new, seg = _segments(self.actor)
            ends = np.append(seg[1:], len(self.actor)).astype(np.int64)
            seg_id = np.cumsum(new) - 1
            self._segs = (new, seg, ends, seg_id)
        return self._segs

    def window(self, since_us: int | None, until_us: int | None) -> JourneyIndex:
        if since_us is None and until_us is None:
            return self
        keep = np.ones(len(self.ts), dtype=bool)
        if since_us is not None:
            keep &= self.ts >= since_us
        if until_us is not None:
            keep &= self.ts < until_us
        return JourneyIndex(self.actor[keep], self.ts[keep], self.act[keep], self.actors, self.acts)


def _signature_sql(spec: IndexSpec) -> tuple[str, dict[str, Any]]:
    if spec.kind == "events":
        return (
            "SELECT (SELECT count(*) FROM events WHERE workspace_id = $ws), "
            "(SELECT CAST(max(received_at) AS VARCHAR) FROM events WHERE workspace_id = $ws), "
            "(SELECT CAST(bit_xor(message_hash) AS VARCHAR) FROM events WHERE workspace_id = $ws), "
            "(SELECT count(*) FROM identity_map WHERE workspace_id = $ws), "
            "(SELECT CAST(bit_xor(hash(id_type, id_value, profile_id)) AS VARCHAR) "
            "FROM identity_map WHERE workspace_id = $ws)",
            {"ws": spec.name},
        )
    return (
        f"SELECT count(*), CAST(bit_xor(hash(case_id, activity, ts, seq)) AS VARCHAR) "
        f"FROM {spec.name}",
        {},
    )


#: DuckDB's memory limit while it sorts the source for an index (it spills to disk beyond it);
#: the previous limit is restored afterwards. Keeps an index build of 10M events near 1 GB.
BUILD_MEMORY_LIMIT = "700MB"
_BATCH = 1 << 20


def _build(engine: Any, source_sql: str, params: dict[str, Any]) -> JourneyIndex:
    """Resolve the source once in the engine, sorted by (case, time, tie-breaker), and encode it
    batch by batch (the text columns never sit in memory whole)."""
    sql = f"WITH s AS ({source_sql}) SELECT case_id, activity, ts FROM s ORDER BY case_id, ts, seq"
    actor_parts: list[np.ndarray] = []
    act_parts: list[np.ndarray] = []
    ts_parts: list[np.ndarray] = []
    firsts: list[pa.Array] = []
    act_ids: dict[str, int] = {}
    last_case: Any = None
    n_actors = 0
    rendered = Rendered(sql, params)
    for batch in analytics.batches(
        engine, rendered, batch_rows=_BATCH, memory_limit=BUILD_MEMORY_LIMIT
    ):
        m = batch.num_rows
        if not m:
            continue
        cases = batch.column(0)
        new = np.empty(m, dtype=bool)
        new[0] = last_case is None or cases[0].as_py() != last_case
        if m > 1:
            new[1:] = pc.not_equal(cases.slice(1), cases.slice(0, m - 1)).to_numpy(
                zero_copy_only=False
            )
        actor_parts.append((np.cumsum(new, dtype=np.int64) + (n_actors - 1)).astype(np.int32))
        n_actors += int(new.sum())
        firsts.append(cases.filter(pa.array(new)))
        last_case = cases[m - 1].as_py()
        enc = batch.column(1).dictionary_encode()
        local = np.array(
            [act_ids.setdefault(a, len(act_ids)) for a in enc.dictionary.to_pylist()],
            dtype=np.int32,
        )
        act_parts.append(local[enc.indices.to_numpy(zero_copy_only=False)])
        ts_parts.append(batch.column(2).to_numpy().astype(np.int64))
    names = sorted(act_ids)
    remap = np.empty(len(names), dtype=np.int32)
    for rank, name in enumerate(names):
        remap[act_ids[name]] = rank
    if not actor_parts:
        empty = np.zeros(0, dtype=np.int32)
        return JourneyIndex(
            empty, np.zeros(0, dtype=np.int64), empty, pa.array([], pa.string()), []
        )
    actor = np.concatenate(actor_parts)
    del actor_parts
    act = remap[np.concatenate(act_parts)]
    del act_parts
    ts = np.concatenate(ts_parts)
    del ts_parts
    actors = pa.concat_arrays([f.cast(pa.string()) for f in firsts])
    return JourneyIndex(actor, ts, act, actors, names)


def from_case_table(table: pa.Table) -> JourneyIndex:
    """The index of a case table (``journeys.xes``) built in memory, without an engine.

    Same arrays as ``_build`` over the table: actors and activities numbered in the order of
    their texts, rows sorted by (case, time, position in the file).
    """
    n = table.num_rows
    if n == 0:
        empty = np.zeros(0, dtype=np.int32)
        return JourneyIndex(empty, np.zeros(0, dtype=np.int64), empty, pa.nulls(0, pa.string()), [])
    cases = table.column("case_id").combine_chunks().dictionary_encode()
    case_order = np_ints(pc.sort_indices(cases.dictionary))
    case_rank = np.empty(len(case_order), dtype=np.int32)
    case_rank[case_order] = np.arange(len(case_order), dtype=np.int32)
    actor = case_rank[np_ints(cases.indices)]
    acts_enc = table.column("activity").combine_chunks().dictionary_encode()
    names = acts_enc.dictionary.to_pylist()
    ordered = sorted(names)
    act_rank = np.empty(len(names), dtype=np.int32)
    pos = {a: i for i, a in enumerate(names)}
    act_rank[[pos[a] for a in ordered]] = np.arange(len(names), dtype=np.int32)
    act = act_rank[np_ints(acts_enc.indices)]
    ts = np_ints(table.column("ts")).astype(np.int64, copy=False)
    seq = np_ints(table.column("seq"))
    lo, hi = int(ts.min()), int(ts.max())
    if len(case_order) * (hi - lo + 1) < 2**62 and bool(np.all(seq[1:] > seq[:-1])):
        # One 64-bit key (case, time); the stable sort keeps the file order of equal keys.
        order = np.argsort(actor.astype(np.int64) * (hi - lo + 1) + (ts - lo), kind="stable")
    else:
        order = np.lexsort((seq, ts, actor))
    actors = cases.dictionary.take(ints(case_order)).cast(pa.string())
    return JourneyIndex(actor[order], ts[order], act[order], actors, ordered)


def get_index(
    engine: Any, spec: IndexSpec, source_sql: str, params: dict[str, Any]
) -> JourneyIndex:
    """The index of ``spec`` on ``engine`` (built, or reused while its signature holds)."""
    sig_sql, sig_params = _signature_sql(spec)
    _, rows = analytics.rows(engine, Rendered(sig_sql, sig_params))  # MissingTable: no map yet
    sig = tuple(rows[0])
    key = (id(engine), spec.kind, spec.name)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit.sig == sig:
            _CACHE.move_to_end(key)
            return hit.window(spec.since_us, spec.until_us)
    # ``source_sql`` is the whole source (no time filter): one index serves every period.
    idx = _build(engine, source_sql, params)
    idx.groups()
    idx.sig = sig
    with _LOCK:
        _CACHE[key] = idx
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return idx.window(spec.since_us, spec.until_us)


def forget(engine: Any) -> None:
    """Drop cached indexes of an engine (e.g. when it closes)."""
    with _LOCK:
        for key in [k for k in _CACHE if k[0] == id(engine)]:
            del _CACHE[key]


def _segments(actor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(new-actor flags, start position of each actor's run)."""
    n = len(actor)
    new = np.empty(n, dtype=bool)
    if n:
        new[0] = True
        new[1:] = actor[1:] != actor[:-1]
    return new, np.flatnonzero(new)
