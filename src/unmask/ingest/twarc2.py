"""Twitter API v2 JSONL as twarc2 writes it: response pages, or flattened tweets one per line."""

from __future__ import annotations

import json

import pyarrow as pa

from unmask.ingest.finish import RAW_COLUMNS
from unmask.ingest.jsonlines import iter_objects
from unmask.ingest.loader import RawSource

_REF_KIND = {"retweeted": "retweet", "quoted": "quote", "replied_to": "reply"}
_LISTS = ("urls", "hashtags", "mentions")


def raw_schema() -> pa.Schema:
    fields = []
    for c in RAW_COLUMNS:
        if c == "source_row":
            fields.append((c, pa.int64()))
        elif c in _LISTS:
            fields.append((c, pa.list_(pa.string())))
        else:
            fields.append((c, pa.string()))
    return pa.schema(fields)


def _s(v):
    return None if v is None else str(v)


def tweet_row(tw: dict, users: dict, tweets: dict, source_row: int, raw_line: str) -> dict:
    """One canonical raw row from a v2 tweet object and the page's includes."""
    ent = tw.get("entities") or {}
    refs = tw.get("referenced_tweets") or []
    kind, ref_id = "original", None
    for wanted in ("retweeted", "quoted", "replied_to"):  # a retweet of a reply is a retweet
        hit = next((r for r in refs if r.get("type") == wanted), None)
        if hit:
            kind, ref_id = _REF_KIND[wanted], _s(hit.get("id"))
            break
    ref = tweets.get(ref_id) or next((r for r in refs if _s(r.get("id")) == ref_id and "author_id" in r), {})
    ref_author = ref.get("author_id") or (tw.get("in_reply_to_user_id") if kind == "reply" else None)
    author = tw.get("author") or users.get(_s(tw.get("author_id"))) or {}
    metrics = author.get("public_metrics") or {}
    return {
        "source_row": source_row, "post_id": _s(tw.get("id")), "account_id": _s(tw.get("author_id")),
        "time_raw": tw.get("created_at"), "text": tw.get("text"), "lang": tw.get("lang"),
        "kind_raw": kind, "ref_post_id": ref_id, "ref_account_id": _s(ref_author),
        "urls": [u.get("unwound_url") or u.get("expanded_url") or u.get("url") for u in ent.get("urls", [])
                 if (u.get("unwound_url") or u.get("expanded_url") or u.get("url"))],
        "hashtags": [h.get("tag") for h in ent.get("hashtags", []) if h.get("tag")],
        "mentions": [_s(m.get("id") or m.get("username")) for m in ent.get("mentions", [])
                     if (m.get("id") or m.get("username"))],
        "client": tw.get("source"), "platform": "twitter",
        "handle": author.get("username"), "display_name": author.get("name"),
        "description": author.get("description"), "reported_location": author.get("location"),
        "profile_url": author.get("url"), "account_created_raw": author.get("created_at"),
        "followers_raw": _s(metrics.get("followers_count")),
        "following_raw": _s(metrics.get("following_count")), "account_language": None,
        "raw_line": raw_line[:500],
    }


def parse_lines(path: str):
    """Yield (rows, rejects) per line; a page line yields many rows.

    Rows are numbered by tweet in file order; a reject's row is the file line number.
    """
    n = 0
    for lineno, obj, bad in iter_objects(path):
        if bad:
            yield [], [bad]
            continue
        inc = obj.get("includes") or {}
        users = {_s(u.get("id")): u for u in inc.get("users", [])}
        tweets = {_s(t.get("id")): t for t in inc.get("tweets", [])}
        data = obj["data"] if isinstance(obj.get("data"), list) else [obj.get("data", obj)]
        rows = []
        for tw in data:
            n += 1
            rows.append(tweet_row(tw, users, tweets, n, json.dumps(tw, ensure_ascii=False)[:500]))
        yield rows, []


def detect(first_line: str) -> str | None:
    try:
        obj = json.loads(first_line)
    except json.JSONDecodeError:
        return None
    if isinstance(obj, dict) and (isinstance(obj.get("data"), list) or
                                  ("author_id" in obj and "text" in obj and "id" in obj)):
        return "twarc2"
    return None


def source(path: str, display_name: str | None = None) -> RawSource:
    def setup(eng):
        rows, rejects = [], []
        for r, bad in parse_lines(path):
            rows.extend(r)
            rejects.extend(bad)
        eng.register("_raw_arrow", pa.Table.from_pylist(rows, schema=raw_schema()))
        eng.create_table("_raw", "SELECT * FROM _raw_arrow")
        src.parser_rejects = rejects

    src = RawSource(file=display_name or str(path), format="twarc2", target="posts", setup=setup)
    return src
