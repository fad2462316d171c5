"""The record of refused messages: what the ingest endpoints did not store, and why.

A batch with a bad message stores the others and answers 200 (as Segment does), so the sender
never sees the refusal unless it reads the body; this record keeps a count per workspace and
field with the latest example, for the API and the dashboard.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from safar.db import utcnow
from safar.events.models import IngestRejection
from safar.events.repository import RejectionRepository

SAMPLE_BYTES = 2048
_POSITION = re.compile(r"^batch\[\d+\]\.?")


@dataclass(frozen=True)
class Refusal:
    """One refused message: its position in the request, the field and the reason."""

    index: int
    field: str
    reason: str
    message: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.reason}


def field_kind(field: str) -> str:
    """The field a refusal names, without the message's position in its batch."""
    return _POSITION.sub("", field) or "message"


def _sample(message: Any) -> str:
    try:
        text = orjson.dumps(message).decode()
    except TypeError:
        text = repr(message)
    return text if len(text) <= SAMPLE_BYTES else text[: SAMPLE_BYTES - 1] + "…"


def record(session: Session, *, workspace_id: str, source: str, refusals: list[Refusal]) -> None:
    """Count the refusals per field, keeping the latest example of each (one upsert per field)."""
    if not refusals:
        return
    counts = Counter(field_kind(r.field) for r in refusals)
    latest = {field_kind(r.field): r for r in refusals}
    now = utcnow()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for field, n in counts.items():
        last = latest[field]
        values = {
            "last_at": now,
            "last_reason": last.reason[:500],
            "last_sample": _sample(last.message),
            "last_source": source[:40],
        }
        stmt = insert(IngestRejection).values(
            workspace_id=workspace_id, field=field[:200], count=n, first_at=now, **values
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["workspace_id", "field"],
            set_={**values, "count": IngestRejection.count + n},
        )
        session.execute(stmt)


def summary(session: Session, *, workspace_id: str) -> list[IngestRejection]:
    """Every field refused in this workspace, most recent first."""
    return RejectionRepository(session).summary(workspace_id)


def as_dict(row: IngestRejection) -> dict[str, Any]:
    def iso(value: datetime) -> str:
        return value.isoformat().replace("+00:00", "Z")

    return {
        "field": row.field,
        "count": row.count,
        "first_at": iso(row.first_at),
        "last_at": iso(row.last_at),
        "last_reason": row.last_reason,
        "last_sample": row.last_sample,
        "last_source": row.last_source,
    }
