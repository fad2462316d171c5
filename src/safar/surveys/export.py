"""Export responses as CSV or Parquet: one row per response, one column per question."""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from safar.errors import ValidationFailed
from safar.surveys import service

FIXED = (
    "response_id",
    "survey_id",
    "invitation_id",
    "profile_id",
    "channel",
    "touchpoint",
    "language",
    "segment",
    "trigger_message_id",
    "complete",
    "started_at",
    "completed_at",
    "nps",
    "csat",
    "ces",
)
FORMATS = ("csv", "parquet")


def rows(
    session: Session, *, workspace_id: str, survey_id: str
) -> tuple[list[str], list[dict[str, Any]]]:
    survey = service.get_survey(session, workspace_id=workspace_id, survey_id=survey_id)
    qids = [q.id for q in service.definition_of(survey).questions]
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        batch = service.list_responses(
            session, workspace_id=workspace_id, survey_id=survey_id, limit=1000, offset=offset
        )
        for r in batch:
            row: dict[str, Any] = {
                "response_id": r.id,
                "survey_id": r.survey_id,
                "invitation_id": r.invitation_id,
                "profile_id": r.profile_id,
                "channel": r.channel,
                "touchpoint": r.touchpoint,
                "language": r.language,
                "segment": r.segment,
                "trigger_message_id": r.trigger_message_id,
                "complete": r.complete,
                "started_at": r.started_at.isoformat(),
                "completed_at": r.completed_at.isoformat() if r.completed_at else None,
                "nps": r.nps,
                "csat": r.csat,
                "ces": r.ces,
            }
            for q in qids:
                value = (r.answers or {}).get(q)
                row[f"q_{q}"] = "|".join(value) if isinstance(value, list) else value
            out.append(row)
        if len(batch) < 1000:
            break
        offset += 1000
    return [*FIXED, *(f"q_{q}" for q in qids)], out


def export(session: Session, *, workspace_id: str, survey_id: str, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValidationFailed("format: use csv or parquet", field="format")
    columns, data = rows(session, workspace_id=workspace_id, survey_id=survey_id)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns)
        writer.writeheader()
        writer.writerows(data)
        return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel reads Persian right
    types = {c: pa.string() for c in columns}
    types.update({"complete": pa.bool_(), "nps": pa.int64(), "csat": pa.int64(), "ces": pa.int64()})

    def cell(column: str, value: Any) -> Any:
        if value is None or types[column] != pa.string():
            return value
        return str(value)

    table = pa.Table.from_pylist(
        [{c: cell(c, d.get(c)) for c in columns} for d in data],
        schema=pa.schema([(c, types[c]) for c in columns]),
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
