"""Build tiny cases with known answers for the trace tests."""

import csv
from datetime import datetime, timedelta, timezone

from unmask.ingest import ingest
from unmask.store import Case

T0 = datetime(2020, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
COLUMNS = ["post_id", "account_id", "created_at", "text", "kind", "ref_post_id", "urls", "hashtags", "mentions"]


def post(pid, acc, seconds, text="", kind="original", ref="", urls=(), hashtags=(), mentions=()):
    when = (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {"post_id": pid, "account_id": acc, "created_at": when, "text": text, "kind": kind, "ref_post_id": ref,
            "urls": "|".join(urls), "hashtags": "|".join(hashtags), "mentions": "|".join(mentions)}


def make_case(tmp_path, rows) -> Case:
    path = tmp_path / "posts.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    case = Case(tmp_path / "c.duckdb")
    (res,) = ingest(case, [path], mapping={c: c for c in COLUMNS}, delimiter="|")
    assert res.rows_rejected == 0, res.rejects
    return case


def pairs(result):
    return {(r["account_a"], r["account_b"]): r["weight"] for r in result.edges.to_pylist()}
