import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from unmask.errors import InputError
from unmask.ingest import ingest
from unmask.ingest.generic import auto_mapping
from unmask.store import Case


def _case(tmp_path):
    return Case(tmp_path / "c.duckdb")


def test_auto_mapping_is_used_and_reported(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text("post_id,author_id,timestamp,content,tags,links\n"
                    "a1,u1,1623881091,first post,x|y,https://a.com/1\n"
                    "a2,u2,1623881091500,second post,\"[\"\"z\"\"]\",\n"
                    "a3,u3,not a time,third,,\n", encoding="utf-8")
    with _case(tmp_path) as case:
        (res,) = ingest(case, [path], mapping={"hashtags": "tags", "urls": "links"})
        cols = res.mapping["columns"]
        assert cols["account_id"] == "author_id" and cols["created_at"] == "timestamp" and cols["text"] == "content"
        assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (3, 2, 1)
        assert res.rejects[0]["column"] == "time"
        posts = {p["post_id"]: p for p in case.table("posts").to_pylist()}
        assert posts["a1"]["hashtags"] == ["x", "y"] and posts["a1"]["urls"] == ["https://a.com/1"]
        assert posts["a2"]["hashtags"] == ["z"]
        assert str(posts["a1"]["created_at"]) == "2021-06-16 22:04:51"
        assert posts["a2"]["created_at"].microsecond == 500000  # epoch milliseconds detected by magnitude


def test_ambiguous_hints_are_not_guessed():
    mapping, notes = auto_mapping(["id", "tweet_id", "user_id", "time"], {})
    assert "post_id" not in mapping and any("post_id" in n for n in notes)
    assert mapping["account_id"] == "user_id"


def test_excel_serial_days_only_behind_the_flag(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("account_id,created_at,text\nu1,43466.5,noon on 2019-01-01\n")
    with _case(tmp_path) as case:
        (plain,) = ingest(case, [path])
        assert plain.rows_rejected == 1  # 43466 seconds after 1970 is outside the plausible range
        (excel,) = ingest(case, [path], time_mode="excel")
        assert excel.rows_loaded == 1
        assert str(case.table("posts").column("created_at")[0].as_py()) == "2019-01-01 12:00:00"


def test_clemson_style_retweets_get_a_text_key_and_ids_are_derived(tmp_path):
    table = pa.table({
        "author_id": ["1", "2", "3", "3"],
        "content": ["original words here", "RT @x: original words here", "RT @y: Original   words here", "solo"],
        "publish_date": ["10/1/2017 19:58", "10/1/2017 20:01", "10/1/2017 20:02", "10/1/2017 20:03"],
        "post_type": ["", "R", "R", ""], "retweet": ["0", "1", "1", "0"],
    })
    path = tmp_path / "tweets.parquet"
    pq.write_table(table, path)
    with _case(tmp_path) as case:
        (res,) = ingest(case, [path])
        assert res.rows_loaded == 4
        posts = case.table("posts").to_pylist()
        rts = [p for p in posts if p["kind"] == "retweet"]
        assert len(rts) == 2 and rts[0]["ref_post_id"] == rts[1]["ref_post_id"]
        assert rts[0]["ref_post_id"].startswith("text:")
        assert all(p["post_id"].startswith("derived:") for p in posts)
        (again,) = ingest(case, [path])
        assert case.count("posts") == 4 and again.rows_duplicate == 4


def test_jsonl_lists_and_bad_lines(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join([
        json.dumps({"id": "1", "user": "a", "date": "2020-05-01T10:00:00Z", "text": "hi", "hashtags": ["q", "r"]}),
        "[1, 2]",
        json.dumps({"id": "2", "user": "b", "date": "2020-05-01T10:00:05+02:00", "text": "yo"}),
    ]) + "\n")
    with _case(tmp_path) as case:
        (res,) = ingest(case, [path], mapping={"post_id": "id", "account_id": "user", "created_at": "date"})
        assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (3, 2, 1)
        posts = {p["post_id"]: p for p in case.table("posts").to_pylist()}
        assert posts["1"]["hashtags"] == ["q", "r"]
        assert str(posts["2"]["created_at"]) == "2020-05-01 08:00:05"


def test_missing_required_mapping_names_the_field(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("foo,bar\n1,2\n")
    with _case(tmp_path) as case, pytest.raises(InputError, match="account_id"):
        ingest(case, [path])
