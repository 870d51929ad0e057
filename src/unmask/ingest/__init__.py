"""Every input format, and nothing else: sniffing, adapters and the loader.

``ingest(case, paths, ...)`` is the public entry point; adapters register in :data:`ADAPTERS`.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import zipfile
from pathlib import Path

from unmask.errors import InputError
from unmask.ingest import generic, io_archive, twarc2
from unmask.ingest.loader import IngestResult, load, sha256_of

ADAPTERS = {
    "io-archive": lambda path, name, **kw: io_archive.source(path, name),
    "twarc2": lambda path, name, **kw: twarc2.source(path, name),
    "csv": lambda path, name, **kw: generic.source(path, fmt="csv", display_name=name, **kw),
    "jsonl": lambda path, name, **kw: generic.source(path, fmt="jsonl", display_name=name, **kw),
    "parquet": lambda path, name, **kw: generic.source(path, fmt="parquet", display_name=name, **kw),
}


def sniff(path: str) -> str:
    """Pick an adapter from the file's name and first line."""
    p = str(path).lower()
    if p.endswith(".parquet"):
        return "parquet"
    opener = gzip.open if p.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline()
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from exc
    if first.lstrip().startswith("{"):
        return twarc2.detect(first) or "jsonl"
    if io_archive.detect(io_archive.csvread.read_header(path)):
        return "io-archive"
    return "csv"


def _expand(path: Path, workdir: str):
    """Zip members (as distributed by platforms) are ingested one by one; gzip CSVs decompress."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            for member in sorted(zf.namelist()):
                if member.endswith("/") or not member.lower().endswith((".csv", ".jsonl", ".json", ".parquet")):
                    continue
                yield Path(zf.extract(member, workdir)), f"{path}!{member}"
    elif path.suffix.lower() == ".gz":
        out = Path(workdir) / path.stem
        with gzip.open(path, "rb") as src, open(out, "wb") as dst:
            while block := src.read(1 << 22):
                dst.write(block)
        yield out, str(path)
    else:
        yield path, str(path)

INGEST_MEMORY_MAX = 4 * 2**30


def ingest_memory() -> int:
    """Bytes the engine may hold while files are staged: a quarter of the machine's memory, at
    most :data:`INGEST_MEMORY_MAX` (never below the case's own limit). Staging holds every column of
    a file as text, several times the size of the posts kept: at the case's 1 GB it spilled to disk,
    and a 3M-post archive took 34 s instead of 26 s (bench/RESULTS.md)."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # a platform without sysconf: keep the case's limit
        return 0
    return min(INGEST_MEMORY_MAX, ram // 4)


def ingest(case, paths, fmt: str | None = None, mapping: dict | None = None, const: dict | None = None,
           time_mode: str = "auto", delimiter: str | None = None, progress=None) -> list[IngestResult]:
    """Append files to a case, all in one transaction; returns one result per file."""
    from unmask import progress as prog

    results = []
    paths = list(map(Path, paths))
    for path in paths:
        if not path.exists():
            raise InputError("no such file", file=str(path))
    prog.start(progress, "ingest", len(paths), sum(estimate_rows(p) for p in paths), case.engine)
    try:
        with (tempfile.TemporaryDirectory(prefix="unmask-ingest-") as work,
              case.engine.memory_at_least(ingest_memory()), case.transaction()):
            for path in paths:
                first = len(results)  # this path's results (a zip gives one per member)
                for real, name in _expand(path, work):
                    chosen = fmt or sniff(str(real))
                    if chosen not in ADAPTERS:
                        raise InputError(f"unknown format {chosen!r}; choose one of {sorted(ADAPTERS)}", file=name)
                    kw = {}
                    if chosen in ("csv", "jsonl", "parquet"):
                        kw = dict(mapping=mapping, const=const, time_mode=time_mode, delimiter=delimiter)
                    src = ADAPTERS[chosen](str(real), name, **kw)
                    src.sha256 = sha256_of(path if path.suffix.lower() != ".zip" else real)
                    results.append(load(case, src))
                    if chosen in ("csv", "jsonl", "parquet"):
                        _note_missing_actions(case, results[-1])
                prog.advance(progress, sum(r.rows_read for r in results[first:]), results[first:])
    finally:
        prog.finish(progress)
    return results


def estimate_rows(path: Path) -> int:
    """Rows a file holds, for a progress bar: Parquet says so; text is sized by its first lines."""
    try:
        if path.is_dir():
            return 0
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        size = path.stat().st_size
        opener = gzip.open if path.suffix.lower() == ".gz" else open
        with opener(path, "rb") as fh:
            sample = fh.read(1 << 16)
        if path.suffix.lower() == ".gz":
            size *= 8  # a typical ratio for text; an estimate for the bar only
        lines = sample.count(b"\n")
        return int(size / max(len(sample), 1) * lines) if lines else 1
    except (OSError, ValueError, EOFError):
        return 0


def _note_missing_actions(case, result) -> None:
    """A mapped file that yields no retweets, replies or links says so: a user expects them."""
    if not result.rows_loaded or not result.mapping:
        return
    row = case.engine.query("""SELECT count(*) FILTER (WHERE kind = 'retweet') AS retweets,
                                      count(*) FILTER (WHERE kind = 'reply') AS replies,
                                      count(*) FILTER (WHERE len(urls) > 0) AS links
                               FROM posts WHERE source_file = ?""", [result.file]).to_pylist()[0]
    missing = [k for k in ("retweets", "replies", "links") if not row[k]]
    if missing:
        advice = {"retweets": "--map ref_post_id=COLUMN (the retweeted post) or --map kind=COLUMN",
                  "replies": "--map reply_to_post_id=COLUMN", "links": "--map urls=COLUMN"}
        result.mapping.setdefault("notes", []).append(
            f"no {', '.join(missing)} in this file as mapped, so the traces that need them will find nothing; "
            f"if the file has them: {'; '.join(advice[m] for m in missing)}")


__all__ = ["ingest", "sniff", "IngestResult", "ADAPTERS"]
