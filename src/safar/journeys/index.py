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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


def _batches(engine: Any, sql: str, params: dict[str, Any]) -> Iterator[pa.RecordBatch]:
    con = getattr(engine, "con", None)
    if con is None:
        yield from engine.query_arrow(sql, params).to_batches(_BATCH)
        return
    cur, ctl = con.cursor(), con.cursor()
    limit = ctl.execute("SELECT current_setting('memory_limit')").fetchone()
    try:
        cur.execute("SET TimeZone = 'UTC'")
        ctl.execute(f"SET memory_limit = '{BUILD_MEMORY_LIMIT}'")
        yield from cur.sql(sql, params=params or None).to_arrow_reader(_BATCH)
    finally:
        cur.close()
        if limit:
            ctl.execute(f"SET memory_limit = '{limit[0]}'")
        ctl.close()


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
    for batch in _batches(engine, sql, params):
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
    from safar.journeys.arrays import ints, np_ints

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
    _, rows = engine.query(sig_sql, sig_params)
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


# --- helpers ----------------------------------------------------------------------------------


def _segments(actor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(new-actor flags, start position of each actor's run)."""
    n = len(actor)
    new = np.empty(n, dtype=bool)
    if n:
        new[0] = True
        new[1:] = actor[1:] != actor[:-1]
    return new, np.flatnonzero(new)


def _quantiles(values: np.ndarray) -> tuple[float, float]:
    if len(values) == 0:
        return (float("nan"), float("nan"))
    qs = np.quantile(values.astype(np.float64), [0.5, 0.9])
    return float(qs[0]), float(qs[1])


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 (wrapping arithmetic)."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


# --- directly-follows graph -------------------------------------------------------------------


def dfg(
    idx: JourneyIndex, keep_actor: np.ndarray | None = None
) -> list[tuple[str, str, int, float, float]]:
    """Edges (source, target, frequency, median µs, p90 µs), ordered like ``dfg_sql``."""
    actor, act, ts = idx.actor, idx.act, idx.ts
    if keep_actor is not None:
        m = keep_actor[actor]
        actor, act, ts = actor[m], act[m], ts[m]
    if len(actor) < 2:
        return []
    k = len(idx.acts)
    none = k * k  # pairs across two actors sort last, in their own group
    code = act[:-1] * np.int32(k) + act[1:]
    code[actor[1:] != actor[:-1]] = none
    if none < 32_000:
        code = code.astype(np.int16)  # a stable sort of 16-bit keys is a radix sort
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(none + 1))
    freq = np.diff(bounds)
    dt_s = (ts[1:] - ts[:-1])[order[: bounds[-1]]]
    out = []
    for c in np.flatnonzero(freq).tolist():
        med, p90 = _quantiles(dt_s[bounds[c] : bounds[c + 1]])
        out.append((idx.acts[c // k], idx.acts[c % k], int(freq[c]), med, p90))
    out.sort(key=lambda e: (-e[2], e[0], e[1]))
    return out


# --- variants ---------------------------------------------------------------------------------


@dataclass
class VariantSummary:
    starts: dict[str, int]
    ends: dict[str, int]
    variant_count: int
    top: list[tuple[list[str], int]]  # (activities, cases), most frequent first
    variant_of_actor: np.ndarray  # variant group per actor id (-1 when absent)
    top_groups: np.ndarray  # group ids of ``top``


def variants(idx: JourneyIndex, limit: int | None) -> VariantSummary:
    actor, act = idx.actor, idx.act
    n = len(actor)
    _, seg, ends, _ = idx.segments()
    lengths = ends - seg
    k = len(idx.acts)
    # Hash of (position, activity) through a table of every pair that occurs.
    longest = int(lengths.max()) if n else 0
    table = _mix(np.arange((longest + 1) * k, dtype=np.uint64))
    seg_first = idx.groups()[0]
    h_ev = table[(np.arange(1, n + 1, dtype=np.int64) - seg_first) * k + act]
    h = np.add.reduceat(h_ev, seg) if n else np.zeros(0, dtype=np.uint64)
    first = act[seg]
    last = act[ends - 1] if n else act
    sc = np.bincount(first, minlength=k)
    ec = np.bincount(last, minlength=k)
    starts = {idx.acts[i]: int(c) for i, c in enumerate(sc) if c}
    ends_d = {idx.acts[i]: int(c) for i, c in enumerate(ec) if c}
    # Group cases by (hash, length); the representative is the first actor id (smallest case).
    order = np.lexsort((actor[seg], lengths, h))
    hs, ls = h[order], lengths[order]
    brk = np.empty(len(order), dtype=bool)
    if len(order):
        brk[0] = True
        brk[1:] = (hs[1:] != hs[:-1]) | (ls[1:] != ls[:-1])
    gstart = np.flatnonzero(brk)
    group_sorted = np.cumsum(brk) - 1
    counts = np.diff(np.concatenate((gstart, [len(order)])))
    reps = actor[seg][order][gstart]  # smallest actor id of each group (sorted within group)
    group_of_case = np.empty(len(order), dtype=np.int64)
    group_of_case[order] = group_sorted
    variant_of_actor = np.full(len(idx.actors), -1, dtype=np.int64)
    variant_of_actor[actor[seg]] = group_of_case
    rank = np.lexsort((reps, -counts))
    if limit is not None:
        rank = rank[:limit]
    # The representative's rows of every variant shown, gathered at once and cut apart.
    ci = np.searchsorted(actor[seg], reps[rank])
    lo, hi = seg[ci], ends[ci]
    lens = hi - lo
    rows = np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
    names = np.array(idx.acts, dtype=object)[act[rows]].tolist() if len(rows) else []
    cuts = np.cumsum(lens).tolist()
    top = [
        (names[c - ln : c], int(n))
        for c, ln, n in zip(cuts, lens.tolist(), counts[rank].tolist(), strict=True)
    ]
    return VariantSummary(starts, ends_d, len(gstart), top, variant_of_actor, rank)


# --- funnels ----------------------------------------------------------------------------------


@dataclass
class FunnelLevels:
    actors: np.ndarray  # actor ids with at least one step event, ascending
    level: np.ndarray  # last step reached (0..n)
    first: list[np.ndarray]  # per step: first time reached (-1 when not)


def funnel_levels(idx: JourneyIndex, steps: list[str], window_us: int) -> FunnelLevels:
    """Per actor: last step reached and first time each step was reached.

    ``V`` holds the rows where a chain of steps 1..k ends (ascending), ``c`` the latest start of
    such a chain. For a row of step k+1 the best earlier chain is the last row of ``V`` before
    the row's group of equal (actor, time), found by binary search, if it is the same actor.
    """
    pos_of = {a: i for i, a in enumerate(idx.acts)}
    sid = [pos_of.get(s, -1) for s in steps]
    seg_first, g_first = idx.groups()
    ts = idx.ts
    rows = [np.flatnonzero(idx.act == s) for s in sid]
    v = rows[0]
    c = ts[v]
    valids = [v]
    for k in range(1, len(steps)):
        r = rows[k]
        j = np.searchsorted(v, g_first[r]) - 1
        ok = j >= 0
        jc = np.where(ok, j, 0)
        if len(v):
            ok &= v[jc] >= seg_first[r]
            p = c[jc]
            ok &= (ts[r] - p) <= window_us
        else:
            ok[:] = False
            p = np.zeros(len(r), dtype=np.int64)
        v = r[ok]
        c = p[ok]
        valids.append(v)
    n_act = len(idx.actors)
    present = np.zeros(n_act, dtype=bool)
    for r in rows:
        present[idx.actor[r]] = True
    actors = np.flatnonzero(present)
    level = np.zeros(n_act, dtype=np.int64)
    firsts = []
    for k, vk in enumerate(valids, start=1):
        ids = idx.actor[vk]
        level[ids] = k  # later steps overwrite: the max level
        f = np.full(n_act, -1, dtype=np.int64)
        # Rows are time-sorted within an actor: the first valid row is the earliest.
        at = np.flatnonzero(np.append(True, ids[1:] != ids[:-1])) if len(ids) else ids
        f[ids[at]] = ts[vk[at]]
        firsts.append(f[actors])
    return FunnelLevels(actors, level[actors], firsts)


def funnel_any_levels(idx: JourneyIndex, steps: list[str], window_us: int) -> FunnelLevels:
    """Any-order funnel per actor, with the semantics of ``queries.funnel_any_levels_sql``.

    For every step row and every step j, the first row of step j at or after the row's group of
    equal (actor, time) is found by binary search in that step's rows; its time counts when it
    is the same actor and within the window. Sorting the n times of a row gives the time its
    window reaches each level.
    """
    pos_of = {a: i for i, a in enumerate(idx.acts)}
    sid = [pos_of.get(s, -1) for s in steps]
    _, g_first = idx.groups()
    ts, actor = idx.ts, idx.actor
    rows = [np.flatnonzero(idx.act == s) for s in sid]
    r = np.sort(np.concatenate(rows)) if rows else np.zeros(0, dtype=np.int64)
    n, m = len(steps), len(r)
    never = np.iinfo(np.int64).max
    times = np.full((m, n), never, dtype=np.int64)
    for j, rj in enumerate(rows):
        if not len(rj) or not m:
            continue
        at = np.searchsorted(rj, g_first[r])
        ok = at < len(rj)
        hit = rj[np.where(ok, at, 0)]
        ok &= actor[hit] == actor[r]
        ok &= ts[hit] - ts[r] <= window_us
        times[:, j] = np.where(ok, ts[hit], never)
    times.sort(axis=1)
    if not m:
        return FunnelLevels(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                            [np.zeros(0, dtype=np.int64) for _ in steps])  # fmt: skip
    ra = actor[r]
    new = np.empty(m, dtype=bool)
    new[0] = True
    new[1:] = ra[1:] != ra[:-1]
    seg = np.flatnonzero(new)
    actors = ra[seg].astype(np.int64)
    cnt = (times < never).sum(axis=1)
    level = np.maximum.reduceat(cnt, seg).astype(np.int64)
    firsts = []
    for k in range(n):
        f = np.minimum.reduceat(times[:, k], seg)
        firsts.append(np.where(f < never, f, -1))
    return FunnelLevels(actors, level, firsts)


def funnel_cases(idx: JourneyIndex, lv: FunnelLevels) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(case ids, levels, first times as an actors x steps array; -1 = not reached) of the
    actors that reached level 1, ordered by case id."""
    keep = lv.level >= 1
    ids = idx.actors.take(pa.array(lv.actors[keep]))
    firsts = (
        np.stack([f[keep] for f in lv.first], axis=1)
        if lv.first
        else np.zeros((int(keep.sum()), 0), dtype=np.int64)
    )
    return ids, lv.level[keep], firsts


def funnel_summary(lv: FunnelLevels, n_steps: int) -> dict[str, Any]:
    """Same columns as ``funnel_summary_sql`` (n1.., med2.., p90_2..; times in seconds)."""
    row: dict[str, Any] = {}
    for k in range(1, n_steps + 1):
        row[f"n{k}"] = int(np.count_nonzero(lv.level >= k))
    for k in range(2, n_steps + 1):
        have = lv.first[k - 1] >= 0
        med, p90 = _quantiles(lv.first[k - 1][have] - lv.first[k - 2][have])
        row[f"med{k}"] = med / 1e6
        row[f"p90_{k}"] = p90 / 1e6
    return row


def funnel_dropped(idx: JourneyIndex, lv: FunnelLevels, level: int, limit: int) -> list[str]:
    ids = lv.actors[lv.level == level][:limit]
    dropped: list[str] = idx.actors.take(pa.array(ids)).to_pylist()
    return dropped


# --- paths ------------------------------------------------------------------------------------


def ngrams(idx: JourneyIndex, length: int, top: int) -> list[tuple[list[str], int]]:
    actor, act = idx.actor, idx.act
    n = len(actor) - length + 1
    if n <= 0:
        return []
    k = len(idx.acts)
    valid = actor[:n] == actor[length - 1 :]
    code = np.zeros(n, dtype=np.int64)
    if k**length < 2**62:
        for j in range(length):
            code = code * k + act[j : j + n]
        code = code[valid]
        if k**length <= 50_000_000:
            counts = np.bincount(code, minlength=0)
            codes = np.flatnonzero(counts)
            cnt = counts[codes]
        else:
            codes, cnt = np.unique(code, return_counts=True)
        order = np.lexsort((codes, -cnt))[:top]
        out = []
        for i in order.tolist():
            c = int(codes[i])
            digits = []
            for _ in range(length):
                digits.append(c % k)
                c //= k
            out.append(([idx.acts[d] for d in reversed(digits)], int(cnt[i])))
        return out
    cols = np.stack([act[j : j + n][valid] for j in range(length)], axis=1)
    uniq, cnt = np.unique(cols, axis=0, return_counts=True)
    order = np.lexsort((*[uniq[:, j] for j in range(length - 1, -1, -1)], -cnt))[:top]
    return [([idx.acts[d] for d in uniq[i].tolist()], int(cnt[i])) for i in order.tolist()]


def anchored(
    idx: JourneyIndex, anchor: str, direction: Literal["after", "before"], depth: int
) -> list[tuple[list[str], int]]:
    """Each actor's rows from (or up to) its first ``anchor``; grouped like the SQL."""
    if anchor not in idx.acts:
        return []
    aid = idx.acts.index(anchor)
    actor, act = idx.actor, idx.act
    n = len(actor)
    hits = np.flatnonzero(act == aid)
    first = np.empty(len(hits), dtype=bool)
    if len(hits):
        first[0] = True
        first[1:] = actor[hits[1:]] != actor[hits[:-1]]
    p0 = hits[first]
    lo_b = np.searchsorted(actor, actor[p0], side="left")
    hi_b = np.searchsorted(actor, actor[p0], side="right")
    k = len(idx.acts) + 1
    offsets = range(0, depth + 1) if direction == "after" else range(-depth, 1)
    if k ** (depth + 1) >= 2**62:
        paths: dict[tuple[int, ...], int] = {}
        for p, lo, hi in zip(p0.tolist(), lo_b.tolist(), hi_b.tolist(), strict=True):
            r0, r1 = (
                (p, min(hi, p + depth + 1)) if direction == "after" else (max(lo, p - depth), p + 1)
            )
            key = tuple(act[r0:r1].tolist())
            paths[key] = paths.get(key, 0) + 1
        items = [([idx.acts[a] for a in key], c) for key, c in paths.items()]
    else:
        code = np.zeros(len(p0), dtype=np.int64)
        for off in offsets:
            q = p0 + off
            ok = (q >= lo_b) & (q < hi_b)
            digit = np.where(ok, act[np.clip(q, 0, n - 1)] + 1, 0)
            code = code * k + digit
        codes, cnt = np.unique(code, return_counts=True)
        items = []
        for c, m in zip(codes.tolist(), cnt.tolist(), strict=True):
            digits = []
            for _ in range(depth + 1):
                digits.append(c % k)
                c //= k
            items.append(([idx.acts[d - 1] for d in reversed(digits) if d], int(m)))
    items.sort(key=lambda pc_: (-pc_[1], pc_[0]))
    return items
