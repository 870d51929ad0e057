"""The notebook API: ``unmask.open(path)`` and a case's tables as Arrow, pandas or polars.

    import unmask
    case = unmask.open("iran-run/case.duckdb")
    case.operations()                       # a pyarrow.Table
    case.edges("co_retweet", as_="pandas")  # a pandas.DataFrame
    case.evidence(("acc1", "acc2"))

The case is opened read-only; every method returns a fresh table (nothing stays tied to the file).
"""

from __future__ import annotations

import pyarrow as pa

from unmask.errors import ParameterError, UnmaskError
from unmask.store import Case

FORMS = ("arrow", "pandas", "polars")


def _as(table: pa.Table, as_: str):
    if as_ == "arrow":
        return table
    if as_ == "pandas":
        return table.to_pandas()
    if as_ == "polars":
        try:
            import polars
        except ImportError as exc:
            raise UnmaskError("as_='polars' needs polars: pip install polars") from exc
        return polars.from_arrow(table)
    raise ParameterError(f"as_ must be one of {FORMS}, got {as_!r}")


class CaseView:
    """Read-only access to one case's tables."""

    def __init__(self, path):
        self.path = path
        self._case = Case(path, read_only=True)

    def _table(self, sql: str, params=None, as_="arrow", needs: str | None = None):
        if needs and not self._case.has_table(needs):
            raise UnmaskError(f"{self.path} has no {needs} table yet: run 'unmask detect --case {self.path}'")
        return _as(self._case.engine.query(sql, params), as_)

    def posts(self, as_="arrow"):
        """Every post (canonical columns)."""
        return self._table("SELECT * FROM posts ORDER BY created_at, post_id", as_=as_)

    def accounts(self, as_="arrow"):
        """Every account with its scores, network, cell, persona and state-media columns."""
        from unmask.export import accounts_table

        if not self._case.has_table("account_scores"):
            return self._table("SELECT * FROM accounts ORDER BY account_id", as_=as_)
        return _as(accounts_table(self._case), as_)

    def edges(self, trace: str | None = None, as_="arrow"):
        """Per-trace links with weight, expected, p and q (one trace, or all)."""
        if trace is None:
            return self._table("SELECT * FROM edges ORDER BY trace, p_value, account_a, account_b", as_=as_,
                               needs="edges")
        return self._table("SELECT * FROM edges WHERE trace = ? ORDER BY p_value, account_a, account_b", [trace],
                           as_=as_, needs="edges")

    def operations(self, as_="arrow"):
        """Coordinated networks, ranked, with their rationale, coordination p, covertness and verdict
        (``flagged``: covert or unassessable; ``open``: no sign of concealment)."""
        return self._table("SELECT * FROM operations ORDER BY rank", as_=as_, needs="operations")

    def groups(self, as_="arrow"):
        """Every network tested as a group: flagged and weak, with group p-, q- and selection p-values."""
        return self._table("SELECT * FROM groups ORDER BY cluster", as_=as_, needs="groups")

    def covertness(self, as_="arrow"):
        """Covertness of every coordinated network and cell (the second axis, beside significance):
        score, verdict (covert, open, unassessed), each factor's strength and evidence (JSON), the
        factors the data could not read, and a one-line summary."""
        return self._table("SELECT * FROM covertness ORDER BY level DESC, group_id", as_=as_, needs="covertness")

    def registration(self, as_="arrow"):
        """Accounts found by how they were registered (no coordinated action seen): kin of a flagged
        network and members of registration groups, each with its window, marks, chance and evidence."""
        return self._table("SELECT * FROM registration_kin ORDER BY network, account_id", as_=as_,
                           needs="registration_kin")

    def persona_types(self, as_="arrow"):
        """Persona types: cells of every flagged network grouped by content and presentation."""
        return self._table("SELECT * FROM persona_types ORDER BY persona_type", as_=as_, needs="persona_types")

    def evidence(self, pair, as_="arrow"):
        """The evidence rows (object, posts, time apart) behind the link between two accounts."""
        a, b = sorted(pair)
        return self._table("""SELECT * FROM edge_evidence WHERE account_a = ? AND account_b = ?
                              ORDER BY trace, abs(dt_ms), object, post_a, post_b""", [a, b], as_=as_,
                           needs="edge_evidence")

    def checks(self, as_="arrow"):
        """Persona and state-media checks, one row per account and check."""
        return self._table('SELECT * FROM checks ORDER BY account_id, "check"', as_=as_, needs="checks")

    def close(self):
        self._case.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<unmask case {self.path}>"


def open_case(path) -> CaseView:
    """Open a case file for reading in a notebook."""
    return CaseView(path)
