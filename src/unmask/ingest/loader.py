"""Load an adapter's raw relation into a case: one transaction, exact row accounting, provenance."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable

import pyarrow as pa

from unmask import __version__
from unmask.ingest import finish


@dataclass
class RawSource:
    """What an adapter hands to the loader.

    ``setup`` creates the ``_raw`` relation on the engine; ``parser_rejects`` are rows the
    reader itself could not split into fields (each a dict with row, column, reason, raw).
    """

    file: str
    format: str
    target: str  # 'posts' or 'accounts'
    setup: Callable[[object], None]
    mapping: dict = field(default_factory=dict)
    time_mode: str = "auto"
    snowflake: bool = True
    parser_rejects: list = field(default_factory=list)
    sha256: str | None = None
    derive_ids: bool = True  # False when the format always carries post ids
    collect: Callable[[object], list] | None = None  # reader rejects, known once the rows were read


@dataclass
class IngestResult:
    """Row accounting for one file: ``rows_read == rows_loaded + rows_rejected``."""

    file: str
    format: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_duplicate: int
    rejects: list
    mapping: dict

    def as_dict(self):
        return dict(self.__dict__)


def drop_raw(eng) -> None:
    """Forget the ``_raw`` relation of the file read before, whether the adapter made a view or a table."""
    for kind, catalog, column in (("VIEW", "duckdb_views()", "view_name"), ("TABLE", "duckdb_tables()", "table_name")):
        if eng.scalar(f"SELECT count(*) FROM {catalog} WHERE {column} = '_raw' AND temporary"):
            eng.execute(f"DROP {kind} _raw")


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def load(case, src: RawSource) -> IngestResult:
    """Stage, validate and append ``src`` to ``case`` inside the caller's transaction."""
    eng = case.engine
    src.setup(eng)
    eng.create_table("_staged", finish.staged_sql(src.time_mode, src.snowflake))
    if src.collect:
        src.parser_rejects = src.collect(eng)
    ingest_id = int(eng.scalar("SELECT coalesce(max(ingest_id), 0) + 1 FROM provenance"))
    n_good = int(eng.scalar("SELECT count(*) FROM _staged WHERE reject_reason IS NULL"))
    n_bad = int(eng.scalar("SELECT count(*) FROM _staged WHERE reject_reason IS NOT NULL"))
    duplicates = _append_posts(case, src.file, src.derive_ids) if src.target == "posts" else 0
    _merge_accounts(eng)
    if n_bad:
        eng.execute(f"INSERT INTO rejects SELECT {ingest_id}, * FROM ({finish.rejects_sql(src.file)})")
    if src.parser_rejects:
        table = pa.Table.from_pylist(
            [{"ingest_id": ingest_id, "file": src.file, **r} for r in src.parser_rejects],
            schema=pa.schema([("ingest_id", pa.int32()), ("file", pa.string()), ("row", pa.int64()),
                              ("column", pa.string()), ("reason", pa.string()), ("raw", pa.string())]),
        )
        eng.register("_parser_rejects", table)
        eng.execute("INSERT INTO rejects SELECT * FROM _parser_rejects")
        eng.unregister("_parser_rejects")
    rejected = n_bad + len(src.parser_rejects)
    result = IngestResult(
        file=src.file, format=src.format, rows_read=n_good + rejected, rows_loaded=n_good,
        rows_rejected=rejected, rows_duplicate=duplicates, rejects=[], mapping=src.mapping,
    )
    eng.execute(
        "INSERT INTO provenance VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?)",
        [ingest_id, src.file, src.sha256, src.format, json.dumps(src.mapping, sort_keys=True),
         result.rows_read, result.rows_loaded, result.rows_rejected, duplicates, __version__],
    )
    rows = eng.query(
        f'SELECT file, "row", "column", reason FROM rejects WHERE ingest_id = {ingest_id} '
        'ORDER BY "row" LIMIT 20'
    )
    result.rejects = rows.to_pylist()
    for name in ("_staged", "_new_posts", "_rawfile"):
        eng.execute(f"DROP TABLE IF EXISTS {name}")
    return result


def _append_posts(case, source_file, derive_ids=True) -> int:
    """Append new posts; a post already in the case (or twice in the file) is counted, not added.
    The rows go through :meth:`Case.append`, into a table or the Parquet layout's datasets."""
    eng = case.engine
    before = int(eng.scalar("SELECT count(*) FROM posts"))
    # a post id given twice in the file (derived ids are unique by construction)
    repeats = int(eng.scalar("SELECT count(post_id) - count(DISTINCT post_id) FROM _staged WHERE reject_reason IS NULL"))
    if not before and not repeats:  # the first file of a case: every good row is a new post, in one pass
        case.append("posts", finish.posts_sql(eng, source_file, derive_ids))
        case.append("post_links", finish.post_links_sql(eng, "posts"))
        return 0
    eng.create_table("_new_posts", finish.posts_sql(eng, source_file, derive_ids))
    repeats = int(eng.scalar("SELECT count(*) - count(DISTINCT post_id) FROM _new_posts"))
    source = "_new_posts" if not repeats else """(SELECT * EXCLUDE (rn) FROM (
            SELECT *, row_number() OVER (PARTITION BY post_id ORDER BY source_row) AS rn FROM _new_posts)
            WHERE rn = 1)"""
    anti = "" if not before else " WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.post_id = n.post_id)"
    added_rows = "_new_posts"
    if repeats or before:  # the posts to add are chosen once, for both tables
        added_rows = "_added_posts"
        eng.create_table(added_rows, f"SELECT * FROM {source} n{anti}")
    case.append("post_links", finish.post_links_sql(eng, added_rows))
    case.append("posts", f"SELECT * FROM {added_rows}")
    eng.drop("_added_posts")
    added = int(eng.scalar("SELECT count(*) FROM posts")) - before
    return int(eng.scalar("SELECT count(*) FROM _new_posts")) - added


def _merge_accounts(eng) -> None:
    """New profile fields win; fields the new file lacks keep what the case had."""
    eng.create_table("_new_accounts", finish.accounts_sql())
    cols = ("handle", "display_name", "description", "reported_location", "profile_url",
            "created_at", "followers", "following", "account_language", "is_hashed")
    merged = ", ".join(f"coalesce(n.{c}, o.{c}) AS {c}" for c in cols)
    eng.execute(
        f"""CREATE OR REPLACE TEMPORARY TABLE _merged AS
        SELECT n.account_id, {merged} FROM _new_accounts n LEFT JOIN accounts o USING (account_id)"""
    )
    eng.execute("DELETE FROM accounts WHERE account_id IN (SELECT account_id FROM _merged)")
    eng.execute("INSERT INTO accounts SELECT * FROM _merged")
    eng.execute("DROP TABLE IF EXISTS _merged")
    eng.execute("DROP TABLE IF EXISTS _new_accounts")
