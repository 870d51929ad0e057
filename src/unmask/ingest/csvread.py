"""Reading delimited text through the engine, keeping every row the reader could not split."""

from __future__ import annotations

import codecs

from unmask.errors import InputError
from unmask.ingest.sqlexpr import q


def read_header(path: str, delimiter: str = ",") -> list[str]:
    """The header fields, with a UTF-8 BOM removed; a clear error when there is none."""
    import csv
    import gzip

    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            first = fh.readline(1 << 20)
        header = next(csv.reader([first.decode("utf-8-sig").rstrip("\r\n")], delimiter=delimiter), None)
    except UnicodeDecodeError as exc:
        raise InputError(f"header is not UTF-8 text: {exc.reason}", file=path, row=0) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", file=path) from exc
    if not header:
        raise InputError("empty file: no header row", file=path, row=0)
    names, seen = [], set()
    for i, h in enumerate(header, start=1):
        name = h.strip().lstrip(codecs.BOM_UTF8.decode()) or f"column{i}"  # a blank header cell gets a name
        while name in seen:  # so does a repeated one
            name = f"{name}_{i}"
        seen.add(name)
        names.append(name)
    return names


MAX_LINE = 16 * 1024 * 1024  # a longer row is rejected with a reason; DuckDB sizes its read buffers by this


def scan_sql(path: str, columns: list[str], delimiter: str = ",") -> str:
    """A ``read_csv`` over every column as text, with rejects stored in ``_csv_rej``."""
    cols = ", ".join(f"{q(c)}: 'VARCHAR'" for c in columns)
    return (
        f"read_csv({q(str(path))}, auto_detect=false, header=true, columns={{{cols}}}, "
        f"delim={q(delimiter)}, quote='\"', escape='\"', store_rejects=true, "
        f"rejects_table='_csv_rej', rejects_scan='_csv_scan', rejects_limit=0, "
        f"max_line_size={MAX_LINE}, strict_mode=true, encoding='utf-8')"
    )


def numbered(eng, scan: str, columns: list[str] | None = None) -> str:
    """Read ``scan`` once into the temporary table ``_rawfile`` (in parallel) and return a relation
    over it with ``source_row`` (1, 2, ... in file order: a table keeps insertion order, so its
    ``rowid``s are consecutive in file order; inside a transaction they start at a large offset,
    hence the subtraction). A window ``row_number() OVER ()`` over the scan gives the same numbers
    but runs on one thread. ``columns`` keeps only those; the reader still checks every field of
    every row, so a malformed row is rejected all the same."""
    keep = ", ".join('"' + c.replace('"', '""') + '"' for c in columns) if columns else "*"
    eng.execute(f"CREATE OR REPLACE TEMPORARY TABLE _rawfile AS SELECT {keep} FROM {scan}")
    first = int(eng.scalar("SELECT coalesce(min(rowid), 0) FROM _rawfile"))
    return f"(SELECT rowid - {first} + 1 AS source_row, * FROM _rawfile)"


def reset_rejects(eng) -> None:
    eng.execute("DROP TABLE IF EXISTS _csv_rej")
    eng.execute("DROP TABLE IF EXISTS _csv_scan")


def collect_rejects(eng) -> list[dict]:
    """Rows the CSV reader rejected, one per row (its first error), as loader rejects."""
    try:
        table = eng.query(
            """SELECT line - 1 AS "row", arg_min(column_name, column_idx) AS "column",
                      arg_min(error_type || ': ' || error_message, column_idx) AS reason,
                      left(arg_min(csv_line, column_idx), 500) AS raw
               FROM _csv_rej GROUP BY line ORDER BY line"""
        )
    except Exception as exc:  # the reject table exists only once a scan ran
        if "_csv_rej" not in str(exc):
            raise
        return []
    return [
        {**r, "column": (r["column"] or "").strip('"') or None} for r in table.to_pylist()
    ]
