"""The analytics query interface: each query one object that renders its SQL per dialect.

A query object holds everything that defines it (source, steps, window, ...). ``render(d)``
gives the SQL of one dialect with its values as bound parameters (``Rendered``), and ``shape``
turns the engine's answer into the caller's result, so the API, the CLI and the dashboard run
one definition, and the rendered SQL can be compared with a snapshot per dialect. ``run``
executes a query on an engine; when the caller passes an ``index`` and the query can be served
from it (``Accelerated``), the index answers instead of the engine (the journeys' numpy index
is such an accelerator, chosen by that argument). Values are never formatted into SQL; only
identifiers the code generates (step numbers, table names of its own) are.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar, get_args, runtime_checkable

import pyarrow as pa

Dialect = Literal["duckdb", "clickhouse"]
DIALECTS: tuple[Dialect, ...] = get_args(Dialect)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
I_contra = TypeVar("I_contra", contravariant=True)


class QueryEngine(Protocol):
    """An engine that runs rendered SQL: the event store, or a local engine over a file."""

    engine_name: str

    def query(
        self, sql: str, params: dict[str, Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    def query_arrow(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table: ...


def dialect_of(engine: QueryEngine) -> Dialect:
    """The SQL dialect an engine speaks (its ``engine_name``)."""
    name = engine.engine_name
    if name == "duckdb":
        return "duckdb"
    if name == "clickhouse":
        return "clickhouse"
    raise ValueError(f"unsupported engine {name!r}")


@dataclass(frozen=True)
class Rendered:
    """SQL of one dialect and the values bound to its parameters."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def snapshot(self) -> str:
        """Stable text of the SQL and its parameters (what SQL snapshot tests compare)."""
        params = json.dumps(dict(self.params), sort_keys=True, indent=1, ensure_ascii=False)
        return f"{self.sql}\n-- params\n{params}\n"


class Query(ABC, Generic[T]):
    """A query answered as rows: ``shape(names, rows)`` builds the result."""

    @abstractmethod
    def render(self, d: Dialect) -> Rendered:
        """The SQL of dialect ``d`` with its bound parameters."""

    @abstractmethod
    def shape(self, names: list[str], rows: list[tuple[Any, ...]]) -> T:
        """The result, from the column names and rows the engine answered."""


class ArrowQuery(ABC, Generic[T]):
    """A query answered as an Arrow table (large or columnar results)."""

    @abstractmethod
    def render(self, d: Dialect) -> Rendered:
        """The SQL of dialect ``d`` with its bound parameters."""

    @abstractmethod
    def shape(self, table: pa.Table) -> T:
        """The result, from the Arrow table the engine answered."""


@runtime_checkable
class Accelerated(Protocol[I_contra, T_co]):
    """A query that an in-memory index can answer with the same result as its SQL."""

    def on_index(self, index: I_contra) -> T_co: ...


def run(engine: QueryEngine, query: Query[T] | ArrowQuery[T], *, index: object | None = None) -> T:
    """Answer ``query`` on ``engine``, or from ``index`` when one is given and the query can use it."""
    if index is not None and isinstance(query, Accelerated):
        result: T = query.on_index(index)
        return result
    r = query.render(dialect_of(engine))
    if isinstance(query, ArrowQuery):
        return query.shape(engine.query_arrow(r.sql, dict(r.params)))
    names, rows = engine.query(r.sql, dict(r.params))
    return query.shape(names, rows)


# --- dialect helpers --------------------------------------------------------------------------


def param(d: Dialect, name: str, ch_type: str) -> str:
    """A bound parameter in the dialect's syntax (DuckDB ``$name``, ClickHouse ``{name:Type}``)."""
    return f"${name}" if d == "duckdb" else f"{{{name}:{ch_type}}}"


def quantile(d: Dialect, q: float, expr: str) -> str:
    """Exact, linearly interpolated quantile (the same definition in both engines)."""
    if d == "duckdb":
        return f"quantile_cont({expr}, {q})"
    return f"quantileExactInclusive({q})({expr})"


def count_if(d: Dialect, cond: str) -> str:
    """Rows where ``cond`` holds."""
    return f"count(*) FILTER (WHERE {cond})" if d == "duckdb" else f"countIf({cond})"


def settings_clause(d: Dialect) -> str:
    """ClickHouse answers type defaults for LEFT JOIN misses unless ``join_use_nulls`` is on."""
    return "" if d == "duckdb" else " SETTINGS join_use_nulls = 1"


def in_list(d: Dialect, name: str, expr: str) -> str:
    """``expr`` is one of the values of the array parameter ``name``."""
    return (
        f"list_contains(${name}, {expr})"
        if d == "duckdb"
        else f"has({{{name}:Array(String)}}, {expr})"
    )
