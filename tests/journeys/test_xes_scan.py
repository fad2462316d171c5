"""The vectorised XES scanner gives exactly what the lxml reader gives, or leaves it to lxml.

Every test runs twice: with the C loops of ``_xesfast`` and with their numpy versions."""

from __future__ import annotations

import gzip
import io
import os
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from safar.errors import ValidationFailed
from safar.journeys import xes_scan
from safar.journeys.analysis import CaseLog, discover, discover_table
from safar.journeys.arrays import texts
from safar.journeys.xes import _to_table, iter_xes, read_xes
from safar.journeys.xes_scan import scan_xes
from safar.journeys.xes_schema import fixed_timestamps, parse_timestamp, parse_timestamps


@pytest.fixture(autouse=True, params=["native", "numpy"])
def loops(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the scanner with its C loops (when built) or with the numpy ones."""
    if request.param == "native":
        if xes_scan.native is None:
            if os.environ.get("SAFAR_TEST_REQUIRE_NATIVE"):
                pytest.fail("safar.journeys._xesfast is not built")
            pytest.skip("safar.journeys._xesfast is not built")
    else:
        monkeypatch.setattr(xes_scan, "native", None)
    return str(request.param)


def lxml_outcome(doc: bytes | Path) -> pa.Table | str:
    """The lxml reader's table of a document (or file, streamed), or its error message."""
    try:
        return _to_table(iter_xes(doc if isinstance(doc, Path) else io.BytesIO(doc)))
    except ValidationFailed as exc:
        return exc.message


def read_outcome(path: Path) -> pa.Table | str:
    try:
        return read_xes(path)
    except ValidationFailed as exc:
        return exc.message


def same(a: pa.Table | str, b: pa.Table | str) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a.equals(b)


SHARED = ["helpdesk.xes.gz", "bpic2012.xes.gz", "08_receipt.xes.gz", "running-example.xes"]


@pytest.mark.parametrize("name", [*SHARED, "10_orders.xes.gz"])
def test_shared_logs_equal_lxml(shared_data: Path, name: str) -> None:
    path = shared_data / "process_logs" / name
    raw = path.read_bytes()
    doc = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    expected = lxml_outcome(doc)
    assert same(read_outcome(path), expected)
    if name in SHARED:  # the scanner itself read it (no fallback to lxml)
        scanned = scan_xes(doc)
        assert scanned is not None
        assert scanned.equals(expected)
    else:  # 10_orders has timestamps like 2019/11/03 01:11:19.000: lxml names the value
        assert isinstance(expected, str) and "not an ISO 8601 timestamp" in expected


@pytest.mark.parametrize("name", ["helpdesk.xes.gz", "bpic2012.xes.gz"])
def test_discover_table_equals_engine(shared_data: Path, name: str) -> None:
    table = read_xes(shared_data / "process_logs" / name)
    log = CaseLog(table)
    try:
        for kw in ({}, {"top_variants": 3, "min_frequency": 2}, {"max_variants": 10}):
            a = discover_table(table, **kw)  # type: ignore[arg-type]
            b = discover(log, log.source, **kw)  # type: ignore[arg-type]
            assert a.as_dict(durations_p90=True) == b.as_dict(durations_p90=True)
            assert (a.cases, a.variant_count) == (b.cases, b.variant_count)
    finally:
        log.close()


HEAD = b'<?xml version="1.0" encoding="UTF-8" ?>\n<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n'


def ev(name: str, ts: str, extra: str = "") -> str:
    return (
        f'<event><string key="concept:name" value="{name}"/>{extra}'
        f'<date key="time:timestamp" value="{ts}"/></event>'
    )


T = "2024-01-01T10:00:00.000+01:00"
NOTE = '<string key="note" value="n"><int key="concept:name" value="9"/></string>'
ACCEPTED = {
    "entities": f'<trace><string key="concept:name" value="c&amp;1"/>{ev("R&amp;D &#233;&#x41;", T)}</trace>',
    "tab and newline in a value": (
        '<trace><string key="concept:name" value="a\tb"/>'
        + ev("x\ny", T)
        + ev("x\r\ny", T)
        + "</trace>"
    ),
    "single quotes and other spacing": (
        "<trace><string value='c1' key='concept:name' />"
        "<event><string  key = \"concept:name\"  value='a'/><date value='2024-01-01T00:00:00Z' "
        'key="time:timestamp"></date></event></trace>'
    ),
    "comments, PIs": (
        "<!-- a <comment> --><trace><?pi data?>"
        f'<string key="concept:name" value="c"/><!-- <event> -->{ev("a", T)}</trace>'
    ),
    "nested attributes and lists": (
        '<trace><string key="concept:name" value="c"><string key="concept:name" value="inner"/>'
        '</string><list key="l"><values><int key="x" value="1"/></values></list>'
        + ev("a", T, NOTE)
        + "</trace>"
    ),
    "unnamed traces, int names, last key wins, resources": (
        f'<trace>{ev("a", T)}</trace><trace><int key="concept:name" value="7"/>'
        '<event><string key="concept:name" value="first"/><string key="concept:name" value="second"/>'
        f'<string key="org:resource" value="r1"/><date key="time:timestamp" value="{T}"/></event>'
        f"{ev('b', '2024-01-01T09:00:00Z')}</trace><trace/>"
    ),
    "time forms": (
        '<trace><string key="concept:name" value="c"/>'
        + "".join(
            ev("a", t)
            for t in [
                "2024-01-01T00:00:00",
                "2024-01-01T00:00:00.5Z",
                "2024-01-01T00:00:00.123456-05:30",
                "2024-01-01 00:00:00+00:00",
                " 2024-02-29T23:59:59Z ",
            ]
        )
        + "</trace>"
    ),
    "persian names": f'<trace><string key="concept:name" value="مشتری ۱"/>{ev("ثبت سفارش", T)}</trace>',
    "events outside traces are ignored": f"{ev('z', T)}<trace>{ev('a', T)}</trace>",
}
MALFORMED = {
    "mismatched close": f"<trace>{ev('a', T)}</event>",
    "unclosed": f"<trace>{ev('a', T)}",
    "bad entity": f"<trace>{ev('a &foo; b', T)}</trace>",
    "control character": "<trace>" + ev("a\x01", T) + "</trace>",
    "duplicate attribute": f'<trace><string key="concept:name" key="x" value="c"/>{ev("a", T)}</trace>',
    "lt in a value": f"<trace>{ev('a<b', T)}</trace>",
    "no timestamp": '<trace><event><string key="concept:name" value="a"/></event></trace>',
    "no name": f'<trace><event><date key="time:timestamp" value="{T}"/></event></trace>',
    "bad timestamp": f"<trace>{ev('a', '2024-13-01T00:00:00Z')}</trace>",
    "empty event": "<trace><event/></trace>",
}
#: Well-formed, but XML the scanner leaves to lxml (same table through ``read_xes``).
LEFT_TO_LXML = {
    "cdata": f"<trace>{ev('a', T)}<![CDATA[x]]></trace>",
    "prefixed names": (
        '<x:trace xmlns:x="http://www.xes-standard.org/">'
        + ev("a", T).replace("<event>", "<x:event>").replace("</event>", "</x:event>")
        + "</x:trace>"
    ),
    "trace inside a trace": f"<trace><trace>{ev('a', T)}</trace></trace>",
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_scanner_reads_xml_variants_like_lxml(tmp_path: Path, case: str) -> None:
    doc = HEAD + ACCEPTED[case].encode() + b"\n</log>\n"
    expected = lxml_outcome(doc)
    assert isinstance(expected, pa.Table), expected
    scanned = scan_xes(doc)
    assert scanned is not None, "the scanner should read this itself"
    assert scanned.equals(expected), (scanned.to_pylist(), expected.to_pylist())
    for path, data in ((tmp_path / "a.xes", doc), (tmp_path / "a.xes.gz", gzip.compress(doc))):
        path.write_bytes(data)
        assert same(read_outcome(path), expected)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_documents_get_lxml_errors(tmp_path: Path, case: str) -> None:
    doc = HEAD + MALFORMED[case].encode() + b"\n</log>\n"
    expected = lxml_outcome(doc)
    assert isinstance(expected, str), expected.to_pylist()
    assert scan_xes(doc) is None
    path = tmp_path / "bad.xes.gz"
    path.write_bytes(gzip.compress(doc))
    assert read_outcome(path) == lxml_outcome(path)


@pytest.mark.parametrize("case", sorted(LEFT_TO_LXML))
def test_unusual_xml_is_read_by_lxml(tmp_path: Path, case: str) -> None:
    doc = HEAD + LEFT_TO_LXML[case].encode() + b"\n</log>\n"
    assert scan_xes(doc) is None
    path = tmp_path / "a.xes"
    path.write_bytes(doc)
    assert same(read_outcome(path), lxml_outcome(doc))


@pytest.mark.parametrize(
    "doc",
    [
        b"<html><body>" + b" " * 80 + b"</body></html>",
        HEAD + b"</log>\n<log/>",
        HEAD + b"</log> trailing text",
        b"  " + HEAD + b"</log>",
        HEAD.replace(b"UTF-8", b"ISO-8859-1") + b"<trace/></log>",
    ],
)
def test_documents_left_to_lxml(doc: bytes) -> None:
    assert scan_xes(doc) is None


def test_truncated_gzip_is_a_clear_error(tmp_path: Path) -> None:
    doc = HEAD + (f"<trace>{ev('a', T)}</trace>" * 50).encode() + b"</log>"
    path = tmp_path / "cut.xes.gz"
    path.write_bytes(gzip.compress(doc)[:-30])
    with pytest.raises(ValidationFailed) as err:
        read_xes(path)
    assert err.value.field == "file"


def test_several_gzip_members(tmp_path: Path) -> None:
    doc = HEAD + (f"<trace>{ev('a', T)}</trace>" * 20).encode() + b"</log>\n"
    path = tmp_path / "multi.xes.gz"
    path.write_bytes(gzip.compress(doc[:100]) + gzip.compress(doc[100:]))
    assert same(read_outcome(path), lxml_outcome(doc))
    assert isinstance(read_outcome(path), pa.Table)


def test_timestamps_equal_one_by_one() -> None:
    forms = [
        "2011-10-01T00:38:44.546+02:00",
        "2011-10-01T00:38:44Z",
        "2011-10-01T00:38:44",
        "2011-10-01T00:38:44.1",
        "2011-10-01T00:38:44.123456-11:45",
        "2012-02-29T23:59:59.999999+14:00",
        "1969-12-31T23:59:59.5Z",
        "2011-10-01 00:38:44",
        "2011-10-01T00:38",
    ]
    got = parse_timestamps(texts(forms))
    assert got.tolist() == [parse_timestamp(f, where="t") for f in forms]
    with pytest.raises(ValidationFailed, match="not an ISO 8601"):
        parse_timestamps(texts(["2011-10-01T00:38:44Z", "2011-02-30T00:00:00Z"]))


def random_doc(rng: random.Random) -> bytes:
    """A random XES document in the spellings writers use (and some they rarely do)."""
    acts = ["a", "b c", "R&amp;D", "دریافت", "x&#10;y", "t\tu"]

    def attr(tag: str, key: str, value: str) -> str:
        q = rng.choice(['"', '"', "'"])
        sp = rng.choice([" ", " ", "  ", "\n\t"])
        parts = [f"key={q}{key}{q}", f"value={q}{value}{q}"]
        if rng.random() < 0.2:
            parts.reverse()
        end = rng.choice(["/>", " />", "/>", f"></{tag}>"])
        return f"<{tag}{sp}{sp.join(parts)}{end}"

    out = [HEAD.decode()]
    for t in range(rng.randint(0, 6)):
        out.append("<trace>")
        if rng.random() < 0.8:
            out.append(
                attr(rng.choice(["string", "int"]), "concept:name", f"case {rng.randint(1, 4)}")
            )
        for _ in range(rng.randint(0, 5)):
            fields = [
                attr("string", "concept:name", rng.choice(acts)),
                attr(
                    "date",
                    "time:timestamp",
                    f"2024-0{rng.randint(1, 3)}-1{rng.randint(0, 9)}T{rng.randint(10, 23)}:00:0{rng.randint(0, 9)}"
                    + rng.choice(["", "Z", ".250+02:00", ".5"]),
                ),
            ]
            if rng.random() < 0.5:
                fields.append(attr("string", "org:resource", rng.choice(["r1", "r2"])))
            if rng.random() < 0.3:
                fields.append(attr("float", "cost", "1.5"))
            rng.shuffle(fields)
            out.append("<event>" + rng.choice(["", "\n", "\n\t\t"]).join(fields) + "</event>")
        if rng.random() < 0.1:
            out.append(f"<!-- trace {t} <note> -->")
        out.append("</trace>\n")
    out.append("</log>\n")
    return "".join(out).encode()


def test_random_documents_equal_lxml() -> None:
    rng = random.Random(7)
    scanned = 0
    for _ in range(300):
        doc = random_doc(rng)
        expected = lxml_outcome(doc)
        got = scan_xes(doc)
        if got is not None:
            scanned += 1
            assert isinstance(expected, pa.Table), expected
            assert got.equals(expected), (doc, got.to_pylist(), expected.to_pylist())
    assert scanned > 250  # the scanner reads them (it does not leave them all to lxml)


def fixed(values: list[str]) -> list[int] | None:
    data = " ".join(values).encode()
    starts, pos = [], 0
    for v in values:
        starts.append(pos)
        pos += len(v.encode()) + 1
    vs = np.array(starts, dtype=np.int64)
    ve = vs + np.array([len(v.encode()) for v in values])
    got = fixed_timestamps(np.frombuffer(data, np.uint8), vs, ve)
    return None if got is None else got.tolist()


@pytest.mark.parametrize(
    "values",
    [
        [
            "2011-10-01T00:38:44.546+02:00",
            "2012-02-29T23:59:59.999-11:30",
            "1969-12-31T23:59:59.100+00:00",
        ],
        ["2012-10-09T14:50:17+00:00", "2000-03-01T00:00:00-01:00"],
        ["2024-01-01T00:00:00Z", "1999-12-31T23:59:59Z"],
        ["2024-01-01T00:00:00", "0001-01-01T00:00:00"],
        ["2024-01-01T00:00:00.123456", "2024-06-30T12:00:00.000001"],
        ["2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00.9Z"],
    ],
)
def test_fixed_layout_timestamps_equal_one_by_one(values: list[str]) -> None:
    assert fixed(values) == [parse_timestamp(v, where="t") for v in values]


@pytest.mark.parametrize(
    "values",
    [
        ["2011-02-29T00:00:00Z"],  # not a leap year
        ["2011-10-01T24:00:00Z"],
        ["2011-13-01T00:00:00Z"],
        ["2011-10-01T00:00:60Z"],
        ["0000-01-01T00:00:00Z"],
        ["2011-10-01T00:00:00+24:00"],
        ["2011-10-01T00:00:00Z", "2011-10-01T00:00:00+00:00"],  # two layouts
        ["2011-10-01 00:00:00Z"],
        ["2011-10-01T00:00:0xZ"],
    ],
)
def test_fixed_layout_leaves_the_rest_to_parse_timestamp(values: list[str]) -> None:
    assert fixed(values) is None


MUTATIONS = [b"<", b">", b'"', b"'", b"/", b"&", b" ", b"\n", b"=", b"a", b"\x01", b"]]>",
             b"<!--", b"-->", b"</event>", b"<event>", b"</trace>", b"\xc3"]  # fmt: skip


def test_mutated_documents_never_differ_from_lxml() -> None:
    """Random documents with a few bytes replaced, deleted or inserted: whatever the scanner
    accepts, lxml reads to the same table (mostly they are malformed: lxml's turn)."""
    rng = random.Random(11)
    accepted = 0
    for _ in range(600):
        doc = bytearray(random_doc(rng))
        for _ in range(rng.randint(1, 3)):
            p = rng.randrange(len(doc))
            op = rng.random()
            if op < 0.4:
                doc[p : p + 1] = rng.choice(MUTATIONS)
            elif op < 0.7:
                del doc[p : p + rng.randint(1, 5)]
            else:
                doc[p:p] = rng.choice(MUTATIONS)
        got = scan_xes(bytes(doc))
        if got is not None:
            accepted += 1
            expected = lxml_outcome(bytes(doc))
            assert isinstance(expected, pa.Table), (bytes(doc), expected)
            assert got.equals(expected), bytes(doc)
    assert accepted > 20


@pytest.mark.parametrize(
    "head",
    [
        b'<log xmlns="http://www.xes-standar .org/">',  # libxml2: not a valid URI
        b'<log xmlns="htt\'p://www.xes-standard.org/">',
        b'<log foo:bar="1">',  # undeclared prefix
        b'<log xmlns:x="http://a/" x:y="1">',  # declared: fine, but lxml's to read
    ],
)
def test_namespace_declarations_left_to_lxml(tmp_path: Path, head: bytes) -> None:
    doc = (
        b'<?xml version="1.0" encoding="UTF-8" ?>\n'
        + head
        + f"<trace>{ev('a', T)}</trace></log>".encode()
    )
    assert scan_xes(doc) is None
    path = tmp_path / "ns.xes"
    path.write_bytes(doc)
    assert same(read_outcome(path), lxml_outcome(path))


def _loop_arrays(doc: bytes, use_native: bool) -> tuple[np.ndarray, ...] | None:
    """The tag positions and per-tag arrays of the hot loops (C or numpy)."""
    buf = np.frombuffer(doc, np.uint8)
    if use_native:
        assert xes_scan.native is not None
        raw, bad, ascii = xes_scan.native.find_lt(doc)
        lt = np.frombuffer(raw, dtype=np.int32)
        assert ascii == doc.isascii() or bad
    else:
        lt, bad = xes_scan._find_chars(buf, 0, len(buf))
    if bad:
        return None
    n = len(lt)
    out = (np.zeros(n, np.int8), np.full(n, -1, np.int16), np.zeros(n, np.int32),
           np.zeros(n, np.int32), np.zeros(n, np.int8))  # fmt: skip
    safe = lt < len(doc) - xes_scan._TAIL
    if use_native:
        assert xes_scan.native is not None
        xes_scan.native.classify(doc, lt, *out, xes_scan._TAIL)
    elif n:
        words = np.ndarray(shape=(len(doc) - 7,), dtype="<u8", buffer=doc, strides=(1,))
        nxt = np.append(lt[1:], np.int32(len(doc)))
        xes_scan._classify(words, lt, nxt, buf, safe, *out)
    kind = out[0]
    kind[~safe] = 0  # both leave these to Python
    return (lt, *out)


def test_c_loops_equal_numpy_loops_on_mutated_documents(loops: str) -> None:
    """Byte-level mutations (quotes, brackets, slashes, spaces, control characters) near
    attribute elements: the C loops recognise exactly the tags the numpy loops recognise."""
    if loops != "native":
        pytest.skip("compares the two versions once")
    rng = random.Random(11)
    alphabet = b'"<>/ =\t\n\x01\xd8ekyvalu'
    compared = accepted = 0
    for _ in range(400):
        doc = bytearray(random_doc(rng))
        for _ in range(rng.randint(1, 3)):
            doc[rng.randrange(len(doc))] = alphabet[rng.randrange(len(alphabet))]
        a = _loop_arrays(bytes(doc), True)
        b = _loop_arrays(bytes(doc), False)
        assert (a is None) == (b is None)
        if a is None or b is None:
            continue
        compared += 1
        for x, y, what in zip(a, b, ("lt", "kind", "name", "vs", "ve", "keyid"), strict=True):
            assert np.array_equal(x, y), (what, bytes(doc))
        # The whole scan (nesting checks included) accepts and rejects the same documents.
        native_table = scan_xes(bytes(doc))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(xes_scan, "native", None)
            numpy_table = scan_xes(bytes(doc))
        assert (native_table is None) == (numpy_table is None), bytes(doc)
        if native_table is not None and numpy_table is not None:
            accepted += 1
            assert native_table.equals(numpy_table)
    assert compared > 300
    assert 25 < accepted < compared  # mutations break some documents, not all
