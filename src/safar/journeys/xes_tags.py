"""XES tags the vectorised scanner hands to Python: the XML grammar of a tag as regexes, attribute
values decoded as an XML parser reports them, and the checks of ``&`` and special tags.

Everything here raises ``Unsupported`` when a document needs the full parser (lxml) instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safar.journeys.arrays import bools, ints, texts
from safar.journeys.xes_schema import WS_TABLE, normalise_ws

#: Element names of XES, and the ones written as ``<NAME key="K" value="V"...>``.
NAMES = (b"log", b"trace", b"event", b"string", b"date", b"int", b"float", b"boolean", b"id",
         b"list", b"values", b"container", b"global", b"extension", b"classifier")  # fmt: skip
#: Keys read from events (and ``concept:name`` from traces); position = key id - 1.
KEYS = (b"concept:name", b"time:timestamp", b"org:resource")

OPEN, SELF, CLOSE = 1, 2, 3
MAX_DEPTH = 10_000
TAIL = 32  # tags this close to the end are parsed in Python (no 8-byte loads past the end)

_NAME_RE = rb"[A-Za-z_][A-Za-z0-9_.\-]*"
_ANAME_RE = rb"[A-Za-z_:][A-Za-z0-9_.:\-]*"
_TAG_RE = re.compile(
    rb"<(" + _NAME_RE + rb")((?:\s+" + _ANAME_RE + rb"\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*)\s*(/?)>"
)
_ATTR_RE = re.compile(rb"\s+(" + _ANAME_RE + rb")\s*=\s*(?:\"([^\"<]*)\"|'([^'<]*)')")
_CLOSE_RE = re.compile(rb"</(" + _NAME_RE + rb")\s*>")
_DECL_RE = re.compile(
    rb"<\?xml\s+version\s*=\s*(?:\"1\.[0-9]+\"|'1\.[0-9]+')"
    rb"(?:\s+encoding\s*=\s*(?:\"([A-Za-z][A-Za-z0-9._\-]*)\"|'([A-Za-z][A-Za-z0-9._\-]*)'))?"
    rb"(?:\s+standalone\s*=\s*(?:\"(?:yes|no)\"|'(?:yes|no)'))?\s*\?>"
)
_PI_RE = re.compile(rb"<\?(" + _NAME_RE + rb")(?:\s[^?]*(?:\?(?!>)[^?]*)*)?\?>", re.S)
_REF_RE = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(lt|gt|amp|quot|apos));")
_AMP_RE = re.compile(rb"&(?:#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);")
#: Namespace URIs taken as they are (libxml2 checks others, and rejects some): lxml reads the rest.
_NS_OK = re.compile(
    r"(?:https?://[A-Za-z0-9\-._~]+(?::[0-9]+)?(?:/[A-Za-z0-9\-._~/?#=]*)?|urn:[A-Za-z0-9\-._~:]+)\Z"
)
_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


class Unsupported(Exception):
    """The document needs the full XML parser (or is not well formed)."""


def word(b: bytes) -> tuple[int, int]:
    """(value, mask) of up to 8 bytes as a little-endian 64-bit word."""
    return int.from_bytes(b.ljust(8, b"\0"), "little"), (1 << (8 * len(b))) - 1


def pattern(b: bytes) -> tuple[int, int, int, int]:
    """Two (value, mask) words of up to 16 bytes."""
    return (*word(b[:8]), *word(b[8:16]))


def _char_ok(cp: int) -> bool:
    return (
        cp in (0x9, 0xA, 0xD)
        or 0x20 <= cp <= 0xD7FF
        or 0xE000 <= cp <= 0xFFFD
        or (0x10000 <= cp <= 0x10FFFF)
    )


def attr_value(raw: bytes) -> str:
    """An attribute value as an XML parser reports it (line ends and whitespace normalised,
    references decoded); raises ``Unsupported`` on a reference XML does not allow."""
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Unsupported from None
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = s.translate(WS_TABLE)
    if "&" not in s:
        return s
    out: list[str] = []
    pos = 0
    for m in _REF_RE.finditer(s):
        if "&" in s[pos : m.start()]:
            raise Unsupported
        out.append(s[pos : m.start()])
        if m.group(3):
            out.append(_PREDEFINED[m.group(3)])
        else:
            cp = int(m.group(1), 16) if m.group(1) else int(m.group(2))
            if not _char_ok(cp):
                raise Unsupported
            out.append(chr(cp))
        pos = m.end()
    if "&" in s[pos:]:
        raise Unsupported
    out.append(s[pos:])
    return "".join(out)


@dataclass
class SlowTags:
    """Tags parsed in Python: kind, name id, key id, decoded value, end of each by tag index."""

    kind: dict[int, int] = field(default_factory=dict)
    name: dict[int, int] = field(default_factory=dict)
    key: dict[int, int] = field(default_factory=dict)
    value: dict[int, str] = field(default_factory=dict)
    end: dict[int, int] = field(default_factory=dict)


def parse_tag(
    data: bytes | bytearray, p: int, i: int, names: dict[bytes, int], slow: SlowTags
) -> None:
    if data.startswith(b"</", p):
        m = _CLOSE_RE.match(data, p)
        if m is None:
            raise Unsupported
        slow.kind[i] = CLOSE
        slow.name[i] = names.setdefault(m.group(1), len(names))
        slow.end[i] = m.end()
        return
    m = _TAG_RE.match(data, p)
    if m is None:
        raise Unsupported
    attrs: dict[bytes, bytes] = {}
    for a in _ATTR_RE.finditer(m.group(2)):
        if a.group(1) in attrs:
            raise Unsupported  # duplicate attribute: not well formed
        attrs[a.group(1)] = a.group(2) if a.group(2) is not None else a.group(3)
    for a_name, raw in attrs.items():
        if a_name == b"xmlns" or a_name.startswith(b"xmlns:"):
            if not _NS_OK.match(attr_value(raw)):
                raise Unsupported
        elif b":" in a_name and not a_name.startswith(b"xml:"):
            raise Unsupported  # a prefixed attribute: lxml checks its namespace
    slow.kind[i] = SELF if m.group(3) else OPEN
    slow.name[i] = names.setdefault(m.group(1), len(names))
    slow.end[i] = m.end()
    if b"key" in attrs:
        key = attr_value(attrs[b"key"]).encode()
        if key in KEYS:
            slow.key[i] = KEYS.index(key) + 1
            slow.value[i] = attr_value(attrs.get(b"value", b""))


def specials(
    data: bytes | bytearray, lt: np.ndarray, start: int
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Drop the ``<`` of comments, processing instructions and the declaration (and any ``<``
    inside them); return the remaining tag positions and the skipped (start, end) spans."""
    c1 = np.frombuffer(data, np.uint8).take(lt + 1, mode="clip")
    cand = lt[(c1 == ord("!")) | (c1 == ord("?"))]
    spans: list[tuple[int, int]] = []
    end_prev = -1
    for p in cand.tolist():
        if p < end_prev:
            continue
        if data.startswith(b"<!--", p):
            e = data.find(b"-->", p + 4)
            if e < 0 or b"--" in data[p + 4 : e] or (data[e - 1 : e] == b"-" and e - 1 >= p + 4):
                raise Unsupported
            end = e + 3
        elif data.startswith(b"<?", p):
            if re.match(rb"<\?xml[\s?]", data[p : p + 6], re.I):
                m = _DECL_RE.match(data, p)
                if p != start or m is None:
                    raise Unsupported
                enc = m.group(1) or m.group(2)
                if enc is not None and enc.lower() not in (b"utf-8", b"utf8"):
                    raise Unsupported
            else:
                m = _PI_RE.match(data, p)
                if m is None:
                    raise Unsupported
            end = m.end()
        else:
            raise Unsupported  # CDATA, DOCTYPE, or not well formed
        spans.append((p, end))
        end_prev = end
    if not spans:
        return lt, spans
    keep = np.ones(len(lt), dtype=bool)
    for p, end in spans:
        lo, hi = np.searchsorted(lt, [p, end])
        keep[lo:hi] = False
    return lt[keep], spans


