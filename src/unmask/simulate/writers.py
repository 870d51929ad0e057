"""Write simulated data as Twitter's archive (31 + 10 columns), twarc2 JSONL or generic CSV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from unmask.ingest.io_archive import TWEET_COLUMNS, USER_COLUMNS
from unmask.simulate.generator import KIND_NAMES

FORMATS = ("io-archive", "twarc2", "csv")


def _pylist(items):
    if len(items) == 1:  # the common case (a reaction's one mention): no generator
        return "['" + str(items[0]).replace("'", "") + "']"
    return "[" + ", ".join("'" + str(x).replace("'", "") + "'" for x in items) + "]" if items else "[]"


def _pylists(col) -> np.ndarray:
    """A list column in the archive's bracketed form (most lists are empty: no call for those)."""
    return np.array(["[]" if not x else _pylist(x) for x in col], dtype=object)


def _minutes(ms):
    return np.char.replace(np.asarray(ms, dtype="datetime64[ms]").astype("datetime64[m]").astype(str), "T", " ")


def _iso(ms):
    return np.char.add(np.asarray(ms, dtype="datetime64[ms]").astype(str), "Z")


def _dates(ms):
    return np.asarray(ms, dtype="datetime64[ms]").astype("datetime64[D]").astype(str)


def _write_csv(table: pa.Table, path: Path):
    opts = pacsv.WriteOptions(quoting_style="all_valid")
    pacsv.write_csv(table, str(path), write_options=opts)


def post_ids(data, rows=None) -> np.ndarray:
    """Post ids as strings (``rows``: which posts; all by default). The simulator keeps them as
    integers, formatted only when written."""
    ids = data.posts["post_id"] if rows is None else data.posts["post_id"][rows]
    return ids.astype(str).astype(object)


def _post_frame(data, lo=0, hi=None):
    """Posts ``lo`` to ``hi`` (all by default): author, kind, referenced post id and its author."""
    p, ids = data.posts, data.account_ids
    acc = p["acc"][lo:hi]
    kind = KIND_NAMES[p["kind"][lo:hi]]
    ref = p["ref"][lo:hi]
    has_ref = ref >= 0
    ref_idx = np.where(has_ref, ref, 0)
    ref_id = np.where(has_ref, post_ids(data, ref_idx), "")
    ref_acc = np.where(has_ref, ids[p["acc"][ref_idx]], "")
    return acc, kind, ref_id, ref_acc


CHUNK = 250_000  # rows built and written at a time: memory bounded by a chunk, not by the posts


def _strings(v) -> pa.Array:
    """A column as Arrow strings without a fixed-width unicode copy (numbers through Arrow's cast)."""
    v = np.asarray(v)
    if v.dtype.kind in "iuf":
        return pa.array(v).cast(pa.string())
    return pa.array(v, pa.string())  # object or fixed-width unicode: Arrow reads both as they are


def _archive_rows(data, lo, hi, created):
    """The 31 archive columns of posts ``lo`` to ``hi`` (``created``: every account's creation date)."""
    p, a, ids = data.posts, data.accounts, data.account_ids
    part = {k: v[lo:hi] for k, v in p.items()}
    acc, kind, ref_id, ref_acc = _post_frame(data, lo, hi)
    n = len(acc)
    empty = pa.repeat("", n)  # constant columns: repeated in Arrow, not converted value by value

    def when(k, v):
        return np.where(kind == k, v, "")

    cols = {
        "tweetid": part["post_id"].astype(np.int64), "userid": ids[acc], "user_display_name": a["name"][acc],
        "user_screen_name": a["handle"][acc], "user_reported_location": a["location"][acc],
        "user_profile_description": a["bio"][acc], "user_profile_url": empty,
        "follower_count": a["followers"][acc].astype(np.int64), "following_count": a["following"][acc].astype(np.int64),
        "account_creation_date": created[acc], "account_language": a["lang"][acc],
        "tweet_language": part["lang"], "tweet_text": part["text"], "tweet_time": _minutes(part["t"]),
        "tweet_client_name": a["client"][acc], "in_reply_to_userid": when("reply", ref_acc),
        "in_reply_to_tweetid": when("reply", ref_id), "quoted_tweet_tweetid": when("quote", ref_id),
        "is_retweet": np.where(kind == "retweet", "true", "false"), "retweet_userid": when("retweet", ref_acc),
        "retweet_tweetid": when("retweet", ref_id), "latitude": pa.repeat("absent", n),
        "longitude": pa.repeat("absent", n), "quote_count": pa.repeat("0", n), "reply_count": pa.repeat("0", n),
        "like_count": pa.repeat("0", n), "retweet_count": pa.repeat("0", n),
        "hashtags": _pylists(part["hashtags"]), "urls": _pylists(part["urls"]),
        "user_mentions": _pylists(part["mentions"]), "poll_choices": empty,
    }
    return pa.table({c: cols[c] if isinstance(cols[c], pa.Array) else _strings(cols[c]) for c in TWEET_COLUMNS})


