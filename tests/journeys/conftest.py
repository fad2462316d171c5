"""Fixtures of the journeys tests: events written straight into either engine, shared data."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pytest

from safar.events.store import COLUMNS
from safar.events.store.arrow import SCHEMA

BASE_US = 1_700_000_000_000_000


def events_table(
    workspace_id: str,
    events: list[tuple[str, str, int]],
    *,
    anonymous: bool = False,
    channel: str = "web",
) -> pa.Table:
    """Arrow rows of the ``events`` table from ``(customer, event name, seconds)`` triples."""
    n = len(events)
    data: dict[str, list[object]] = {c: [None] * n for c in COLUMNS}
    for i, (cust, name, sec) in enumerate(events):
        mid = f"m{i:07d}"
        data["workspace_id"][i] = workspace_id
        data["message_id"][i] = mid
        data["message_hash"][i] = int.from_bytes(
            hashlib.blake2b(mid.encode(), digest_size=8).digest()
        )
        data["type"][i] = "track"
        data["event"][i] = name
        data["channel"][i] = channel
        data["anonymous_id" if anonymous else "user_id"][i] = cust
        data["timestamp"][i] = BASE_US + sec * 1_000_000
        data["received_at"][i] = BASE_US + sec * 1_000_000
        data["properties"][i] = "{}"
        data["traits"][i] = "{}"
        data["context"][i] = "{}"
    return pa.Table.from_pydict(data, schema=SCHEMA)


def shared_data_dir() -> Path | None:
    raw = os.environ.get("SAFAR_SHARED_DATA_DIR")
    path = Path(raw) if raw else Path("/work/shared/data")
    return path if path.exists() else None


@pytest.fixture
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("shared data dir not available (set SAFAR_SHARED_DATA_DIR)")
    return path
