"""Property-based round trips for the parsers: whatever operators write comes back unchanged."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import archive_row, write_archive
from unmask.engines.duckdb_engine import DuckDBEngine
from unmask.ingest import ingest
from unmask.ingest import sqlexpr as X
from unmask.store import Case

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
               min_size=1, max_size=300)
TAG = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd")), min_size=1, max_size=20)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, min_size=1, max_size=5), tags=st.lists(TAG, max_size=4))
def test_archive_text_and_lists_round_trip(tmp_path_factory, texts, tags):
    tmp = tmp_path_factory.mktemp("prop")
    rows = [archive_row(tweetid=str(i + 1), userid="7", tweet_time="2019-05-05 05:05", tweet_text=t,
                        hashtags="[" + ", ".join(f"'{g}'" for g in tags) + "]") for i, t in enumerate(texts)]
    path = write_archive(tmp / "t.csv", rows)
    with Case(tmp / "c.duckdb") as case:
        (res,) = ingest(case, [path])
        assert res.rows_read == len(texts) == res.rows_loaded + res.rows_rejected
        got = case.engine.query("SELECT text, hashtags FROM posts ORDER BY CAST(post_id AS INTEGER)").to_pylist()
    assert [g["text"] for g in got] == texts
    assert all(g["hashtags"] == tags for g in got)


@settings(max_examples=50, deadline=None)
@given(items=st.lists(st.text(alphabet=st.characters(blacklist_characters="'\"\x00", blacklist_categories=("Cs",)),
                              min_size=1, max_size=15), max_size=6), style=st.sampled_from(["python", "json"]))
def test_bracket_lists_parse_both_styles(items, style):
    q = "'" if style == "python" else '"'
    literal = "[" + ", ".join(f"{q}{i}{q}" for i in items) + "]"
    eng = DuckDBEngine()
    try:
        got = eng.query(f"SELECT {X.bracket_list('$1')} AS l".replace("$1", X.q(literal))).column(0)[0].as_py()
    finally:
        eng.close()
    assert got == items
