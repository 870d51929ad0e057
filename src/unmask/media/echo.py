"""Echo lead-lag: accounts that repeat a state outlet's own post (its headline or text) within hours.

State outlets' accounts are recognised by their handle (the list's Twitter links) or by a profile
URL on a listed domain. Only used when such accounts are in the data.
"""

from __future__ import annotations

import re

import pyarrow as pa

from unmask.media.statemedia import registered_domain

WINDOW_HOURS = 6
_URL = re.compile(r"https?://\S+|@\w+|^rt\s+")


def _key(text):
    words = _URL.sub(" ", (text or "").lower()).split()
    return " ".join(words[:8]) if len(words) >= 5 else None


def run(case, media) -> pa.Table:
    """Rows ``account_id, outlet, state_post, echo_post, lag_s`` for echoes within the window."""
    acc = case.engine.query("SELECT account_id, handle, profile_url FROM accounts").to_pylist()
    outlets = {}
    for a in acc:
        hit = media["handles"].get((a["handle"] or "").lower())
        if not hit and a["profile_url"]:
            d = media["domains"].get(registered_domain(a["profile_url"].split("://", 1)[-1].split("/", 1)[0]))
            hit = {"outlet": d["outlet"], "country": d["country"]} if d else None
        if hit:
            outlets[a["account_id"]] = hit
    schema = pa.schema([("account_id", pa.string()), ("outlet", pa.string()), ("state_post", pa.string()),
                        ("echo_post", pa.string()), ("lag_s", pa.float64())])
    if not outlets:
        return schema.empty_table()
    case.engine.register("_outlets", pa.table({"account_id": list(outlets)}))
    state_posts = case.engine.query(f"""SELECT post_id, account_id, text, {case.engine.epoch_ms('created_at')} AS t
        FROM posts WHERE account_id IN (SELECT account_id FROM _outlets) AND kind <> 'retweet'""").to_pylist()
    by_key = {}
    for p in state_posts:
        k = _key(p["text"])
        if k:
            by_key.setdefault(k, []).append(p)
    others = case.engine.query(f"""SELECT post_id, account_id, text, {case.engine.epoch_ms('created_at')} AS t
        FROM posts WHERE account_id NOT IN (SELECT account_id FROM _outlets) AND kind <> 'retweet'
        ORDER BY post_id""").to_pylist()
    rows = []
    for p in others:
        for s in by_key.get(_key(p["text"]), []):
            lag = (p["t"] - s["t"]) / 1000.0
            if 0 <= lag <= WINDOW_HOURS * 3600:
                rows.append({"account_id": p["account_id"], "outlet": outlets[s["account_id"]]["outlet"],
                             "state_post": s["post_id"], "echo_post": p["post_id"], "lag_s": lag})
    return pa.Table.from_pylist(rows, schema=schema)
