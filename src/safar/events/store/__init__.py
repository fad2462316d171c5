"""Event store: one interface, two engines (DuckDB embedded, ClickHouse for scale).

Rows arrive normalised (see ``safar.events.messages.normalize``) and de-duplicated; the store
only appends and answers queries. Identity is resolved at read time: an event belongs to the
profile that owns its ``user_id`` (or, when it has none, its ``anonymous_id``), so merges and
unmerges never rewrite events.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from safar.config import Settings
from safar.errors import ValidationFailed
from safar.events.rows import EventRow

#: Column order shared by both engines: ``EventRow``'s keys. JSON columns hold serialised objects.
COLUMNS: tuple[str, ...] = (
    "workspace_id",
    "message_id",
    "message_hash",
    "type",
    "event",
    "name",
    "channel",
    "user_id",
    "anonymous_id",
    "group_id",
    "previous_id",
    "timestamp",
    "original_timestamp",
    "sent_at",
    "received_at",
    "properties",
    "traits",
    "context",
    "source",
)
JSON_COLUMNS = ("properties", "traits", "context")
TIME_COLUMNS = ("timestamp", "original_timestamp", "sent_at", "received_at")


@dataclass(slots=True)
class TimelineQuery:
    """Which events of one profile to list, newest first."""

    workspace_id: str
    user_ids: list[str]
    anonymous_ids: list[str]
    channels: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    cursor: str | None = None


def encode_cursor(ts_us: int, message_id: str) -> str:
    return base64.urlsafe_b64encode(f"{ts_us}|{message_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        ts, mid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return int(ts), mid
    except Exception:
        raise ValidationFailed("cursor: not a cursor this API returned", field="cursor") from None


class EventStore(Protocol):
    """What every engine provides. Analytics queries join this module as they are added."""

    engine_name: str

    def init(self) -> None: ...
    def query(
        self, sql: str, params: dict[str, Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run engine-specific SQL (DuckDB ``$name`` / ClickHouse ``{name:Type}`` parameters)."""
        ...

    def query_arrow(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table: ...
    def command(self, sql: str) -> None:
        """Run DDL or another statement without a result."""
        ...

    def insert_arrow(self, table_name: str, table: pa.Table) -> None: ...
    def insert(self, rows: list[EventRow]) -> int: ...
    def all_hashes(self) -> np.ndarray: ...
    def existing_message_ids(self, workspace_id: str, hashes: list[int]) -> set[str]: ...
    def timeline(self, q: TimelineQuery) -> tuple[list[dict[str, Any]], str | None]: ...
    def count(self, workspace_id: str) -> int: ...
    def generation(self) -> int | None:
        """A number that changes with every write through this object, unique in the process;
        None when other processes may write too (then nothing may be cached on it)."""
        ...

    def channel_counts(self, workspace_id: str) -> dict[str, int]: ...
    def daily_channel_counts(
        self,
        workspace_id: str,
        *,
        since: datetime,
        until: datetime,
        tz: str = "UTC",
        channel: str | None = None,
    ) -> list[tuple[date, str, int]]:
        """Events per local day (in ``tz``) and channel in [since, until), by day then channel;
        ``channel`` keeps one channel's events (so do the two below)."""
        ...

    def top_events(
        self,
        workspace_id: str,
        *,
        since: datetime,
        until: datetime,
        limit: int = 10,
        channel: str | None = None,
    ) -> list[tuple[str, int]]:
        """Most frequent event types in [since, until): the track name, else the message type."""
        ...

    def active_customers(
        self, workspace_id: str, *, since: datetime, until: datetime, channel: str | None = None
    ) -> int:
        """Distinct people seen in [since, until): user ids, plus anonymous ids without one."""
        ...

    def latest_events(self, workspace_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """The newest events of the workspace, newest first (timeline row shape)."""
        ...

    def close(self) -> None: ...


def open_event_store(settings: Settings) -> EventStore:
    """Open the configured engine (creating its schema)."""
    store: EventStore
    if settings.event_engine == "duckdb":
        from safar.events.store.duckdb import DuckDBEventStore

        store = DuckDBEventStore(
            settings.resolved_duckdb_path, memory_limit=settings.duckdb_memory_limit
        )
    else:
        from safar.events.store.clickhouse import ClickHouseEventStore

        store = ClickHouseEventStore(settings.resolved_clickhouse_dsn, settings.clickhouse_database)
    store.init()
    return store
