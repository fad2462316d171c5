"""Results kept while the event store is unchanged (``events.store.results``): every kind of
write through the store makes the next read compute again, on real DuckDB files; ClickHouse
(which other processes write to) caches nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from safar.events.messages import normalize, parse_message
from safar.events.rows import EventRow
from safar.events.store import EventStore, analytics, results
from safar.events.store.duckdb import DuckDBEventStore
from safar.text import repository as text_repo

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def row(i: int) -> EventRow:
    msg = {"type": "track", "event": "Order Completed", "userId": f"u{i}",
           "messageId": f"m{i}", "timestamp": NOW.isoformat()}  # fmt: skip
    return normalize(parse_message(msg), workspace_id="ws_a", received_at=NOW)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBEventStore]:
    s = DuckDBEventStore(tmp_path / "events.duckdb")
    s.init()
    yield s
    s.close()


def counted(store: EventStore) -> tuple[Callable[[], int], list[int]]:
    """A cached count of the workspace's events, and how often it really ran."""
    calls: list[int] = []

    def read() -> int:
        def compute() -> int:
            calls.append(1)
            return store.count("ws_a")

        return results.cached(store, ("count", "ws_a"), compute)

    return read, calls


WRITES: dict[str, Callable[[EventStore], object]] = {
    "events": lambda s: s.insert([row(99)]),
    "identity map": lambda s: (
        analytics.ensure_identity_map(s),
        analytics.replace_identity_map(
            s,
            "ws_a",
            pa.table({"id_type": ["user_id"], "id_value": ["u1"], "profile_id": ["p1"]}),
            "v1",
        ),
    ),
    "text analyses": lambda s: (
        text_repo.ensure_table(s),
        text_repo.erase_analyses(s, "ws_a", ["m1"]),
    ),
    "a delete through query()": lambda s: s.query("DELETE FROM events WHERE message_id = 'm1'"),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_makes_the_next_read_compute_again(store: DuckDBEventStore, write: str) -> None:
    store.insert([row(i) for i in range(3)])
    read, calls = counted(store)
    assert read() == 3 and read() == 3
    assert len(calls) == 1  # the second read was served from the cache
    store.query("SELECT count(*) FROM events")  # a read does not invalidate
    assert read() == 3 and len(calls) == 1
    WRITES[write](store)
    expected = store.count("ws_a")
    assert read() == expected
    assert len(calls) == 2


def test_results_are_copies_and_keys_are_separate(store: DuckDBEventStore) -> None:
    store.insert([row(1)])
    first = results.cached(store, "k", lambda: {"n": [1]})
    first["n"].append(2)  # a caller changing its result does not change the cache
    assert results.cached(store, "k", lambda: {"n": [0]}) == {"n": [1]}
    assert results.cached(store, "other", lambda: 5) == 5
    # Unhashable keys are simply not cached.
    assert results.cached(store, ("k", [1]), lambda: 7) == 7  # type: ignore[arg-type]


def test_a_store_opened_later_never_sees_another_stores_results(tmp_path: Path) -> None:
    a = DuckDBEventStore(tmp_path / "a.duckdb")
    a.init()
    assert results.cached(a, "k", lambda: "a") == "a"
    a.close()
    b = DuckDBEventStore(tmp_path / "b.duckdb")  # may reuse a's address
    b.init()
    try:
        assert results.cached(b, "k", lambda: "b") == "b"
    finally:
        b.close()


def test_clickhouse_caches_nothing(tmp_path: Path) -> None:
    pytest.importorskip("chdb")
    from safar.events.store.clickhouse import ClickHouseEventStore

    s = ClickHouseEventStore(f"chdb://{tmp_path / 'ch'}")
    s.init()
    try:
        assert s.generation() is None
        read, calls = counted(s)
        read()
        read()
        assert len(calls) == 2
    finally:
        s.close()


def test_ddl_that_changes_nothing_keeps_the_results(store: DuckDBEventStore) -> None:
    """``ensure_*`` runs ``CREATE TABLE IF NOT EXISTS`` before many reads: a table already
    there changes nothing, so it must not cost the next read its cached result."""
    store.insert([row(1)])
    analytics.ensure_identity_map(store)
    read, calls = counted(store)
    read()
    analytics.ensure_identity_map(store)
    read()
    assert len(calls) == 1
    store.command("CREATE TABLE IF NOT EXISTS extra (x INTEGER)")  # a new table: a change
    read()
    assert len(calls) == 2
