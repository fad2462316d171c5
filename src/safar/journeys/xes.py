"""Event logs in and out: XES (.xes, .xes.gz) and CSV case logs to a case table, and XES export.

A case table is an Arrow table with one row per event: ``case_id`` (the XES trace's
``concept:name``), ``activity`` (the event's ``concept:name``), ``ts`` (``time:timestamp`` as
UTC microseconds), ``seq`` (position in the file, which orders events of equal time) and
``resource`` (``org:resource`` when present). Parsing streams with lxml's ``iterparse`` so a
log of millions of events never sits in memory as a tree.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import quoteattr

import pyarrow as pa
from lxml import etree

from safar.errors import ValidationFailed
from safar.journeys.xes_scan import scan_xes
from safar.journeys.xes_schema import CASE_SCHEMA, parse_timestamp


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _open(path: Path) -> IO[bytes]:
    if not path.exists():
        raise ValidationFailed(f"file: {path} does not exist", field="file")
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _event_row(elem: Any, trace_no: int) -> tuple[str, int, str | None]:
    ev: dict[str, str] = {}
    for attr in elem:
        key = attr.get("key") if isinstance(attr.tag, str) else None
        if key in ("concept:name", "time:timestamp", "org:resource"):
            ev[key] = attr.get("value", "")
    if "concept:name" not in ev:
        raise ValidationFailed(
            f"file: an event of trace {trace_no} has no concept:name", field="concept:name"
        )
    if "time:timestamp" not in ev:
        raise ValidationFailed(
            f"file: an event of trace {trace_no} has no time:timestamp", field="time:timestamp"
        )
    ts = parse_timestamp(ev["time:timestamp"], where="time:timestamp")
    return ev["concept:name"], ts, ev.get("org:resource")


def iter_xes(source: Path | IO[bytes]) -> Iterator[tuple[str, str, int, str | None]]:
    """Yield ``(case_id, activity, ts_us, resource)`` for every event of every trace.

    Streams with lxml's ``iterparse``, looking only at whole ``<trace>`` elements and freeing
    each one (and its predecessors) once read, so memory stays flat on large logs.
    """
    stream = _open(source) if isinstance(source, Path) else source
    trace_no = 0
    saw_log = False
    try:
        context = etree.iterparse(
            stream, events=("start", "end"), tag=("{*}log", "{*}trace"), huge_tree=True
        )
        for kind, elem in context:
            tag = _local(elem.tag)
            if kind == "start":
                if tag == "log":
                    saw_log = True
                continue
            if tag != "trace":
                continue
            trace_no += 1
            case_id: str | None = None
            rows: list[tuple[str, int, str | None]] = []
            for child in elem:
                if not isinstance(child.tag, str):
                    continue  # comments and processing instructions
                if _local(child.tag) == "event":
                    rows.append(_event_row(child, trace_no))
                elif child.get("key") == "concept:name":
                    case_id = child.get("value", "")
            cid = case_id if case_id is not None else f"trace-{trace_no}"
            for activity, ts, resource in rows:
                yield cid, activity, ts, resource
            elem.clear()
            parent = elem.getparent()
            while parent is not None and elem.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        raise ValidationFailed(f"file: malformed XES ({exc})", field="file") from None
    except (OSError, EOFError) as exc:
        raise ValidationFailed(f"file: cannot read the log ({exc})", field="file") from None
    finally:
        if isinstance(source, Path):
            stream.close()
    if not saw_log:
        raise ValidationFailed("file: not an XES log (no <log> root element)", field="file")


def _to_table(rows: Iterable[tuple[str, str, int, str | None]]) -> pa.Table:
    cases: list[str] = []
    acts: list[str] = []
    tss: list[int] = []
    res: list[str | None] = []
    for c, a, t, r in rows:
        cases.append(c)
        acts.append(a)
        tss.append(t)
        res.append(r)
    return pa.table(
        {
            "case_id": pa.array(cases, pa.string()),
            "activity": pa.array(acts, pa.string()),
            "ts": pa.array(tss, pa.int64()),
            "seq": pa.array(range(len(cases)), pa.int64()),
            "resource": pa.array(res, pa.string()),
        },
        schema=CASE_SCHEMA,
    )


#: Logs up to this size (decompressed) are read whole into memory and scanned vectorised
#: (``journeys.xes_scan``; the scan holds about 3x the document: BPIC 2012, 74 MB, peaks near
#: 240 MB); larger ones, and documents the scanner leaves to lxml, stream with flat memory.
SCAN_MAX_BYTES = 1 << 28


def _gunzip(raw: bytes) -> bytes | bytearray | None:
    """Decompress a gzip file held in memory (libdeflate when installed, else zlib); ``None``
    when it would exceed ``SCAN_MAX_BYTES`` or is not a valid gzip file (lxml then reports)."""
    if len(raw) < 18 or int.from_bytes(raw[-4:], "little") > SCAN_MAX_BYTES:
        return None  # the trailer holds the size modulo 2**32; checked again below
    try:
        import deflate  # libdeflate: about 3x faster than zlib (MIT licence)
    except ImportError:  # pragma: no cover - deflate is a dependency; zlib if it is missing
        deflate = None  # type: ignore[assignment]
    if deflate is not None:
        try:
            out = deflate.gzip_decompress(raw)
            # libdeflate reads one gzip member; the trailer of the file is the last member's:
            # a size that differs means several members, which zlib reads below.
            if len(out) % 2**32 == int.from_bytes(raw[-4:], "little"):
                return out
        except deflate.DeflateError:
            pass
    d = zlib.decompressobj(wbits=31)
    parts: list[bytes] = []
    size = 0
    rest = raw
    try:
        while rest:
            parts.append(d.decompress(rest, SCAN_MAX_BYTES + 1 - size))
            size += len(parts[-1])
            if size > SCAN_MAX_BYTES or d.unconsumed_tail:
                return None
            if not d.eof:
                return None  # truncated: lxml's stream names the error
            rest = d.unused_data
            d = zlib.decompressobj(wbits=31)
            while rest[:1] == b"\0":  # padding after the last member
                rest = rest[1:]
    except zlib.error:
        return None
    return b"".join(parts)


def _whole(path: Path) -> bytes | bytearray | None:
    """The decompressed bytes of a log file, or ``None`` to stream it instead."""
    if not path.exists():
        raise ValidationFailed(f"file: {path} does not exist", field="file")
    if path.stat().st_size > SCAN_MAX_BYTES:
        return None
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        return _gunzip(raw)
    return raw


def read_xes(source: Path | IO[bytes]) -> pa.Table:
    """Read an XES log (plain or gzip) into a case table.

    A file of at most ``SCAN_MAX_BYTES`` is read whole and scanned vectorised; documents the
    scanner does not accept (unusual XML, or errors) are parsed by lxml, which raises the
    errors. The two give identical tables (tested on the shared logs and on edge cases).
    """
    if isinstance(source, Path):
        data = _whole(source)
        if data is not None:
            table = scan_xes(data)
            if table is not None:
                return table
    return _to_table(iter_xes(source))


#: Column names recognised in CSV case logs, first match wins.
CSV_CASE = ("case:concept:name", "case_id", "case", "caseid", "case id")
CSV_ACTIVITY = ("concept:name", "activity", "event", "activity_name")
CSV_TIME = ("time:timestamp", "timestamp", "time", "start_time", "complete_timestamp")
CSV_RESOURCE = ("org:resource", "resource", "user")


def _pick(header: list[str], wanted: str | None, options: tuple[str, ...], what: str) -> int:
    lowered = [h.strip().lower() for h in header]
    if wanted:
        if wanted not in header:
            raise ValidationFailed(
                f"{what}: column {wanted!r} is not in the CSV (columns: {', '.join(header)})",
                field=what,
            )
        return header.index(wanted)
    for opt in options:
        if opt in lowered:
            return lowered.index(opt)
    raise ValidationFailed(
        f"{what}: no case-log column found; name it with --{what.replace('_', '-')} "
        f"(columns: {', '.join(header)})",
        field=what,
    )


def read_csv_log(
    path: Path,
    *,
    case_column: str | None = None,
    activity_column: str | None = None,
    time_column: str | None = None,
) -> pa.Table:
    """Read a CSV case log (one event per row) into a case table."""
    if not path.exists():
        raise ValidationFailed(f"file: {path} does not exist", field="file")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            raise ValidationFailed("file: the CSV is empty", field="file")
        ci = _pick(header, case_column, CSV_CASE, "case_column")
        ai = _pick(header, activity_column, CSV_ACTIVITY, "activity_column")
        ti = _pick(header, time_column, CSV_TIME, "time_column")
        lowered = [h.strip().lower() for h in header]
        ri = next((lowered.index(o) for o in CSV_RESOURCE if o in lowered), None)

        def rows() -> Iterator[tuple[str, str, int, str | None]]:
            for n, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    raise ValidationFailed(
                        f"file: line {n} has {len(row)} fields, the header has {len(header)}",
                        field="file",
                    )
                ts = parse_timestamp(row[ti], where=f"{header[ti]} (line {n})")
                yield row[ci], row[ai], ts, (row[ri] or None) if ri is not None else None

        return _to_table(rows())


def read_case_log(path: Path, **csv_options: Any) -> pa.Table:
    """Read a case log by its name: ``.xes``/``.xes.gz`` as XES, ``.csv`` as a CSV case log."""
    name = path.name.lower()
    if name.endswith((".xes", ".xes.gz")):
        return read_xes(path)
    if name.endswith((".csv", ".csv.gz")):
        return read_csv_log(path, **csv_options)
    raise ValidationFailed(f"file: {path.name} is neither .xes, .xes.gz nor .csv", field="file")


def _iso(ts_us: int) -> str:
    secs, micros = divmod(ts_us, 1_000_000)
    dt = datetime.fromtimestamp(secs, tz=UTC).replace(microsecond=micros)
    return dt.isoformat(timespec="milliseconds" if micros % 1000 == 0 else "microseconds")


def write_xes(table: pa.Table, out: IO[str]) -> int:
    """Write a case table as XES (traces in first-seen order, events by time); return events."""
    order: dict[str, list[tuple[int, int, str, str | None]]] = {}
    cols = table.select(["case_id", "activity", "ts", "seq", "resource"]).to_pydict()
    for c, a, t, s, r in zip(
        cols["case_id"], cols["activity"], cols["ts"], cols["seq"], cols["resource"], strict=True
    ):
        order.setdefault(c, []).append((t, s, a, r))
    out.write('<?xml version="1.0" encoding="UTF-8" ?>\n')
    out.write(
        '<log xes.version="1.0" xes.features="nested-attributes" '
        'xmlns="http://www.xes-standard.org/">\n'
        '\t<extension name="Concept" prefix="concept" '
        'uri="http://www.xes-standard.org/concept.xesext"/>\n'
        '\t<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>\n'
        '\t<extension name="Organizational" prefix="org" '
        'uri="http://www.xes-standard.org/org.xesext"/>\n'
    )
    n = 0
    for case_id, events in order.items():
        out.write(f'\t<trace>\n\t\t<string key="concept:name" value={quoteattr(case_id)}/>\n')
        for t, _s, a, r in sorted(events, key=lambda e: (e[0], e[1])):
            out.write(f'\t\t<event>\n\t\t\t<string key="concept:name" value={quoteattr(a)}/>\n')
            if r is not None:
                out.write(f'\t\t\t<string key="org:resource" value={quoteattr(r)}/>\n')
            out.write(f'\t\t\t<date key="time:timestamp" value="{_iso(t)}"/>\n\t\t</event>\n')
            n += 1
        out.write("\t</trace>\n")
    out.write("</log>\n")
    return n


def xes_bytes(table: pa.Table) -> bytes:
    """The XES document of a case table, UTF-8 encoded."""
    buf = io.StringIO()
    write_xes(table, buf)
    return buf.getvalue().encode("utf-8")
