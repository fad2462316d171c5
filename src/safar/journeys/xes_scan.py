"""A vectorised reader of well-formed XES documents held in memory.

``scan_xes(data)`` gives the same case table as the lxml reader of ``journeys.xes``, or
``None`` when the document uses XML this scanner does not handle (or is not well formed, or an
event lacks a field): the caller then parses it with lxml, which reads everything it can and
raises the errors. The scanner never guesses: a document it accepts has been checked as
closely as the result depends on it.

How: numpy finds every ``<`` of the decompressed bytes (in 1 MB chunks). A tag is recognised
from the eight bytes after its ``<`` (one unaligned 64-bit load each, looked up in a small
sorted table): ``<trace>``, ``<event>``, ``</event>``, ``</trace>``, and attribute elements in
the form XES writers use, ``<string key="K" value="V"/>`` (also ``date``, ``int``, ``float``,
``boolean``, ``id``; ``/>``, `` />`` or ``>``), whose key and value end at the next quotes
(found per block of 65,536 tags), with ``" value="`` between them and the tag closed before
the next ``<``. Any other tag (the log header,
``<log ...>``, ``<global ...>``, attributes with other spacing or quotes, entity references)
goes through a Python regex of the XML grammar. Comments and processing instructions are
skipped (a ``<`` inside them is not a tag). Nesting is checked per depth level: opening and
closing tags of one level must alternate and carry the same name, there is one root and it is
``log``. Events are the ``<event>`` children of ``<trace>`` children of the root; their
``concept:name``, ``time:timestamp`` and ``org:resource`` are the last child element with that
key, as in the lxml reader. Attribute values are normalised like an XML parser does (tabs and
line breaks become spaces, references are decoded). Timestamps that all share one ISO 8601
layout (``2011-10-01T00:38:44.546+02:00``, ``Z``, or no zone = UTC) are read digit by digit
from the bytes and checked like ``datetime.fromisoformat``; otherwise those in the usual form
go through one Arrow cast and the rest one by one with ``xes.parse_timestamp``.

Finding the ``<``, recognising the tags and checking their nesting are the hot loops:
``_xesfast.c`` does them in C when it was built at install time (one pass each, about 0.07 s
instead of 0.4 s on BPIC 2012), with the same results as the numpy versions here, which remain
the fallback; tests run both.
The rest is numpy over arrays of tags; ``pyarrow.array`` and ``Array.to_numpy`` are
avoided because they import pandas (0.7-1.8 s) the first time they run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import pyarrow as pa

from safar.errors import ValidationFailed
from safar.journeys.arrays import ints, texts
from safar.journeys.xes_schema import CASE_SCHEMA, fixed_timestamps, parse_timestamps
from safar.journeys.xes_tags import (
    CLOSE,
    KEYS,
    MAX_DEPTH,
    NAMES,
    OPEN,
    SELF,
    TAIL,
    SlowTags,
    Unsupported,
    check_amps,
    parse_tag,
    pattern,
    specials,
    tag_strings,
    word,
)

native: ModuleType | None
try:  # the C version of the hot loops (setup.py builds it; optional)
    from safar.journeys import _xesfast as native
except ImportError:  # pragma: no cover - no compiler at install time
    native = None


_LOG, _TRACE, _EVENT = 0, 1, 2  # name ids (positions in ``NAMES``)
_ATTR_NAMES = (3, 4, 5, 6, 7, 8)
_TAIL = TAIL  # tags this close to the end are parsed in Python

_CHUNK = 1 << 20
_ALLOWED_LOW = np.zeros(256, dtype=bool)
_ALLOWED_LOW[[0x09, 0x0A, 0x0D]] = True


def _find_chars(buf: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, bool]:
    """Positions of ``<`` in ``buf[lo:hi]`` (int32), in chunks that stay in the CPU cache, and
    whether a character XML 1.0 forbids (a control character) occurs there."""
    lts: list[np.ndarray] = []
    tmp = np.empty(min(_CHUNK, max(hi - lo, 1)), dtype=bool)
    for off in range(lo, hi, _CHUNK):
        c = buf[off : min(off + _CHUNK, hi)]
        t = tmp[: len(c)]
        np.less(c, 0x20, out=t)
        if t.any() and not _ALLOWED_LOW[c[t]].all():
            return np.zeros(0, np.int32), True
        np.equal(c, 0x3C, out=t)
        lts.append(np.flatnonzero(t).astype(np.int32) + np.int32(off))
    return np.concatenate([np.zeros(0, dtype=np.int32), *lts]), False


def _positions(data: bytes | bytearray, buf: np.ndarray) -> np.ndarray:
    """Positions of ``<`` (int32); rejects characters XML 1.0 forbids (control characters,
    invalid UTF-8, U+FFFE/U+FFFF)."""
    if native is not None:
        raw, bad, ascii = native.find_lt(data)
        lt = np.frombuffer(raw, dtype=np.int32)
    else:
        lt, bad = _find_chars(buf, 0, len(buf))
        ascii = not bad and data.isascii()
    if bad:
        raise Unsupported
    if not ascii:
        try:
            offs = np.array([0, len(data)], dtype=np.int64)
            pa.Array.from_buffers(
                pa.large_string(), 1, [None, pa.py_buffer(offs), pa.py_buffer(data)]
            ).validate(full=True)
        except pa.ArrowInvalid:
            raise Unsupported from None
        if b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:
            raise Unsupported
    return lt


def _last_per(parent: np.ndarray) -> np.ndarray:
    """Positions of the last element of each run of equal (non-decreasing) parents."""
    if not len(parent):
        return parent
    last = np.empty(len(parent), dtype=bool)
    last[:-1] = parent[1:] != parent[:-1]
    last[-1] = True
    return np.flatnonzero(last)


def _parents(tags: np.ndarray, opens_above: np.ndarray) -> np.ndarray:
    """For each tag index, the last open tag of the level above before it (-1 if none)."""
    j = np.searchsorted(opens_above, tags) - 1
    return np.where(j >= 0, opens_above[np.maximum(j, 0)], -1)


def _owner(par: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """For each parent tag index (-1: none), its position in ``owners`` (sorted), or -1."""
    j = np.minimum(np.searchsorted(owners, par), max(len(owners) - 1, 0))
    if not len(owners):
        return np.full(len(par), -1, dtype=np.int64)
    return np.where((par >= 0) & (owners[j] == par), j, -1)


def scan_xes(data: bytes | bytearray) -> pa.Table | None:
    """The case table of an XES document, or ``None`` when lxml must read it."""
    try:
        return _scan(data)
    except (Unsupported, ValidationFailed):
        return None


def _u64(b: bytes) -> np.uint64:
    return np.uint64(int.from_bytes(b.ljust(8, b"\0")[:8], "little"))


#: Tags recognised by their first eight bytes: code -> (kind, name id).
_HEAD8 = {
    b"</event>": (CLOSE, _EVENT),
    b"</trace>": (CLOSE, _TRACE),
    **{(b"<" + NAMES[i] + b' key="')[:8]: (0, i) for i in _ATTR_NAMES},
}
_HEAD7 = {b"<trace>": (OPEN, _TRACE), b"<event>": (OPEN, _EVENT)}
_M7 = np.uint64((1 << 56) - 1)


def _lookup(words: np.ndarray, table: dict[bytes, tuple[int, int]]) -> tuple[np.ndarray, ...]:
    """(positions in ``words`` that are one of the table's codes, kind and name of each)."""
    keys = sorted((_u64(k), v) for k, v in table.items())
    codes = np.array([k for k, _ in keys], dtype=np.uint64)
    j = np.minimum(np.searchsorted(codes, words), len(codes) - 1)
    hit = np.flatnonzero(codes[j] == words)
    kinds = np.array([v[0] for _, v in keys], dtype=np.int8)[j[hit]]
    names = np.array([v[1] for _, v in keys], dtype=np.int32)[j[hit]]
    return hit, kinds, names


_BLOCK = 1 << 16


def _classify(
    words: np.ndarray,
    lt: np.ndarray,
    nxt: np.ndarray,
    buf: np.ndarray,
    safe: np.ndarray,
    kind: np.ndarray,
    name: np.ndarray,
    vs: np.ndarray,
    ve: np.ndarray,
    keyid: np.ndarray,
) -> None:
    """Recognise the tags at ``lt`` (next tag at ``nxt``) from their bytes, in place."""
    w0 = words[np.where(safe, lt, 0)]
    hit, k8, n8 = _lookup(w0, _HEAD8)
    kind[hit] = k8
    name[hit] = n8
    hit, k7, n7 = _lookup(w0 & _M7, _HEAD7)
    kind[hit] = k7
    name[hit] = n7
    # <NAME key="K" value="V"/> (or " />", or ">" when it has children).
    cand = np.flatnonzero((kind == 0) & (name >= 0) & safe)
    if not len(cand):
        return
    cn = name[cand]
    ks = np.empty(len(cand), dtype=np.int32)
    ok = np.zeros(len(cand), dtype=bool)
    w1 = words[lt[cand] + 8]
    for i in _ATTR_NAMES:
        pre = b"<" + NAMES[i] + b' key="'
        v, m = word(pre[8:])
        sel = cn == i
        ok[sel] = (w1[sel] & np.uint64(m)) == np.uint64(v)
        ks[sel] = lt[cand[sel]] + len(pre)
    cand, ks = cand[ok], ks[ok]
    if not len(cand):
        return
    # The quotes of this block (found here: a small, cache-resident array).
    a, b = int(lt[0]), int(nxt[-1])
    qt = np.flatnonzero(buf[a:b] == 0x22).astype(np.int32) + np.int32(a)
    qi = np.searchsorted(qt, ks)
    ok = qi + 2 < len(qt)
    qi = np.where(ok, qi, 0)
    if not len(qt):
        return
    q1 = qt[qi]
    q2 = qt[np.minimum(qi + 1, len(qt) - 1)]
    q3 = qt[np.minimum(qi + 2, len(qt) - 1)]
    ok &= words[q1] == _u64(b'" value=')
    ok &= q2 == q1 + 8
    tail = words[np.minimum(q3, len(words) - 1)]
    self1 = (tail & np.uint64(0xFFFFFF)) == _u64(b'"/>')
    self2 = (tail & np.uint64(0xFFFFFFFF)) == _u64(b'" />')
    open1 = (tail & np.uint64(0xFFFF)) == _u64(b'">')
    end = np.where(self1, q3 + 3, np.where(self2, q3 + 4, q3 + 2))
    ok &= (self1 | self2 | open1) & (end <= nxt[cand])
    good = cand[ok]
    kind[good] = np.where(open1[ok], OPEN, SELF)
    vs[good] = q2[ok] + 1
    ve[good] = q3[ok]
    gks = ks[ok]
    klen = q1[ok] - gks
    k0 = words[gks]
    k1 = words[gks + 8]
    for j, key in enumerate(KEYS, start=1):
        v0, _, v1, m1 = (np.uint64(x) for x in pattern(key))
        hit = (klen == len(key)) & (k0 == v0) & ((k1 & m1) == v1)
        keyid[good[hit]] = j


Parents = Callable[[np.ndarray, int], np.ndarray]


def _nesting(kind: np.ndarray, name: np.ndarray) -> tuple[np.ndarray, Parents]:
    """Check that the tags nest; their depth, and a function giving the parent (the opening
    tag index, -1 for none) of tags whose parents are at the given depth."""
    if native is not None:
        nested = native.nest(kind, name, MAX_DEPTH)
        if nested is None:
            raise Unsupported
        level = np.frombuffer(nested[0], dtype=np.int16)
        parent = np.frombuffer(nested[1], dtype=np.int32)
        return level, lambda tags, _depth: parent[tags].astype(np.int64)
    # Per level, opening and closing tags alternate and carry the same name.
    is_open = kind == OPEN
    delta = is_open.astype(np.int16)
    delta[kind == CLOSE] = -1
    if np.any(kind == 0):
        raise Unsupported
    depth_after = np.cumsum(delta, dtype=np.int32)
    if depth_after[-1] != 0 or depth_after.min() < 0 or depth_after.max() > MAX_DEPTH:
        raise Unsupported
    level = (depth_after - is_open).astype(np.int16)
    order = np.argsort(level, kind="stable")
    bounds = np.searchsorted(level[order], np.arange(int(level.max()) + 2))
    opens_at: list[np.ndarray] = []
    for lv in range(int(level.max()) + 1):
        at = order[bounds[lv] : bounds[lv + 1]]
        k = kind[at]
        o, c = at[k == OPEN], at[k == CLOSE]
        if len(o) != len(c) or np.any(o >= c) or np.any(c[:-1] >= o[1:]):
            raise Unsupported
        if np.any(name[o] != name[c]):
            raise Unsupported
        opens_at.append(o)
    none = np.zeros(0, dtype=np.int64)

    def parents(tags: np.ndarray, depth: int) -> np.ndarray:
        return _parents(tags, opens_at[depth] if depth < len(opens_at) else none)

    return level, parents


@dataclass
class _Tags:
    """Every tag of a document: position of its ``<``, kind, name id, value span, key id."""

    data: bytes | bytearray
    buf: np.ndarray
    start: int  # after a byte-order mark
    spans: list[tuple[int, int]]  # comments and processing instructions
    lt: np.ndarray
    kind: np.ndarray
    name: np.ndarray
    vs: np.ndarray
    ve: np.ndarray
    keyid: np.ndarray
    slow: SlowTags


def _scan(data: bytes | bytearray) -> pa.Table:
    t = _tags(data)
    level, parents = _nesting(t.kind, t.name)
    _check_root(t, level)
    return _columns(t, level, parents)


def _tags(data: bytes | bytearray) -> _Tags:
    """Find and classify the tags: vectorised (C or numpy), the unusual ones in Python."""

    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if len(data) < 64 or len(data) >= 2**31 - 64:
        raise Unsupported
    if data.find(b"]") >= 0 and data.find(b"]]>") >= 0:
        raise Unsupported  # not allowed in text; CDATA is not handled here either
    buf = np.frombuffer(data, np.uint8)
    lt = _positions(data, buf)
    amps = check_amps(data, buf)
    lt, spans = specials(data, lt, start)
    n = len(lt)
    if n == 0:
        raise Unsupported
    safe = lt < len(data) - _TAIL
    kind = np.zeros(n, dtype=np.int8)
    name = np.full(n, -1, dtype=np.int16)
    vs = np.zeros(n, dtype=np.int32)
    ve = np.zeros(n, dtype=np.int32)
    keyid = np.zeros(n, dtype=np.int8)
    if native is not None:
        native.classify(
            data, np.ascontiguousarray(lt, dtype=np.int32), kind, name, vs, ve, keyid, _TAIL
        )
    else:  # in blocks of tags, so the temporaries stay small (cache-resident, no fresh pages)
        words = np.ndarray(shape=(len(data) - 7,), dtype="<u8", buffer=data, strides=(1,))
        for lo in range(0, n, _BLOCK):
            sl = slice(lo, min(lo + _BLOCK, n))
            nxt = lt[lo + 1 : lo + _BLOCK + 1]
            if len(nxt) < sl.stop - lo:
                nxt = np.append(nxt, np.int32(len(data)))
            _classify(
                words, lt[sl], nxt, buf, safe[sl], kind[sl], name[sl], vs[sl], ve[sl], keyid[sl]
            )
    # Tags near the end, and tags holding a reference, go through Python.
    redo = ~safe
    if len(amps):
        redo[np.searchsorted(lt, amps, side="right") - 1] = True
    kind[redo] = 0
    keyid[redo] = 0
    # Everything else: Python.
    names = {nm: i for i, nm in enumerate(NAMES)}
    slow = SlowTags()
    for i in np.flatnonzero(kind == 0).tolist():
        parse_tag(data, int(lt[i]), i, names, slow)
    if slow.kind:
        idx = np.fromiter(slow.kind.keys(), dtype=np.int64, count=len(slow.kind))
        kind[idx] = np.fromiter(slow.kind.values(), dtype=np.int8, count=len(idx))
        if len(names) > 30_000:
            raise Unsupported
        name[idx] = np.fromiter(slow.name.values(), dtype=np.int16, count=len(idx))
        if slow.key:
            kidx = np.fromiter(slow.key.keys(), dtype=np.int64, count=len(slow.key))
            keyid[kidx] = np.fromiter(slow.key.values(), dtype=np.int8, count=len(kidx))
            vs[kidx] = lt[kidx]
            ve[kidx] = lt[kidx]
    return _Tags(data, buf, start, spans, lt, kind, name, vs, ve, keyid, slow)


def _check_root(t: _Tags, level: np.ndarray) -> None:
    """One root, ``<log>``, with only whitespace, comments and PIs around it."""
    data, start, spans, lt, kind, name, slow = (
        t.data,
        t.start,
        t.spans,
        t.lt,
        t.kind,
        t.name,
        t.slow,
    )
    roots = np.flatnonzero(level == 0)
    if kind[roots].tolist() not in ([SELF], [OPEN, CLOSE]) or name[roots[0]] != _LOG:
        raise Unsupported
    first = int(lt[roots[0]])
    last_i = int(roots[-1])
    root_end = slow.end.get(last_i, int(lt[last_i]) + len(b"</log>"))
    pos = start
    for s, e in [*(sp for sp in spans if sp[1] <= first), (first, first)]:
        if data[pos:s].strip():
            raise Unsupported
        pos = e
    pos = root_end
    for s, e in [*(sp for sp in spans if sp[0] >= root_end), (len(data), len(data))]:
        if data[pos:s].strip():
            raise Unsupported
        pos = e


def _columns(t: _Tags, level: np.ndarray, parents: Parents) -> pa.Table:
    """The case table: events of traces of the root, with their last keyed fields."""
    data, buf, kind, name, vs, ve, keyid, slow = (
        t.data, t.buf, t.kind, t.name, t.vs, t.ve, t.keyid, t.slow
    )  # fmt: skip
    # Traces: children of the root (a trace anywhere else: lxml reads it).
    traces = np.flatnonzero((name == _TRACE) & (kind != CLOSE))
    if len(traces) and np.any(level[traces] != 1):
        raise Unsupported
    # Events: children of traces.
    ev = np.flatnonzero((name == _EVENT) & (kind != CLOSE) & (level == 2))
    ev_parent = parents(ev, 1)
    ev = ev[(ev_parent >= 0) & (name[np.maximum(ev_parent, 0)] == _TRACE)]
    if np.any(kind[ev] == SELF):
        raise Unsupported  # an event without fields: lxml names the error
    ev_trace = np.searchsorted(traces, parents(ev, 1))
    # Event fields: keyed children of events; the last of each key wins.
    ch3 = np.flatnonzero((keyid > 0) & (level == 3) & (kind != CLOSE))
    ch3_ev = _owner(parents(ch3, 2), ev)
    ch3, ch3_ev = ch3[ch3_ev >= 0], ch3_ev[ch3_ev >= 0]
    field_tag: list[np.ndarray] = []
    for j in (1, 2, 3):
        sel = keyid[ch3] == j
        tags, owner = ch3[sel], ch3_ev[sel]
        last = _last_per(owner)
        tag_of = np.full(len(ev), -1, dtype=np.int64)
        tag_of[owner[last]] = tags[last]
        field_tag.append(tag_of)
    act_tag, ts_tag, res_tag = field_tag
    if np.any(act_tag < 0) or np.any(ts_tag < 0):
        raise Unsupported  # an event without concept:name or time:timestamp
    # Case ids: concept:name children of traces other than events (the last wins).
    ch2 = np.flatnonzero((keyid == 1) & (level == 2) & (kind != CLOSE) & (name != _EVENT))
    ch2_tr = _owner(parents(ch2, 1), traces)
    ch2, ch2_tr = ch2[ch2_tr >= 0], ch2_tr[ch2_tr >= 0]
    last = _last_per(ch2_tr)
    case_tag = np.full(len(traces), -1, dtype=np.int64)
    case_tag[ch2_tr[last]] = ch2[last]
    buffer = pa.py_buffer(data)
    named = case_tag >= 0
    if named.all():
        case_vals = tag_strings(buffer, case_tag, vs, ve, slow)[0]
    else:
        vals = np.array([f"trace-{i + 1}" for i in range(len(traces))], dtype=object)
        if named.any():
            vals[named] = tag_strings(buffer, case_tag[named], vs, ve, slow)[0].to_pylist()
        case_vals = texts(vals.tolist())
    cases = case_vals.take(ints(ev_trace)).cast(pa.string())
    acts, _ = tag_strings(buffer, act_tag, vs, ve, slow)
    ts = fixed_timestamps(buf, vs[ts_tag], ve[ts_tag])
    if ts is None:
        ts_text, decoded = tag_strings(buffer, ts_tag, vs, ve, slow, dedupe=False)
        ts = parse_timestamps(ts_text, decoded)
    has_res = res_tag >= 0
    if has_res.all():
        res, _ = tag_strings(buffer, res_tag, vs, ve, slow)
    elif has_res.any():
        part, _ = tag_strings(buffer, res_tag[has_res], vs, ve, slow)
        pos_idx = np.zeros(len(ev), dtype=np.int64)
        pos_idx[has_res] = np.arange(int(has_res.sum()))
        validity = pa.py_buffer(np.packbits(has_res, bitorder="little"))
        taking = pa.Array.from_buffers(pa.int64(), len(ev), [validity, pa.py_buffer(pos_idx)])
        res = part.take(taking)
    else:
        res = pa.nulls(len(ev), pa.string())
    return pa.table(
        {
            "case_id": cases,
            "activity": acts,
            "ts": ints(ts.astype(np.int64)),
            "seq": ints(np.arange(len(ev), dtype=np.int64)),
            "resource": res,
        },
        schema=CASE_SCHEMA,
    )