def check_amps(data: bytes | bytearray, buf: np.ndarray) -> np.ndarray:
    """Positions of ``&``; each must start a reference XML allows."""
    if data.find(b"&") < 0:
        return np.zeros(0, dtype=np.int64)
    amps = np.flatnonzero(buf == ord("&"))
    for p in amps.tolist():
        m = _AMP_RE.match(data, p)
        if m is None:
            raise Unsupported
        body = m.group(0)
        if body.startswith(b"&#"):
            cp = int(body[3:-1], 16) if body[2:3] == b"x" else int(body[2:-1])
            if not _char_ok(cp):
                raise Unsupported
    return amps


def slices(buffer: pa.Buffer, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """Binary array of ``buffer[starts[i]:ends[i]]`` (spans in increasing, disjoint order)."""
    n = len(starts)
    offs = np.empty(2 * n + 1, dtype=np.int64)
    offs[0:-1:2] = starts
    offs[1::2] = ends
    offs[-1] = ends[-1] if n else 0
    both = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), 2 * n, [None, pa.py_buffer(offs), buffer]
    )
    return both.take(ints(np.arange(0, 2 * n, 2)))


def tag_strings(
    buffer: pa.Buffer,
    tag_idx: np.ndarray,
    vs: np.ndarray,
    ve: np.ndarray,
    slow: SlowTags,
    *,
    dedupe: bool = True,
) -> tuple[pa.Array, np.ndarray]:
    """Values of the given tags as a string array, and a mask of those decoded in Python.

    Values of vectorised tags hold no reference (tags with ``&`` go through Python), so only
    their literal tabs and line breaks need normalising: done once per distinct value.
    """
    raw = slices(buffer, vs[tag_idx], ve[tag_idx])
    try:
        arr = raw.cast(pa.large_string())
    except pa.ArrowInvalid:
        raise Unsupported from None
    if dedupe:
        enc = arr.dictionary_encode()
        d = enc.dictionary
        bad = pc.match_substring_regex(d, "[\t\n\r]")
    if dedupe and pc.any(bad).as_py():
        fixed = [
            normalise_ws(v) if b else v for v, b in zip(d.to_pylist(), bad.to_pylist(), strict=True)
        ]
        arr = pa.DictionaryArray.from_arrays(enc.indices, texts(fixed))
        arr = arr.cast(pa.large_string())
    decoded = np.zeros(len(tag_idx), dtype=bool)
    if slow.value:
        at = [i for i, t in enumerate(tag_idx.tolist()) if t in slow.value]
        if at:
            decoded[at] = True
            repl = texts([slow.value[int(tag_idx[i])] for i in at])
            arr = pc.replace_with_mask(arr, bools(decoded), repl)
    return arr.cast(pa.string()), decoded
