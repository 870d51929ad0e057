"""The slow tier: hypothesis generates malformed tables and JSON Lines (10,000 cases in all).

Whatever the bytes, ingest either loads with exact row accounting (read = loaded + rejected, every
reject with its row and reason) or refuses the file with an InputError naming it. Nothing else.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unmask.errors import InputError
from unmask.ingest import ingest
from unmask.ingest.generic import _jsonl_table
from unmask.store import Case

pytestmark = pytest.mark.slow

CELL = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "NaN", "1.01421E+18", "2020-01-01", "2020-01-01T00:00:00Z", "1577836800", "-5", "True",
                     "['a', 'b']", '["x"]', "#ایران", "Привет", "\u200f\u202e", "RT @x: y", "a\nb", '"', ",,,"]))
HEADERS = st.lists(st.sampled_from(["post_id", "account_id", "created_at", "text", "kind", "ref_post_id", "urls",
                                    "hashtags", "lang", "junk", "id", "user_id", "timestamp"]),
                   min_size=1, max_size=7, unique=True)


def _csv_bytes(header, rows, cut):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow(r[:len(header)] if r else [])
    data = buf.getvalue().encode("utf-8", errors="replace")
    return data[:cut] if cut else data


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(header=HEADERS, rows=st.lists(st.lists(CELL, max_size=8), max_size=6), cut=st.integers(0, 400))
def test_malformed_csv_is_loaded_with_accounting_or_refused(tmp_path_factory, header, rows, cut):
    d = tmp_path_factory.mktemp("fz")
    path = d / "t.csv"
    path.write_bytes(_csv_bytes(header, rows, cut))
    with Case(d / "c.duckdb") as case:
        try:
            (res,) = ingest(case, [path], fmt="csv")
        except InputError as exc:
            assert "t.csv" in str(exc)
            return
        assert res.rows_read == res.rows_loaded + res.rows_rejected
        assert all(r["row"] is not None and r["reason"] for r in res.rejects)
        assert case.count("posts") == res.rows_loaded - res.rows_duplicate


LINE = st.one_of(
    st.dictionaries(st.sampled_from(["id", "author_id", "created_at", "text", "lang", "hashtags", "x"]),
                    st.one_of(st.none(), st.integers(), st.text(max_size=30), st.lists(st.text(max_size=5), max_size=3),
                              st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)),
                    max_size=6).map(json.dumps),
    st.text(max_size=60),
    st.sampled_from(["{", "[1,2]", "null", '{"id": 1', "\ufeff{}", "{}"]),
)


@settings(max_examples=8000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, max_size=8), raw_tail=st.binary(max_size=20))
def test_malformed_jsonl_lines_become_rejects_with_line_numbers(tmp_path_factory, lines, raw_tail):
    d = tmp_path_factory.mktemp("fj", numbered=True)
    path = d / "t.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-8", errors="replace") + raw_tail)
    table, rejects = _jsonl_table(str(path))
    objects = 0
    for i, raw in enumerate(path.read_bytes().split(b"\n")):
        raw = raw[3:] if i == 0 and raw.startswith(b"\xef\xbb\xbf") else raw
        try:
            objects += isinstance(json.loads(raw.decode("utf-8")), dict) if raw.strip() else 0
        except (UnicodeDecodeError, ValueError):
            pass
    rows = objects if "_empty" in table.column_names else table.num_rows  # '{}' lines carry no column
    assert rows == objects
    nonblank = sum(1 for i, x in enumerate(path.read_bytes().split(b"\n"))
                   if (x[3:] if i == 0 and x.startswith(b"\xef\xbb\xbf") else x).strip())
    assert rows + len(rejects) == nonblank
    assert all(isinstance(r["row"], int) and r["reason"] for r in rejects)
