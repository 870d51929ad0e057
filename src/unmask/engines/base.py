"""The small interface every engine implements, and the registry of engines."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from typing import Callable

import pyarrow as pa

_ENGINES: dict[str, Callable[..., "Engine"]] = {}


class Engine(ABC):
    """Runs SQL over Arrow tables.

    Dialect differences are confined to the few helper methods below, so that a
    trace's SQL text is the same on every engine.
    """

    name: str = "abstract"
    #: Rows of the candidates' actions in one pass of the rhythm null's shifted worlds (see
    #: :func:`unmask.traces.base.rhythm_null`); None puts every world in one pass.
    rhythm_pass_rows: int | None = None

    @abstractmethod
    def register(self, name: str, table: pa.Table) -> None:
        """Expose an Arrow table as a view called ``name``."""

    def unregister(self, name: str) -> None:
        """Forget a view made by :meth:`register`."""
        self.execute(f"DROP VIEW IF EXISTS {name}")

    def register_dataset(self, name: str, location: str, schema: pa.Schema) -> None:
        """Expose a Parquet dataset (hive-partitioned, as a case's Parquet layout writes it) as a
        view called ``name`` with ``schema``'s columns, in order and of its types. An engine that
        reads files itself (Spark) reads it where it lies; this default loads it through Arrow."""
        import pyarrow.dataset as ds

        table = ds.dataset(str(location), format="parquet", partitioning="hive").to_table()
        self.register(name, table.select(schema.names).cast(schema))

    def size_for(self, posts: int) -> None:
        """Told the case's size (posts) before a run, so that an engine can size itself (Spark's
        shuffle partitions). Nothing by default."""

    @abstractmethod
    def query(self, sql: str) -> pa.Table:
        """Run a query and return its result as an Arrow table."""

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing."""

    def scalar(self, sql: str):
        """The first column of a query's first row (None for no row)."""
        t = self.query(sql)
        return t.column(0)[0].as_py() if t.num_rows else None

    def fetch(self, sql: str) -> pa.Table:
        """:meth:`query` for a result that may be large (a trace's edges, its coded posts): the
        same here; an engine may bring it back by a way that spares its memory (SparkEngine: through
        files). Row order is kept."""
        return self.query(sql)

    def query_batches(self, sql: str, rows: int):
        """Run a query and yield its result as Arrow record batches of about ``rows`` rows, so a
        large result need not sit in memory at once (this default fetches it whole first). Read
        the batches to the end before sending the engine another query (DuckDB streams them)."""
        yield from self.query(sql).to_batches(max_chunksize=rows)

    def create_table(self, name: str, sql: str) -> None:
        """Materialise ``sql`` as a temporary table called ``name``."""
        self.execute(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {sql}")

    def create_reach(self, name: str, source: str, w: int) -> None:
        """``source`` (oid, acc, t, n_acc, rn numbered by t within oid) plus ``n_within``: how
        many later actions on the same object fall within ``w`` ms.

        Plain SQL here; an engine may compute the same column faster (see DuckDBEngine).
        """
        self.create_table(name, f"""
            SELECT oid, acc, t, rn, n_acc,
                   count(*) OVER (PARTITION BY oid ORDER BY t
                                  RANGE BETWEEN UNBOUNDED PRECEDING AND {w} FOLLOWING) - rn AS n_within
            FROM {source}""")

    def drop(self, name: str) -> None:
        """Forget a temporary table made by :meth:`create_table`."""
        self.execute(f"DROP VIEW IF EXISTS {name}")

    def position(self, table: str) -> str | None:
        """An expression for a row's position in ``table``'s stored order, where the engine keeps one
        for that table (a table written from a sorted query keeps that order); None where it does not."""
        return None

    @abstractmethod
    def explode_range(self, expr: str) -> str:
        """SQL expression yielding one row per integer 1..expr (expr >= 1)."""

    @abstractmethod
    def explode(self, expr: str) -> str:
        """SQL expression yielding one row per element of a list column."""

    @abstractmethod
    def regexp_replace_all(self, expr: str, pattern: str, repl: str) -> str:
        """Replace every match of ``pattern`` (a SQL literal) in ``expr``."""

    @abstractmethod
    def sorted_join(self, expr: str, sep: str) -> str:
        """Sort a list of strings and join it with ``sep`` (a SQL literal)."""

    @abstractmethod
    def lower_list(self, expr: str) -> str:
        """Lower-case every string in a list column."""

    @abstractmethod
    def list_len(self, expr: str) -> str:
        """Number of elements of a list column."""

    @abstractmethod
    def epoch_ms(self, expr: str) -> str:
        """SQL expression turning a timestamp into epoch milliseconds (BIGINT)."""

    def memory_at_least(self, limit_bytes: int):
        """A context in which the engine may hold ``limit_bytes`` in memory before it spills, where
        its limit is lower (an engine without a limit of its own ignores it)."""
        return contextlib.nullcontext()

    def progress(self) -> float | None:
        """Percent done of the statement running now, if the engine can tell (else None)."""
        return None

    def close(self) -> None:
        """Release resources."""


def register_engine(name: str, factory: Callable[..., Engine]) -> None:
    """Register an engine factory; built-ins register the same way as plugins."""
    _ENGINES[name] = factory


def get_engine(name: str, **kwargs) -> Engine:
    """Build the engine registered as ``name``."""
    from unmask.engines import duckdb_engine, spark_engine  # noqa: F401  (registration)

    if name not in _ENGINES:
        from unmask.errors import ParameterError

        raise ParameterError(f"unknown engine {name!r}; choose one of {sorted(_ENGINES)}")
    return _ENGINES[name](**kwargs)
