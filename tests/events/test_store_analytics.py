"""The event store's analytics API: rendered queries, missing tables, streaming with a memory
cap, the DDL it owns, and the local engine over tables and files (real DuckDB and chdb)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from safar.errors import ValidationFailed
from safar.events.store import EventStore, analytics
from safar.kit.query import DIALECTS, Rendered, dialect_of, param


@pytest.fixture(params=DIALECTS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    s: EventStore
    if request.param == "duckdb":
        from safar.events.store.duckdb import DuckDBEventStore

        s = DuckDBEventStore(tmp_path / "events.duckdb")
    else:
        pytest.importorskip("chdb")
        from safar.events.store.clickhouse import ClickHouseEventStore

        s = ClickHouseEventStore(f"chdb://{tmp_path / 'ch'}")
    s.init()
    yield s
    s.close()


def test_identity_map_ddl_and_replace(store: EventStore) -> None:
    assert not analytics.has_table(store, "identity_map")
    analytics.ensure_identity_map(store)
    analytics.ensure_identity_map(store)  # idempotent
    assert analytics.has_table(store, "identity_map")
    assert analytics.identity_map_version(store, "ws_a") is None
    rows = pa.table({"id_type": ["user_id"], "id_value": ["u1"], "profile_id": ["p1"]})
    analytics.replace_identity_map(store, "ws_a", rows, "v1")
    analytics.replace_identity_map(store, "ws_b", rows, "v9")
    analytics.replace_identity_map(store, "ws_a", rows, "v2")  # replaces, never appends
    assert analytics.identity_map_version(store, "ws_a") == "v2"
    d = dialect_of(store)
    sql = (
        f"SELECT id_value, profile_id FROM {analytics.table_name(store, 'identity_map')} "
        f"WHERE workspace_id = {param(d, 'ws', 'String')}"
    )
    assert analytics.rows(store, Rendered(sql, {"ws": "ws_a"}))[1] == [("u1", "p1")]
    with pytest.raises(ValidationFailed) as err:
        analytics.replace_identity_map(store, "ws'; DROP TABLE events; --", rows, "v")
    assert err.value.field == "workspace_id"


def test_case_table_in_the_store(store: EventStore) -> None:
    table = pa.table(
        {"case_id": ["c1", "c1"], "activity": ["a", "b"], "ts": [1, 2], "seq": [0, 1],
         "resource": [None, "r"]}
    )  # fmt: skip
    name = analytics.create_case_table(store, "caselog", table)
    r = analytics.arrow(store, Rendered(f"SELECT activity FROM {name} ORDER BY seq"))
    assert r.column("activity").to_pylist() == ["a", "b"]


def test_missing_table_is_named_on_duckdb(tmp_path: Path) -> None:
    engine = analytics.LocalEngine(pa.table({"x": [1, 2, 3]}), "t")
    with pytest.raises(analytics.MissingTable):
        analytics.rows(engine, Rendered("SELECT * FROM nowhere"))
    engine.close()


def test_batches_stream_with_a_memory_cap_and_restore_it(tmp_path: Path) -> None:
    from safar.events.store.duckdb import DuckDBEventStore

    store = DuckDBEventStore(tmp_path / "e.duckdb", memory_limit="512MB")
    before = store.query("SELECT current_setting('memory_limit')")[1][0][0]
    seen = []
    for batch in analytics.batches(
        store, Rendered("SELECT range AS i FROM range(10)"), batch_rows=4, memory_limit="100MB"
    ):
        seen.append(store.query("SELECT current_setting('memory_limit')")[1][0][0])
        assert batch.num_rows <= 4
    assert seen and all(s != before for s in seen)  # capped while streaming
    assert store.query("SELECT current_setting('memory_limit')")[1][0][0] == before
    with pytest.raises(ValueError, match="memory_limit"):
        list(analytics.batches(store, Rendered("SELECT 1"), batch_rows=1, memory_limit="1; x"))
    store.close()
    plain = DuckDBEventStore(tmp_path / "f.duckdb")  # no limit configured: the default returns
    default = plain.query("SELECT current_setting('memory_limit')")[1][0][0]
    list(analytics.batches(plain, Rendered("SELECT 1"), batch_rows=1, memory_limit="100MB"))
    assert plain.query("SELECT current_setting('memory_limit')")[1][0][0] == default
    plain.close()


def test_files_and_expressions(tmp_path: Path) -> None:
    csv = tmp_path / "scores.csv"
    csv.write_text("score,late\n5,false\n1,true\n")
    table = analytics.read_table_file(csv)
    assert table.column("score").to_pylist() == [5, 1]
    out = analytics.evaluate(table, [("bad score", "score < 3"), ("x", '"late"')])
    assert out.column_names == ["bad score", "x"]
    assert out.column("bad score").to_pylist() == [False, True]
    with pytest.raises(ValidationFailed) as err:
        analytics.evaluate(table, [("y", "no_such_column + 1")])
    assert err.value.field == "factor"
    with pytest.raises(ValidationFailed, match="neither CSV nor Parquet"):
        (tmp_path / "scores.txt").write_text("a")
        analytics.read_table_file(tmp_path / "scores.txt")
