import json

from unmask.ingest import ingest, sniff
from unmask.store import Case


def _page():
    return {
        "data": [
            {"id": "1408793491456409600", "author_id": "10", "created_at": "2021-06-26T14:08:11.000Z",
             "text": "RT @orig: hello world", "lang": "en",
             "referenced_tweets": [{"type": "retweeted", "id": "1408793000000000000"}],
             "entities": {"mentions": [{"username": "orig", "id": "20"}], "hashtags": [{"tag": "BLM"}]}},
            {"id": "1408793491456409601", "author_id": "11", "created_at": "2021-06-26T14:08:12.123Z",
             "text": "@orig reply", "lang": "en", "in_reply_to_user_id": "20",
             "referenced_tweets": [{"type": "replied_to", "id": "1408793000000000000"}],
             "entities": {"urls": [{"url": "https://t.co/x", "expanded_url": "https://example.org/a?utm_source=tw"}]}},
        ],
        "includes": {"users": [{"id": "10", "username": "u10", "name": "Ten", "location": "NYC",
                                "created_at": "2012-01-01T00:00:00.000Z",
                                "public_metrics": {"followers_count": 3, "following_count": 4}},
                               {"id": "11", "username": "u11", "name": "Eleven"}],
                     "tweets": [{"id": "1408793000000000000", "author_id": "20", "text": "hello world",
                                 "created_at": "2021-06-26T14:00:00.000Z"}]},
    }


def test_pages_resolve_includes_and_bad_lines_are_rejected(tmp_path):
    path = tmp_path / "tweets.jsonl"
    path.write_text(json.dumps(_page()) + "\n{not json\n" + json.dumps(
        {"id": "5", "author_id": "12", "created_at": "2021-06-26T14:09:00.000Z", "text": "flat one"}) + "\n")
    assert sniff(path) == "twarc2"
    with Case(tmp_path / "c.duckdb") as case:
        (res,) = ingest(case, [path])
        assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (4, 3, 1)
        assert res.rejects[0]["row"] == 2 and "invalid JSON" in res.rejects[0]["reason"]
        posts = {p["post_id"]: p for p in case.table("posts").to_pylist()}
        rt = posts["1408793491456409600"]
        assert rt["kind"] == "retweet" and rt["ref_account_id"] == "20" and rt["hashtags"] == ["BLM"]
        reply = posts["1408793491456409601"]
        assert reply["kind"] == "reply" and reply["urls"] == ["https://example.org/a?utm_source=tw"]
        assert reply["created_at"].microsecond == 123000
        acc = {a["account_id"]: a for a in case.table("accounts").to_pylist()}
        assert acc["10"]["handle"] == "u10" and acc["10"]["followers"] == 3


def test_a_line_that_is_not_utf8_is_rejected_not_repaired(tmp_path):
    path = tmp_path / "t.jsonl"
    good = json.dumps({"id": "1", "author_id": "2", "created_at": "2021-06-26T14:09:00.000Z", "text": "ok"})
    path.write_bytes(good.encode() + b"\n" + b'{"id": "3", "text": "bad \xff byte"}\n')
    with Case(tmp_path / "c.duckdb") as case:
        (res,) = ingest(case, [path])
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (2, 1, 1)
    assert res.rejects[0]["row"] == 2 and "UTF-8" in res.rejects[0]["reason"]
