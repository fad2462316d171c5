"""Case logs (XES, CSV) into the event store as events, and stored events out as XES.

Each log event becomes a ``track`` event: the case is the ``userId`` (so identity resolution
and every per-customer analysis treat a case as one customer), the activity is the event name,
``time:timestamp`` its time, ``org:resource`` a property. Message ids are derived from the
file's case, position and content, so importing the same log twice stores it once, and events
of one case at the same instant keep the file's order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import pyarrow as pa

from safar.errors import ValidationFailed
from safar.events.messages import SegmentMessage, normalize
from safar.events.pipeline import Applier
from safar.events.rows import EventRow
from safar.journeys import queries as q
from safar.journeys.xes import write_xes
from safar.journeys.xes_schema import CASE_SCHEMA
from safar.kit.query import QueryEngine, run

BATCH = 5_000


@dataclass
class ImportSummary:
    events: int
    inserted: int
    duplicates: int
    cases: int

    def as_dict(self) -> dict[str, int]:
        return self.__dict__.copy()


def _message_id(case_id: str, seq: int, activity: str, ts: int) -> str:
    digest = hashlib.blake2b(f"{case_id}\x1f{seq}\x1f{activity}\x1f{ts}".encode(), digest_size=12)
    # Position first: events at the same instant keep the file's order (ties sort by id).
    return f"log-{seq:010d}-{digest.hexdigest()}"


def import_case_log(
    applier: Applier, table: pa.Table, *, workspace_id: str, channel: str = "other"
) -> ImportSummary:
    """Store a case table's events through the applier (dedupe, identity, event store)."""
    if table.num_rows == 0:
        raise ValidationFailed("file: the log has no events", field="file")
    now = datetime.now(UTC)
    cols = table.to_pydict()
    inserted = duplicates = 0
    rows: list[EventRow] = []
    for i in range(table.num_rows):
        case_id, act, ts, seq = (
            cols["case_id"][i],
            cols["activity"][i],
            cols["ts"][i],
            cols["seq"][i],
        )
        props: dict[str, Any] = {"case_id": case_id}
        if cols["resource"][i] is not None:
            props["resource"] = cols["resource"][i]
        msg = SegmentMessage(
            type="track",
            messageId=_message_id(case_id, seq, act, ts),
            userId=case_id,
            event=act,
            properties=props,
            timestamp=datetime.fromtimestamp(ts / 1_000_000, tz=UTC),
            channel=channel,
        )
        rows.append(normalize(msg, workspace_id=workspace_id, received_at=now, source="case-log"))
        if len(rows) >= BATCH:
            res = applier.apply(rows)
            inserted, duplicates, rows = inserted + res.inserted, duplicates + res.duplicates, []
    if rows:
        res = applier.apply(rows)
        inserted, duplicates = inserted + res.inserted, duplicates + res.duplicates
    return ImportSummary(
        events=table.num_rows,
        inserted=inserted,
        duplicates=duplicates,
        cases=len(set(cols["case_id"])),
    )


def export_xes(store: QueryEngine, src: q.Source, out: IO[str]) -> int:
    """Write a case source (e.g. a workspace's events) as XES; return the events written."""
    tbl = run(store, q.CaseEvents(src))
    table = pa.table(
        {
            "case_id": tbl.column("case_id").cast(pa.string()),
            "activity": tbl.column("activity").cast(pa.string()),
            "ts": tbl.column("ts").cast(pa.int64()),
            "seq": pa.array(range(tbl.num_rows), pa.int64()),
            "resource": pa.nulls(tbl.num_rows, pa.string()),
        },
        schema=CASE_SCHEMA,
    )
    return write_xes(table, out)
