import zipfile

import pytest

from conftest import USER_COLUMNS, archive_row, write_archive
from unmask.errors import InputError
from unmask.ingest import ingest, sniff
from unmask.store import Case

SNOWFLAKE = "1024287229525598210"  # 2018-07-31 13:34:40.512 UTC


def _case(tmp_path):
    return Case(tmp_path / "c.duckdb")


def test_archive_quirks_are_handled(tmp_path):
    rows = [
        archive_row(tweetid=SNOWFLAKE, userid="111", user_screen_name="alice", tweet_time="2018-07-31 13:34",
                    tweet_text="line one\nline \"two\", with comma", hashtags="['Iran', 'news']",
                    urls="['https://presstv.ir/Detail/1?utm_source=x']", is_retweet="False"),
        archive_row(tweetid="5", userid="b4f1a2c9d0e8ffaa11223344556677889900aabbccddeeff0011223344556677",
                    tweet_time="2018-08-01 10:00", tweet_text="سلام دنیا — Привет мир", tweet_language="fa",
                    is_retweet="True", retweet_tweetid=SNOWFLAKE, retweet_userid="111"),
        archive_row(tweetid="1.01421E+18", userid="222", tweet_time="2018-08-01 10:00", tweet_text="mangled"),
        archive_row(tweetid="7", userid="333", tweet_time="yesterday-ish", tweet_text="bad time"),
        archive_row(tweetid="8", userid="333", tweet_time="08/02/2018 11:30", tweet_text="us date format",
                    in_reply_to_tweetid=SNOWFLAKE, in_reply_to_userid="111"),
    ]
    path = write_archive(tmp_path / "tweets.csv", rows, bom=True)
    with _case(tmp_path) as case:
        (res,) = ingest(case, [path])
        assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (5, 3, 2)
        reasons = {r["column"]: r["reason"] for r in res.rejects}
        assert "Excel" in reasons["post_id"]
        assert "unparsable time" in reasons["time"]
        posts = {p["post_id"]: p for p in case.table("posts").to_pylist()}
        first = posts[SNOWFLAKE]
        assert first["time_precision"] == "ms" and first["created_at"].microsecond != 0
        assert first["text"] == 'line one\nline "two", with comma'
        assert first["hashtags"] == ["Iran", "news"] and first["domains"] == ["presstv.ir"]
        rt = posts["5"]
        assert rt["kind"] == "retweet" and rt["ref_post_id"] == SNOWFLAKE and rt["text"].startswith("سلام")
        assert rt["time_precision"] == "minute"
        assert posts["8"]["kind"] == "reply" and str(posts["8"]["created_at"]) == "2018-08-02 11:30:00"
        accounts = {a["account_id"]: a for a in case.table("accounts").to_pylist()}
        assert accounts["b4f1a2c9d0e8ffaa11223344556677889900aabbccddeeff0011223344556677"]["is_hashed"] is True
        assert accounts["111"]["is_hashed"] is False
        assert case.count("rejects") == 2
        # each reject keeps the row as read (ids, time and the text), in row order
        raw = case.engine.query('SELECT "row", raw FROM rejects ORDER BY "row"').to_pylist()
        assert [r["row"] for r in raw] == [3, 4]
        assert raw[0]["raw"] == "1.01421E+18,222,2018-08-01 10:00,mangled"
        assert raw[1]["raw"] == "7,333,yesterday-ish,bad time"


def test_malformed_row_is_rejected_with_file_row_column(tmp_path):
    path = write_archive(tmp_path / "t.csv", [archive_row(tweetid="1", userid="1", tweet_time="2018-01-01 00:00")])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('"2","2","short row","oops\n')
    with _case(tmp_path) as case:
        (res,) = ingest(case, [path])
    assert res.rows_read == 2 and res.rows_loaded == 1 and res.rows_rejected == 1
    assert res.rejects[0]["row"] == 2 and res.rejects[0]["column"]


def test_reingest_does_not_duplicate(tmp_path):
    rows = [archive_row(tweetid=str(i), userid="9", tweet_time="2018-01-01 00:00", tweet_text=f"t{i}",
                        urls=f"['https://Example.com/{i}?utm_source=x', ' ']") for i in range(1, 6)]
    path = write_archive(tmp_path / "t.csv", rows + [rows[0]])  # post 1 twice in the file
    with _case(tmp_path) as case:
        ingest(case, [path])
        (again,) = ingest(case, [path])
        assert case.count("posts") == 5
        assert again.rows_loaded == 6 and again.rows_duplicate == 6
        assert case.count("provenance") == 2
        # co_link's link rows follow the posts: one per real URL, normalised, none doubled, blanks left out
        links = case.engine.query("SELECT post_id, link_key, t FROM post_links ORDER BY post_id").to_pylist()
        assert [(r["post_id"], r["link_key"]) for r in links] == [(str(i), f"example.com/{i}") for i in range(1, 6)]
        assert {r["t"] for r in links} == {1514764800000}


