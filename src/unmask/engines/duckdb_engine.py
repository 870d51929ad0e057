"""The embedded default engine: DuckDB, also the store of a case."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import weakref

import duckdb
import pyarrow as pa

from unmask.engines.base import Engine, register_engine

Error = duckdb.Error  # re-exported so callers can catch engine errors without importing duckdb


class DuckDBEngine(Engine):
    """DuckDB over a case file (or in memory), with a memory limit and spilling to disk.

    Parameters
    ----------
    path : str or None
        Database file; ``None`` means in memory.
    memory_limit : str
        DuckDB's memory limit; work beyond it spills to ``temp_directory``.
    threads : int or None
        Worker threads; ``None`` lets DuckDB choose.
    """

    name = "duckdb"
    # memory near one world's on a large case; every world at once on a small one (bench/RESULTS.md, stop 33)
    rhythm_pass_rows = 1_000_000

    def __init__(self, path=None, memory_limit="1GB", threads=None, read_only=False):
        self.path = path
        self.con = duckdb.connect(str(path) if path else ":memory:", read_only=read_only)
        self._temp = tempfile.mkdtemp(prefix="unmask-spill-")
        # the spill folder goes with the engine: on close, when it is collected, or when Python exits
        self._remove_temp = weakref.finalize(self, shutil.rmtree, self._temp, ignore_errors=True)
        self._memory_limit = memory_limit
        self.con.execute(f"SET memory_limit='{memory_limit}'")
        self.con.execute(f"SET temp_directory='{self._temp}'")
        if threads:
            self.con.execute(f"SET threads={int(threads)}")
        self._connection_settings()
        self._owner = True

    def _connection_settings(self):
        self.con.execute("SET TimeZone='UTC'")
        # progress is tracked (for the CLI bar, through query_progress) but never printed by DuckDB
        self.con.execute("SET enable_progress_bar=true")
        self.con.execute("SET enable_progress_bar_print=false")
        self.con.execute("SET progress_bar_time=0")

    def session(self) -> DuckDBEngine:
        """Another connection to the same database: it shares the memory limit and spill folder,
        reads what is committed, keeps temporary tables of its own and runs outside this
        connection's transaction. :meth:`close` closes only the connection."""
        other = object.__new__(type(self))
        other.path, other._temp, other._owner = self.path, self._temp, False
        other._spill_owner = self  # the spill folder lives while a session uses it
        other._memory_limit = self._memory_limit
        other.con = self.con.cursor()
        other._connection_settings()
        return other

    def register(self, name, table):
        self.con.register(name, table)

    def unregister(self, name):
        self.con.unregister(name)

    def query(self, sql, params=None) -> pa.Table:
        rel = self.con.sql(sql, params=params) if params else self.con.sql(sql)
        if rel is None:
            return pa.table({})
        fetch = getattr(rel, "to_arrow_table", None) or rel.arrow  # renamed in DuckDB 2
        return fetch()

    def query_batches(self, sql, rows):
        """Streams: DuckDB produces the batches as they are read."""
        reader = self.con.sql(sql).to_arrow_reader(int(rows))
        yield from reader

    def scalar(self, sql, params=None):
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def execute(self, sql, params=None):
        self.con.execute(sql, params or []).fetchall()  # DuckDB 2 wants every result finished

    def create_table(self, name, sql):
        self.execute(f"CREATE OR REPLACE TEMPORARY TABLE {name} AS {sql}")

    def create_reach(self, name, source, w):
        """Same result as the SQL range window, by an ASOF join: DuckDB's range frames cost about
        2 microseconds a row, while an ASOF join finds, for every action, the last action on its
        object at or before ``t + w`` in one sort-merge pass. Ties in time resolve to the highest
        rank, exactly as the range frame counts them."""
        self.create_table(name, f"""
            SELECT a.oid, a.acc, a.t, a.rn, a.n_acc, b.rn - a.rn AS n_within
            FROM {source} a ASOF JOIN (SELECT oid, t - {int(w)} AS ts, max(rn) AS rn FROM {source} GROUP BY oid, t) b
                 ON a.oid = b.oid AND a.t >= b.ts""")

    @contextlib.contextmanager
    def memory_at_least(self, limit_bytes):
        """Raises DuckDB's memory limit (a setting of the database, so every session sees it) for
        the context, then sets back the limit the engine was opened with."""
        now = self.scalar("SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'")
        raised = int(limit_bytes) > _bytes(now)
        if raised:
            self.con.execute(f"SET memory_limit='{int(limit_bytes) // 2**20}MiB'")
        try:
            yield self
        finally:
            if raised:
                self.con.execute(f"SET memory_limit='{self._memory_limit}'")

    def progress(self):
        """DuckDB's own estimate for the running statement (-1 when none runs); safe from another thread."""
        try:
            return float(self.con.query_progress())
        except (RuntimeError, AttributeError, duckdb.Error):  # closed connection, or a DuckDB without it
            return None

    def drop(self, name):
        self.execute(f"DROP TABLE IF EXISTS {name}")

    def position(self, table):
        # a stored table's row ids follow its insertion order; a view or a registered Arrow table has none
        stored = self.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = current_schema()",
                             [table])
        return "rowid" if stored else None

    def explode_range(self, expr):
        return f"unnest(range(1, ({expr}) + 1))"

    def explode(self, expr):
        return f"unnest({expr})"

    def regexp_replace_all(self, expr, pattern, repl):
        return f"regexp_replace({expr}, {pattern}, {repl}, 'g')"

    def sorted_join(self, expr, sep):
        return f"array_to_string(list_sort({expr}), {sep})"

    def lower_list(self, expr):
        return f"list_transform({expr}, lambda h: lower(h))"

    def list_len(self, expr):
        return f"len({expr})"

    def epoch_ms(self, expr):
        return f"epoch_ms({expr})"

    def begin(self):
        self.execute("BEGIN TRANSACTION")

    def commit(self):
        self.execute("COMMIT")

    def rollback(self):
        self.execute("ROLLBACK")

    def close(self):
        self.con.close()
        if self._owner:
            self._remove_temp()


def _bytes(size: str) -> int:
    """Bytes of a size as DuckDB prints it ("953.6 MiB", "4.0 GiB", "1.2 GB"); 0 for a form not
    known here (the limit is then raised, which is always safe)."""
    number, _, unit = str(size).strip().partition(" ")
    scale = {"": 1, "bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
             "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
    try:
        return int(float(number) * scale[unit])
    except (KeyError, ValueError):
        return 0


register_engine("duckdb", DuckDBEngine)
