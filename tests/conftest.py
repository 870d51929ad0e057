"""Shared fixtures: everything is made here or by the project's simulator; nothing from ../shared."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from unmask.ingest.io_archive import TWEET_COLUMNS, USER_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures"


def archive_row(**values) -> dict:
    row = {c: "" for c in TWEET_COLUMNS}
    row.update({"latitude": "absent", "longitude": "absent", "is_retweet": "false", "hashtags": "[]",
                "urls": "[]", "user_mentions": "[]", "follower_count": "10", "following_count": "20",
                "account_creation_date": "2016-01-02", "tweet_language": "en", "account_language": "en"})
    row.update(values)
    return row


def write_archive(path: Path, rows: list[dict], bom=False, columns=TWEET_COLUMNS) -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    path.write_text(("\ufeff" if bom else "") + buf.getvalue(), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sim_small(tmp_path_factory):
    """A small simulated world written in the archive format (deterministic)."""
    from unmask.simulate import SimConfig, simulate
    from unmask.simulate.writers import write

    out = tmp_path_factory.mktemp("sim")
    data = simulate(SimConfig(posts=20000, seed=3))
    files, labels = write(data, out)
    return {"data": data, "files": files, "labels": labels, "dir": out}


@pytest.fixture(scope="session")
def sim_run(sim_small, tmp_path_factory):
    """The whole pipeline over ``sim_small``."""
    from unmask import api

    out = tmp_path_factory.mktemp("run")
    result = api.run(sim_small["files"], out, seed=1)
    return {"out": out, "result": result, **sim_small}


def differing_rows(case, other_file, table):
    """Rows of ``table`` in ``case`` and in case file ``other_file`` not matched the other way: EXCEPT
    ALL both ways, so [0, 0] means the same multiset of rows (NaN equals NaN, as a value stored twice
    should)."""
    case.engine.execute(f"ATTACH IF NOT EXISTS '{other_file}' AS other (READ_ONLY)")
    return differing(case.engine, f"main.{table}", f"other.main.{table}")


def differing(engine, here, there):
    """Rows of relation ``here`` not in ``there`` and the other way (EXCEPT ALL both ways: [0, 0]
    is the same multiset of rows, NaN equal to NaN)."""
    return [engine.scalar(f"SELECT count(*) FROM (SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y})")
            for x, y in ((here, there), (there, here))]


__all__ = ["archive_row", "write_archive", "differing_rows", "differing", "USER_COLUMNS", "FIXTURES"]