def test_users_file_and_zip(tmp_path):
    tweets = write_archive(tmp_path / "tweets.csv", [archive_row(tweetid="1", userid="42", tweet_time="2018-01-01 00:00")])
    users = write_archive(tmp_path / "users.csv", [{c: "" for c in USER_COLUMNS} | {
        "userid": "42", "user_screen_name": "bob", "user_reported_location": "Москва", "follower_count": "5",
        "following_count": "7", "account_creation_date": "2015-03-04"}], columns=USER_COLUMNS)
    z = tmp_path / "release.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(tweets, "tweets.csv")
        zf.write(users, "users.csv")
    with _case(tmp_path) as case:
        res = ingest(case, [z])
        assert [r.format for r in res] == ["io-archive", "io-archive-users"]
        acc = case.table("accounts").to_pylist()
        assert acc[0]["reported_location"] == "Москва" and acc[0]["followers"] == 5
        prov = case.table("provenance").to_pylist()
        assert all(p["sha256"] and len(p["sha256"]) == 64 for p in prov) and "release.zip!" in prov[0]["file"]


def test_interrupted_ingest_leaves_case_unchanged(tmp_path):
    good = write_archive(tmp_path / "t.csv", [archive_row(tweetid="1", userid="1", tweet_time="2018-01-01 00:00")])
    with _case(tmp_path) as case:
        with pytest.raises(InputError):
            ingest(case, [good, tmp_path / "missing.csv"])
        assert case.count("posts") == 0 and case.count("provenance") == 0


def test_sniff_and_non_archive_header(tmp_path):
    path = write_archive(tmp_path / "t.csv", [archive_row(tweetid="1", userid="1", tweet_time="2018-01-01 00:00")])
    assert sniff(path) == "io-archive"
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    assert sniff(other) == "csv"
    with _case(tmp_path) as case, pytest.raises(InputError, match="missing columns"):
        ingest(case, [other], fmt="io-archive")


def test_invalid_utf8_is_rejected_not_dropped(tmp_path):
    path = write_archive(tmp_path / "t.csv", [archive_row(tweetid="1", userid="1", tweet_time="2018-01-01 00:00")])
    with open(path, "ab") as fh:
        fh.write(b'"2","2","x","y","","","","1","1","2016-01-01","en","en","bad \xff\xfe bytes","2018-01-01 00:00",'
                 + b'"","","","","false","","","absent","absent","0","0","0","0","[]","[]","[]",""\n')
    with _case(tmp_path) as case:
        (res,) = ingest(case, [path])
    assert res.rows_read == res.rows_loaded + res.rows_rejected
    assert res.rows_loaded >= 1


def test_huge_fields_load_and_an_oversized_row_is_rejected_with_its_row(tmp_path):
    from unmask.ingest.csvread import MAX_LINE

    big = "ز" * 1_500_000  # 3 MB of Persian text: over DuckDB's default line limit, inside ours
    rows = [archive_row(tweetid="1", userid="111", tweet_time="2018-08-01 10:00", tweet_text=big),
            archive_row(tweetid="2", userid="111", tweet_time="2018-08-01 10:01", tweet_text="x" * (MAX_LINE + 10)),
            archive_row(tweetid="3", userid="222", tweet_time="2018-08-01 10:02", tweet_text="ordinary")]
    path = write_archive(tmp_path / "tweets.csv", rows)
    with _case(tmp_path) as case:
        (res,) = ingest(case, [path])
        assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (3, 2, 1)
        assert res.rejects[0]["row"] == 2
        texts = {p["post_id"]: p["text"] for p in case.table("posts").to_pylist()}
        assert texts["1"] == big and texts["3"] == "ordinary"


def test_staging_gets_more_memory_and_the_case_gets_its_own_back(tmp_path, monkeypatch):
    """Staging holds a file's every column as text: ingest raises the engine's memory limit to
    ingest_memory() while it loads, and sets back the case's own limit after, also on an error."""
    import unmask.ingest as ing

    limit = "SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'"
    seen = []
    real_load = ing.load

    def load(case, src):
        seen.append(case.engine.scalar(limit))
        if len(seen) > 1:
            raise InputError("stop here", file=src.file)
        return real_load(case, src)

    monkeypatch.setattr(ing, "load", load)
    monkeypatch.setattr(ing, "ingest_memory", lambda: 3 * 2**30)
    path = write_archive(tmp_path / "tweets.csv", [archive_row(tweetid="5", userid="1", tweet_time="2018-08-01 10:00",
                                                               tweet_text="hello", latitude="1.5", poll_choices="a|b")])
    with _case(tmp_path) as case:
        before = case.engine.scalar(limit)
        assert before.endswith("MiB") and float(before.split()[0]) < 1024
        (res,) = ingest(case, [path])
        assert res.rows_loaded == 1 and case.table("posts").column("text").to_pylist() == ["hello"]
        assert seen == ["3.0 GiB"] and case.engine.scalar(limit) == before
        with pytest.raises(InputError, match="stop here"):
            ingest(case, [path])
        assert seen[1] == "3.0 GiB" and case.engine.scalar(limit) == before
        with case.engine.memory_at_least(2**20):  # never lowered
            assert case.engine.scalar(limit) == before
        assert case.engine.scalar(limit) == before
    assert 0 < ing.ingest_memory() <= ing.INGEST_MEMORY_MAX
