"""A case: the canonical tables and every result derived from them, in one of two layouts.

- ``duckdb`` (the default): one DuckDB file holds everything.
- ``parquet``: a folder. The input tables (:data:`unmask.schema.INPUT_TABLES`) are Parquet datasets
  in it, partitioned hive-style by post kind (``posts/kind=retweet/…``), which Spark (or any Parquet
  reader) reads where they lie; ``case.duckdb`` in the folder holds the rest (accounts, provenance,
  rejects, results). The input tables are views over the datasets, so every command reads the
  same tables from either layout.
"""

from __future__ import annotations

import json
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from unmask import schema
from unmask.engines.duckdb_engine import DuckDBEngine
from unmask.errors import SchemaVersionError, UnmaskError


class Case:
    """An investigation's store.

    Parameters
    ----------
    path : str or Path
        The case: a DuckDB file, or a folder for the Parquet layout (created when missing).
    memory_limit : str
        Passed to the engine; heavy work spills to disk beyond it. The default (1 GB) leaves
        room in a 2 GB process for the Arrow results a trace hands back to Python.
    layout : {"duckdb", "parquet"} or None
        The layout of a new case. An existing case is opened in the layout it has (a folder is
        the Parquet layout); naming the other one is an error.
    """

    def __init__(self, path, memory_limit="1GB", read_only=False, layout=None):
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise UnmaskError(f"no case at {self.path}; create one with 'unmask ingest' or 'unmask run'")
        self.layout = case_layout(self.path, layout)
        db = self.path / "case.duckdb" if self.layout == "parquet" else self.path
        if read_only and not db.exists():
            raise UnmaskError(f"{self.path} is a folder but holds no case (no case.duckdb in it)")
        db.parent.mkdir(parents=True, exist_ok=True)
        self._pending: list[str] = []  # Parquet files written in the open transaction
        self._in_transaction = False
        self._inputs_written = False  # input rows appended in the open transaction
        self.engine = DuckDBEngine(db, memory_limit=memory_limit, read_only=read_only)
        if not read_only:
            self._ensure_schema()
        self._check_version()
        if self.layout == "parquet":
            self._refresh_views()

    def _ensure_schema(self):
        for ddl in schema.CORE_TABLES:
            if self.layout == "parquet" and ddl in schema.INPUT_DDL.values():
                continue
            self.engine.execute(ddl)
        if self.layout == "parquet":  # the shape of each input table, for a view before any file
            for name in schema.INPUT_TABLES:
                self.engine.execute(schema.input_ddl(name, _shape(name)))
        if self.engine.scalar("SELECT count(*) FROM meta WHERE key='schema_version'") == 0:
            self.engine.execute(
                "INSERT INTO meta VALUES ('schema_version', ?)", [str(schema.SCHEMA_VERSION)]
            )

    def _check_version(self):
        found = self.engine.scalar("SELECT value FROM meta WHERE key='schema_version'")
        if found is not None and int(found) != schema.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"case {self.path} has schema version {found}, this unmask reads version "
                f"{schema.SCHEMA_VERSION}: re-ingest the source files into a new case "
                f"(the provenance table lists them), or use the unmask release that wrote it"
            )

    @contextmanager
    def transaction(self):
        """All or nothing: an interrupted ingest leaves the case as it was (in the Parquet layout,
        the files it wrote are removed)."""
        self.engine.begin()
        self._pending = []
        self._in_transaction, self._inputs_written = True, False
        try:
            yield self
        except BaseException:
            self.engine.rollback()
            self._discard_pending()
            raise
        finally:
            self._in_transaction, self._inputs_written = False, False
        self.engine.commit()
        self._pending = []

    @contextmanager
    def reader(self):
        """An engine for long read-only work on the input tables (the traces): another connection to
        the case, outside the open transaction, with temporary tables of its own.

        DuckDB plans joins over temporary tables made inside a transaction without their statistics,
        and may pick a join order that multiplies rows: at 3M posts fast_retweet's pairs took 4.8 s
        inside the detect step's transaction and 0.15 s outside it (bench/RESULTS.md). The other
        connection sees what is committed, so where input rows were appended in the open transaction
        (an ingest and a detect in one transaction), this is the case's own engine."""
        if self._inputs_written:
            yield self.engine
            return
        eng = self.engine.session()
        try:
            self._refresh_views(eng)
            yield eng
        finally:
            eng.close()

    # -- the input tables, in either layout -------------------------------------------------

    def dataset(self, name: str) -> Path | None:
        """The Parquet dataset holding input table ``name`` (None in the DuckDB layout)."""
        return self.path / name if self.layout == "parquet" else None

    def append(self, name: str, sql: str) -> None:
        """Append the rows of ``sql`` (the table's columns, in order) to input table ``name``."""
        self._inputs_written = self._in_transaction
        if self.layout != "parquet":
            self.engine.execute(f"INSERT INTO {name} {sql}")
            return
        token = uuid.uuid4().hex[:12]
        where = self.dataset(name)
        where.mkdir(parents=True, exist_ok=True)
        self._pending.append(f"{name}/*/{token}_*.parquet")
        shape = self._shape_columns(name)
        # positional, as INSERT is, and cast to the table's own types
        typed = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in shape)
        sql = f"SELECT {typed} FROM ({sql}) AS _rows({', '.join(c for c, _ in shape)})"
        self.engine.execute(
            f"COPY ({sql}) TO {_literal(where)} (FORMAT PARQUET, PARTITION_BY ({schema.PARTITION_COLUMN}), "
            f"FILENAME_PATTERN '{token}_{{i}}', OVERWRITE_OR_IGNORE)")
        self._refresh_views()

    def _discard_pending(self) -> None:
        for pattern in self._pending:
            for f in self.path.glob(pattern):
                f.unlink()
        self._pending = []
        self._refresh_views()

    def _refresh_views(self, engine=None) -> None:
        """Point each input table's view at its dataset (its empty shape until it has a file), on
        ``engine`` (a connection to the case; the case's own by default)."""
        if self.layout != "parquet":
            return
        engine = engine or self.engine
        for name in schema.INPUT_TABLES:
            columns = [c for c, _ in self._shape_columns(name)]
            self.dataset(name).mkdir(parents=True, exist_ok=True)
            if any(self.dataset(name).glob("*/*.parquet")):
                pattern = _literal(self.dataset(name) / "*" / "*.parquet")
                source = (f"read_parquet({pattern}, hive_partitioning = true, "
                          f"hive_types = {{'{schema.PARTITION_COLUMN}': VARCHAR}})")
            else:
                source = _shape(name)
            engine.execute(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS "
                           f"SELECT {', '.join(columns)} FROM {source}")

    def _shape_columns(self, name: str) -> list[tuple[str, str]]:
        """(column, DuckDB type) of input table ``name``, in order, from its shape table."""
        rows = self.engine.query(f"SELECT column_name, data_type FROM information_schema.columns "
                                 f"WHERE table_catalog = current_database() AND table_schema = 'main' "
                                 f"AND table_name = '{_shape(name)}' ORDER BY ordinal_position").to_pylist()
        return [(r["column_name"], r["data_type"]) for r in rows]

    def write_dataset(self, name: str, where) -> Path:
        """Write input table ``name`` as a Parquet dataset at ``where`` in the Parquet layout's form
        (partitioned by post kind), for an engine that reads files (a case in the Parquet layout
        already has one: :meth:`dataset`)."""
        where = Path(where)
        if where.exists():
            shutil.rmtree(where)
        self.engine.execute(f"COPY (SELECT * FROM {name}) TO {_literal(where)} (FORMAT PARQUET, "
                            f"PARTITION_BY ({schema.PARTITION_COLUMN}), FILENAME_PATTERN 'part_{{i}}')")
        return where

    def table(self, name: str) -> pa.Table:
        return self.engine.query(f"SELECT * FROM {name}")

    def has_table(self, name: str) -> bool:
        return bool(
            self.engine.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            )
        )

    def count(self, name: str) -> int:
        return int(self.engine.scalar(f"SELECT count(*) FROM {name}"))

    def write_table(self, name: str, table: pa.Table) -> None:
        """Replace a derived table with an Arrow table."""
        self.engine.register("_incoming", table)
        self.engine.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _incoming")
        self.engine.unregister("_incoming")

    def set_meta(self, key: str, value) -> None:
        self.engine.execute("DELETE FROM meta WHERE key = ?", [key])
        self.engine.execute("INSERT INTO meta VALUES (?, ?)", [key, json.dumps(value, sort_keys=True)])

    def get_meta(self, key: str, default=None):
        raw = self.engine.scalar("SELECT value FROM meta WHERE key = ?", [key])
        return default if raw is None else json.loads(raw)

    def close(self):
        self.engine.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


LAYOUTS = ("duckdb", "parquet")


def case_layout(path, layout=None) -> str:
    """The layout of the case at ``path``: the one it has, or ``layout`` (default duckdb) when new."""
    path = Path(path)
    if layout is not None and layout not in LAYOUTS:
        raise UnmaskError(f"unknown case layout {layout!r}; choose one of {list(LAYOUTS)}")
    found = ("parquet" if path.is_dir() else "duckdb") if path.exists() else None
    if found and layout and found != layout:
        raise UnmaskError(f"{path} holds a case in the {found} layout, not {layout}: "
                          f"{'a folder' if found == 'parquet' else 'a file'} is the {found} layout")
    return found or layout or "duckdb"


def remove_case(path) -> None:
    """Delete the case at ``path`` in either layout (its file and write-ahead log, or its folder)."""
    path = Path(path)
    if path.is_dir():
        shutil.rmtree(path)
    else:
        for stale in (path, path.with_name(path.name + ".wal")):
            stale.unlink(missing_ok=True)


def _shape(name: str) -> str:
    return f"_shape_{name}"


def _literal(path) -> str:
    return "'" + str(Path(path).resolve()).replace("'", "''") + "'"
