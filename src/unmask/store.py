"""A case: one DuckDB file holding the canonical tables and every result derived from them."""

from __future__ import annotations

import json
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
        The case file (created when missing).
    memory_limit : str
        Passed to the engine; heavy work spills to disk beyond it. The default (1 GB) leaves
        room in a 2 GB process for the Arrow results a trace hands back to Python.
    """

    def __init__(self, path, memory_limit="1GB", read_only=False):
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise UnmaskError(f"no case at {self.path}; create one with 'unmask ingest' or 'unmask run'")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = DuckDBEngine(self.path, memory_limit=memory_limit, read_only=read_only)
        if not read_only:
            self._ensure_schema()
        self._check_version()

    def _ensure_schema(self):
        for ddl in schema.CORE_TABLES:
            self.engine.execute(ddl)
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
        """All or nothing: an interrupted ingest leaves the case as it was."""
        self.engine.begin()
        try:
            yield self
        except BaseException:
            self.engine.rollback()
            raise
        self.engine.commit()

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
