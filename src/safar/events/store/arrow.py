"""Build Arrow tables from normalised rows: the fast path into both engines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import pyarrow as pa

from safar.events.store import COLUMNS, JSON_COLUMNS, TIME_COLUMNS

SCHEMA = pa.schema(
    [
        pa.field(name, pa.timestamp("us", tz="UTC"))
        if name in TIME_COLUMNS
        else pa.field(name, pa.uint64())
        if name == "message_hash"
        else pa.field(name, pa.string())
        for name in COLUMNS
    ]
)


def rows_to_arrow(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """The rows as a table of ``SCHEMA``; any mapping with every column will do (``EventRow``)."""
    data: dict[str, list[Any]] = {}
    dumps = orjson.dumps
    for name in COLUMNS:
        if name in JSON_COLUMNS:
            data[name] = [dumps(r[name]).decode() for r in rows]
        else:
            data[name] = [r[name] for r in rows]
    return pa.Table.from_pydict(data, schema=SCHEMA)


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """Turn a stored row back into plain Python values (JSON parsed)."""
    for name in JSON_COLUMNS:
        value = row.get(name)
        if isinstance(value, str | bytes):
            row[name] = orjson.loads(value) if value else {}
    return row
