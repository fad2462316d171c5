"""The case table every log reader produces, and how XES timestamps become UTC microseconds.

A case table is an Arrow table with one row per event: ``case_id`` (the XES trace's
``concept:name``), ``activity`` (the event's ``concept:name``), ``ts`` (``time:timestamp`` as
UTC microseconds), ``seq`` (position in the file, which orders events of equal time) and
``resource`` (``org:resource`` when present). Shared by the lxml reader (``xes``) and the
vectorised scanner (``xes_scan``), which import this module and not each other.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safar.errors import ValidationFailed
from safar.journeys.arrays import bools, ints, np_bools, np_ints

CASE_SCHEMA = pa.schema(
    [
        ("case_id", pa.string()),
        ("activity", pa.string()),
        ("ts", pa.int64()),
        ("seq", pa.int64()),
        ("resource", pa.string()),
    ]
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WS_TABLE = str.maketrans({"\t": " ", "\n": " "})
_STRICT_TS = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?$"
)
_ZONE = r"(Z|[+-][0-9]{2}:[0-9]{2})$"


def parse_timestamp(value: str, *, where: str) -> int:
    """ISO 8601 text to UTC microseconds; naive times are taken as UTC."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{where}: {value!r} is not an ISO 8601 timestamp", field=where
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def normalise_ws(s: str) -> str:
    """XML attribute-value normalisation of literal line ends, tabs and line feeds."""
    return s.replace("\r\n", "\n").replace("\r", "\n").translate(WS_TABLE)


def parse_timestamps(values: pa.Array, decoded: np.ndarray | None = None) -> np.ndarray:
    """ISO 8601 texts to UTC microseconds, exactly like ``xes.parse_timestamp`` one by one.

    Texts in the usual form are converted by an Arrow cast (zoned and naive ones apart);
    the rest, and any part the cast refuses, one by one (which also names a bad value).
    ``decoded`` marks texts already decoded as attribute values; the others are raw, so their
    tabs and line breaks are normalised first.
    """
    n = len(values)
    out = np.empty(n, dtype=np.int64)
    strict = np_bools(pc.match_substring_regex(values, _STRICT_TS))
    if strict.all():
        try:
            return np_ints(values.cast(pa.timestamp("us", "UTC")).cast(pa.int64()))
        except pa.ArrowInvalid:
            pass  # naive times among them, or a value the cast refuses
    zoned = np_bools(pc.match_substring_regex(values, _ZONE))
    for mask, typ in (
        (strict & zoned, pa.timestamp("us", "UTC")),
        (strict & ~zoned, pa.timestamp("us")),
    ):
        if mask.any():
            part = values.filter(bools(mask))
            try:
                out[mask] = np_ints(part.cast(typ).cast(pa.int64()))
            except pa.ArrowInvalid:
                strict = strict & ~mask
    rest = np.flatnonzero(~strict)
    if len(rest):
        strs = values.take(ints(rest)).to_pylist()
        raw = np.ones(len(rest), dtype=bool) if decoded is None else ~decoded[rest]
        out[rest] = [
            parse_timestamp(normalise_ws(t) if r else t, where="time:timestamp")
            for t, r in zip(strs, raw.tolist(), strict=True)
        ]
    return out


def fixed_timestamps(buf: np.ndarray, vs: np.ndarray, ve: np.ndarray) -> np.ndarray | None:
    """UTC microseconds of timestamps that all share one layout, read digit by digit from the
    bytes (``YYYY-MM-DDTHH:MM:SS``, then the same fraction length and the same kind of zone:
    none, ``Z`` or ``+HH:MM``); ``None`` when they do not, or any is not a valid time (the
    caller then parses them like ``parse_timestamp``, which names a bad one)."""
    if not len(vs):
        return None
    length = ve - vs
    n0 = int(length[0])
    if n0 < 19 or n0 > 32 or not bool(np.all(length == n0)):
        return None

    # One gather of the rows of a sliding-window view: a byte matrix, value by value.
    rows = np.lib.stride_tricks.sliding_window_view(buf, n0)[vs]

    def at(k: int) -> np.ndarray:
        col: np.ndarray = rows[:, k]
        return col

    def same(k: int, ch: str) -> bool:
        return bool(np.all(at(k) == ord(ch)))

    if not all(same(k, c) for k, c in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"))):
        return None
    last = at(n0 - 1)
    if bool(np.all(last == ord("Z"))):
        zone = 1
    elif n0 >= 25 and same(n0 - 3, ":") and bool(np.all((at(n0 - 6) == 43) | (at(n0 - 6) == 45))):
        zone = 6
    else:
        zone = 0
    frac = n0 - 19 - zone
    if frac == 1 or frac > 7 or (frac and not same(19, ".")):
        return None

    def num(ks: range) -> np.ndarray | None:
        d = rows[:, ks.start : ks.stop] - np.uint8(48)
        if not bool(np.all(d <= 9)):
            return None
        out = np.zeros(len(vs), dtype=np.int64)
        for k in range(len(ks)):
            out = out * 10 + d[:, k]
        return out

    parts = [num(range(a, b)) for a, b in ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))]
    sub = num(range(20, 19 + frac)) if frac else np.zeros(len(vs), dtype=np.int64)
    zh = num(range(n0 - 5, n0 - 3)) if zone == 6 else None
    zm = num(range(n0 - 2, n0)) if zone == 6 else None
    digits = [x for x in parts if x is not None]
    if len(digits) != 6 or sub is None or (zone == 6 and (zh is None or zm is None)):
        return None
    year, month, day, hour, minute, second = digits
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    dim = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month - 1, 0, 11)]
    dim = dim + ((month == 2) & leap)
    ok = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= dim)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    if zh is not None and zm is not None:
        ok &= (zh <= 23) & (zm <= 59)
    if not bool(np.all(ok)):
        return None
    # Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    us = (days * 86400 + hour * 3600 + minute * 60 + second) * 1_000_000
    if frac:
        us = us + sub * 10 ** (6 - (frac - 1))
    if zh is not None and zm is not None:
        sign = np.where(at(n0 - 6) == 45, -1, 1)
        us = us - sign * (zh * 3600 + zm * 60) * 1_000_000
    result: np.ndarray = np.asarray(us, dtype=np.int64)
    return result
