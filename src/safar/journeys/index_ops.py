"""The analyses on a journey index: directly-follows graph, variants, funnels and paths.

Each gives exactly what the SQL of ``queries`` gives on the same source (see ``index`` for the
reasoning, and ``tests/journeys/test_index.py`` for the comparison on random data with ties).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from safar.journeys.index import JourneyIndex

# --- helpers ----------------------------------------------------------------------------------


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
