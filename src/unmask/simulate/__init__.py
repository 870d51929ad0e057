"""A labelled simulator of organic activity and influence operations (demo, tests, benchmarks).

``simulate(SimConfig(...))`` returns a :class:`SimData`; :mod:`unmask.simulate.writers` writes
it in the archive, twarc2 or generic CSV format with ``labels.csv``.
"""

from __future__ import annotations

import numpy as np

from unmask.simulate.audiences import fan_posts, make_popular
from unmask.simulate.campaigns import campaign_posts, make_campaigns
from unmask.simulate.config import STYLES, SimConfig, knob_table
from unmask.simulate.generator import KIND_NAMES, SimData, World
from unmask.simulate.negatives import make_negative_accounts, negative_posts
from unmask.simulate.operations import make_operations, operation_posts
from unmask.simulate.organic import add_reaction, organic_posts, pick_earlier

TWITTER_EPOCH_MS = 1288834974657


def simulate(cfg: SimConfig) -> SimData:
    """Build the world for ``cfg``; deterministic for a given seed and knobs."""
    w = World(cfg)
    w.make_organic()
    make_negative_accounts(w)
    make_popular(w)
    make_operations(w)
    ids = w.rng.choice(np.int64(2) ** 40, len(w.acc), replace=False) + 10**12
    own = np.random.default_rng([cfg.seed, 5151])  # the open campaigns' stream: the rest stays as it was
    make_campaigns(w, own)
    ids = np.concatenate([ids, _more_ids(own, ids, len(w.acc) - len(ids))])
    w.acc_ids = np.array([str(i) for i in ids], dtype=object)
    w.pending = []
    op_budget = int(cfg.posts * cfg.op_share) if cfg.operations else 0
    organic_posts(w, max(10, int((cfg.posts - op_budget) * 0.5)))
    posts_acc = w.posts.column("acc")
    celeb = np.isin(posts_acc[w.organic_originals], w.celebrities)
    w.target_rows, w.target_t = w.organic_originals[celeb], w.organic_original_t[celeb]
    negative_posts(w)
    fan_posts(w)
    operation_posts(w, op_budget)
    # as many coordinated posts per account as an operation makes (in a world without operations, as
    # the default operations would)
    op_accounts = sum(len(op["active"]) for op in w.ops) or 6 * 25
    share = cfg.op_share if cfg.operations and cfg.op_share > 0 else 0.10
    room = cfg.posts - w.posts.n - sum(len(p[0]) for p in w.pending)
    campaign_posts(w, own, cfg.posts * share / op_accounts, room)
    pending = sum(len(p[0]) for p in w.pending)
    _top_up(w, cfg.posts - w.posts.n - pending)
    _flush(w)
    return _finish(w)


def _more_ids(rng, taken, n):
    """``n`` more account ids, none of them in ``taken``."""
    out, seen = [], set(taken.tolist())
    while len(out) < n:
        i = int(rng.integers(0, 2**40)) + 10**12
        if i not in seen:
            seen.add(i)
            out.append(i)
    return np.array(out, dtype=np.int64)


def _top_up(w, n):
    """Fill the remaining budget with organic reactions, so the total is what was asked for."""
    for _ in range(20):  # a draw before the first original has nothing to react to: draw again
        if n <= 0:
            return
        who = w.rng.choice(w.organic, n, p=_activity_p(w))
        t = w.sample_times(who)
        kind = w.rng.choice([1, 2, 3], n, p=[0.66, 0.27, 0.07])
        ref = pick_earlier(w, t, w.organic_originals, w.organic_original_t)
        keep = ref >= 0
        w.pending.append((who[keep], t[keep], kind[keep], ref[keep]))
        n -= int(keep.sum())


def _activity_p(w):
    a = np.array([w.acc.cols["activity"][i] for i in w.organic])
    return a / a.sum()


def _flush(w):
    if not w.pending:
        return
    who = np.concatenate([p[0] for p in w.pending])
    t = np.concatenate([p[1] for p in w.pending])
    kind = np.concatenate([np.broadcast_to(p[2], len(p[0])) for p in w.pending])
    ref = np.concatenate([p[3] for p in w.pending])
    add_reaction(w, who, t, kind, ref)
    w.pending = []


def _finish(w) -> SimData:
    p = {c: w.posts.column(c) for c in ("acc", "t", "kind", "text", "ref", "hashtags", "urls", "mentions", "lang")}
    if w.cfg.technique_share > 0 and w.ops:
        _plant_techniques(w, p)
    order = np.lexsort((np.arange(len(p["t"])), p["t"]))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    w.posts.segs = []  # the columns are in p now: let the segments go before reordering
    for c in list(p):  # one column at a time, so that two copies of all of them never coexist
        p[c] = p[c][order]
    # snowflake ids as integers (the writers format them a chunk at a time)
    p["post_id"] = ((p["t"] - TWITTER_EPOCH_MS) << 22) | (np.arange(len(order)) & 0x3FFFFF)
    has_ref = p["ref"] >= 0
    p["ref"] = np.where(has_ref, rank[np.where(has_ref, p["ref"], 0)], -1)
    return SimData(config=w.cfg, accounts=w.acc.arrays(), account_ids=w.acc_ids, posts=p, clock=w.clock)


# Sentences that carry one propaganda technique each (planted by the technique_share knob).
TECHNIQUE_TEMPLATES = (
    "This is an outrageous, disgusting betrayal of everything decent.",
    "These corrupt globalist puppets and traitors must be stopped.",
    "Our nation and our people come first, patriots!",
    "Wake up! Stand up for our homeland!",
    "They will destroy everything we love if we do nothing now.",
    "Can we really trust these so-called experts and their lies?",
    "This is the worst disaster in the entire history of our country.",
)


def _plant_techniques(w, p):
    """Append a technique-bearing sentence to a share of operation accounts' English originals.
    A separate random stream, so the rest of the world is the same with or without it."""
    rng = np.random.default_rng([w.cfg.seed, 7919])
    op_accs = np.concatenate([op["accs"] for op in w.ops])
    lang = np.array([str(x) for x in p["lang"]], dtype=object)
    rows = np.flatnonzero(np.isin(p["acc"], op_accs) & (p["kind"] == 0) & (lang == "en"))
    chosen = rows[rng.random(len(rows)) < w.cfg.technique_share]
    picks = rng.integers(0, len(TECHNIQUE_TEMPLATES), len(chosen))
    text = p["text"].copy()
    for r, k in zip(chosen, picks):
        text[r] = f"{text[r]} {TECHNIQUE_TEMPLATES[k]}"
    p["text"] = text


__all__ = ["simulate", "SimConfig", "SimData", "STYLES", "knob_table", "KIND_NAMES"]