def write_io_archive(data, out: Path):
    a, ids = data.accounts, data.account_ids
    n = len(data.posts["acc"])
    opts = pacsv.WriteOptions(quoting_style="all_valid")
    schema = pa.schema([(c, pa.string()) for c in TWEET_COLUMNS])
    created = _dates(a["created_ms"].astype(np.int64))  # once, not once a chunk
    with pacsv.CSVWriter(str(out / "tweets.csv"), schema, write_options=opts) as writer:
        for lo in range(0, max(n, 1), CHUNK):
            writer.write_table(_archive_rows(data, lo, min(n, lo + CHUNK), created))
    users = {
        "userid": ids, "user_display_name": a["name"], "user_screen_name": a["handle"],
        "user_reported_location": a["location"], "user_profile_description": a["bio"],
        "user_profile_url": np.full(len(ids), "", dtype=object), "follower_count": a["followers"].astype(str),
        "following_count": a["following"].astype(str), "account_creation_date": _dates(a["created_ms"].astype(np.int64)),
        "account_language": a["lang"],
    }
    _write_csv(pa.table({c: pa.array(np.asarray(users[c]).astype(str), pa.string()) for c in USER_COLUMNS}),
               out / "users.csv")
    return [out / "tweets.csv", out / "users.csv"]


def write_generic_csv(data, out: Path):
    p, a, ids = data.posts, data.accounts, data.account_ids
    acc, kind, ref_id, ref_acc = _post_frame(data)
    table = pa.table({k: _strings(v) for k, v in {
        "post_id": p["post_id"], "author": ids[acc], "timestamp": p["t"] // 1000,
        "content": p["text"], "kind": kind, "ref_post_id": ref_id,
        "links": np.array(["|".join(u) for u in p["urls"]], dtype=object),
        "tags": np.array(["|".join(h) for h in p["hashtags"]], dtype=object),
        "lang": p["lang"], "client": a["client"][acc], "location": a["location"][acc],
    }.items()})
    _write_csv(table, out / "posts.csv")
    return [out / "posts.csv"]


def write_twarc2(data, out: Path, page=100):
    p, a, ids = data.posts, data.accounts, data.account_ids
    acc, kind, ref_id, ref_acc = _post_frame(data)
    iso = _iso(p["t"])
    pids = post_ids(data)
    created = _iso(a["created_ms"].astype(np.int64))
    reftype = {"retweet": "retweeted", "reply": "replied_to", "quote": "quoted"}
    with open(out / "tweets.jsonl", "w", encoding="utf-8") as fh:
        for start in range(0, len(acc), page):
            tweets, users = [], {}
            for i in range(start, min(start + page, len(acc))):
                tw = {"id": pids[i], "author_id": ids[acc[i]], "created_at": iso[i], "text": p["text"][i],
                      "lang": p["lang"][i], "source": a["client"][acc[i]],
                      "entities": {"hashtags": [{"tag": h} for h in p["hashtags"][i]],
                                   "urls": [{"expanded_url": u} for u in p["urls"][i]],
                                   "mentions": [{"id": m} for m in p["mentions"][i]]}}
                if kind[i] != "original":
                    tw["referenced_tweets"] = [{"type": reftype[kind[i]], "id": ref_id[i]}]
                tweets.append(tw)
                users[acc[i]] = {"id": ids[acc[i]], "username": a["handle"][acc[i]], "name": a["name"][acc[i]],
                                 "description": a["bio"][acc[i]], "location": a["location"][acc[i]],
                                 "created_at": created[acc[i]],
                                 "public_metrics": {"followers_count": int(a["followers"][acc[i]]),
                                                    "following_count": int(a["following"][acc[i]])}}
            page_obj = {"data": tweets, "includes": {"users": [users[k] for k in sorted(users)]}}
            fh.write(json.dumps(page_obj, ensure_ascii=False, sort_keys=True) + "\n")
    return [out / "tweets.jsonl"]


def write_labels(data, out: Path):
    a, zones = data.accounts, data.clock.zones
    table = pa.table({
        "account_id": data.account_ids.astype(str), "label": a["label"].astype(str), "role": a["role"].astype(str),
        "operator_tz": np.array([zones[z] for z in a["zone"]]), "claimed_location": a["location"].astype(str),
        "claimed_role": a["claimed_role"].astype(str),
        # the operation or open campaign the account belongs to (empty for the organic crowd)
        "group": np.where(a["label"] != "organic", a["label"], a["group"]).astype(str),
    })
    _write_csv(table, out / "labels.csv")
    return out / "labels.csv"


def write(data, out, fmt="io-archive"):
    """Write ``data`` to folder ``out``; returns the data files and the labels file."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    writer = {"io-archive": write_io_archive, "twarc2": write_twarc2, "csv": write_generic_csv}[fmt]
    return writer(data, out), write_labels(data, out)


def describe(data) -> dict:
    """Summary statistics of a simulated dataset."""
    p, a = data.posts, data.accounts
    labels = a["label"]
    per_acc = np.bincount(p["acc"], minlength=len(labels))
    org = labels == "organic"
    kinds = {k: int((KIND_NAMES[p["kind"]] == k).sum()) for k in KIND_NAMES}
    ops = {}
    for name in sorted(set(labels[~org])):
        m = labels == name
        ops[name] = {"accounts": int(m.sum()), "posts": int(per_acc[m].sum()),
                     "operator_tz": data.clock.zones[int(a["zone"][m][0])]}
    return {
        "posts": int(len(p["t"])), "accounts": int(len(labels)), "organic_accounts": int(org.sum()),
        "operation_accounts": int((~org).sum()), "kinds": kinds,
        "roles": {r: int((a["role"] == r).sum()) for r in sorted(set(a["role"]))},
        "posts_per_account_p50_p90_max": [int(np.percentile(per_acc, 50)), int(np.percentile(per_acc, 90)),
                                           int(per_acc.max())],
        "period": [str(np.datetime64(int(p["t"].min()), "ms")), str(np.datetime64(int(p["t"].max()), "ms"))],
        "operations": ops,
    }
