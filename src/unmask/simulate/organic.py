"""The organic crowd: heavy-tailed activity, human rhythm, originals, retweets, replies, quotes."""

from __future__ import annotations

import numpy as np

from unmask.simulate import world
from unmask.simulate.generator import ORIGINAL, QUOTE, REPLY, RETWEET

ORGANIC_TAGS = ["news", "love", "music", "football", "photography", "travel", "tbt", "health", "tech", "art",
                "election", "economy", "climate", "food", "movies", "nba", "worldcup", "science", "books", "fashion"]


def organic_posts(w, budget: int):
    """Spread ``budget`` posts over the organic accounts by activity and return the original rows."""
    r = w.rng
    accs = w.organic
    act = np.array([w.acc.cols["activity"][i] for i in accs])
    counts = r.multinomial(budget, act / act.sum())
    who = np.repeat(accs, counts)
    t = w.sample_times(who)
    kind = r.choice(4, len(who), p=[0.55, 0.30, 0.12, 0.03])
    orig = kind == ORIGINAL
    if w.cfg.scheduler_share > 0:  # drawn only when asked for: the default world's files stay the same
        t = _scheduled(w, accs, who, t, orig)
    rows = _originals(w, who[orig], t[orig])
    w.organic_originals = rows
    w.organic_original_t = t[orig]
    _reactions(w, who[~orig], t[~orig], kind[~orig], rows, t[orig])
    return rows


QUARTER_MS = 15 * 60_000


def _scheduled(w, accs, who, t, orig):
    """The originals of ``scheduler_share`` of the organic accounts, moved to the nearest quarter
    hour, to the millisecond: a scheduling tool posts at the time its user picked. Reactions are
    drawn after this, so they still follow what they react to."""
    n = int(round(w.cfg.scheduler_share * len(accs)))
    users = w.rng.choice(accs, n, replace=False)
    moved = orig & np.isin(who, users)
    t = t.copy()
    t[moved] = (t[moved] + QUARTER_MS // 2) // QUARTER_MS * QUARTER_MS
    return t


def _originals(w, who, t):
    r = w.rng
    n = len(who)
    langs = w.langs_of(who)
    tag_p = np.array([1 / (i + 1) for i in range(len(ORGANIC_TAGS))])
    has_tag = r.random(n) < 0.2
    tags = np.empty(n, dtype=object)
    pick = r.choice(len(ORGANIC_TAGS), n, p=tag_p / tag_p.sum())
    for i in range(n):
        tags[i] = [ORGANIC_TAGS[pick[i]]] if has_tag[i] else []
    has_url = r.random(n) < w.cfg.link_share
    dom = r.choice(len(world.NEWS_DOMAINS), n)
    slug = r.integers(0, 2_000_000, n)
    urls = np.empty(n, dtype=object)
    for i in range(n):
        urls[i] = [f"https://{world.NEWS_DOMAINS[dom[i]]}/story/{slug[i]}"] if has_url[i] else []
    text = w.texts(langs)
    for i in np.nonzero(has_tag)[0]:
        text[i] = f"{text[i]} #{tags[i][0]}"
    return w.posts.add(who, t, ORIGINAL, text, hashtags=tags, urls=urls, lang=langs)


def pick_earlier(w, t_query, cand_rows, cand_t, horizon_ms=2 * 86_400_000):
    """For each query time, an earlier candidate within the horizon (recent and popular ones favoured).

    The candidates are sorted once per candidate set (operations ask one event at a time)."""
    key = (id(cand_rows), id(cand_t), len(cand_t))
    cache = w.__dict__.setdefault("_sorted_candidates", {})
    if key not in cache:
        order = np.argsort(cand_t, kind="stable")
        cache[key] = (cand_t, cand_rows, cand_t[order], cand_rows[order])
    ct, cr = cache[key][2], cache[key][3]
    hi = np.searchsorted(ct, t_query, side="left")
    lo = np.searchsorted(ct, t_query - horizon_ms, side="left")
    ok = hi > lo
    span = np.maximum(hi - lo, 1)
    # a power draw skews towards a small "hot" fraction of each window
    idx = lo + np.minimum((span * w.rng.random(len(t_query)) ** 3).astype(np.int64), span - 1)
    ref = np.where(ok, cr[np.minimum(idx, len(cr) - 1)] if len(cr) else -1, -1)
    return ref


def _reactions(w, who, t, kind, orig_rows, orig_t):
    ref = pick_earlier(w, t, orig_rows, orig_t)
    ok = ref >= 0
    who, t, kind, ref = who[ok], t[ok], kind[ok], ref[ok]
    add_reaction(w, who, t, kind, ref)


def add_reaction(w, who, t, kind, ref, text=None):
    """Retweets, replies or quotes of existing rows; retweet text is the original's, as platforms show it."""
    texts = w.posts.column("text")
    accs = w.posts.column("acc")
    handles = w.acc.cols["handle"]
    ids = w.acc_ids
    langs = w.langs_of(who)
    own = w.texts(langs) if text is None else text
    authors = accs[ref]
    handle = np.asarray(handles, dtype=object)[authors]
    source = texts[ref]
    out = np.empty(len(who), dtype=object)
    out[:] = [f"RT @{h}: {src}"[:280] if k == RETWEET else (f"@{h} {o}" if k == REPLY else o)
              for k, h, src, o in zip(np.asarray(kind).tolist(), handle, source, own)]
    mentions = np.empty(len(who), dtype=object)
    for i, (k, a) in enumerate(zip(np.asarray(kind).tolist(), ids[authors])):  # lists: numpy would stack them
        mentions[i] = [a] if k in (RETWEET, REPLY) else []
    w.posts.add(who, t, kind, out, ref=ref, mentions=mentions, lang=langs)


__all__ = ["organic_posts", "add_reaction", "pick_earlier", "QUOTE"]
