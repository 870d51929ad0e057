"""Real audiences: popular accounts and the regulars who retweet them (organic, not coordination).

Real retweets mostly go to accounts one follows, so a news outlet is retweeted by the same
regulars day after day, and a popular account has hundreds or thousands of followers who
retweet it within a minute or two of each post. Nobody coordinates: each regular retweets
each post independently, with a propensity of its own, after a delay drawn from the audience's
reaction-time distribution. The co-retweets, fast retweets and shared authors this produces
are chance given who follows whom; a detector that flags them flags every fan base on real data.

``fan_bases`` popular accounts (role ``popular``: news outlets and public figures, organic) post
every day in their own zone's daytime; each has ``fan_base_size`` x organic accounts as regulars
(active accounts follow more); regular ``i`` retweets each post with probability ``p_i`` (a Beta
draw with mean ``fan_retweet_prob``), ``fan_delay_s`` seconds after it on median (log-normal,
the same distribution for every regular of one audience, unless ``fan_delay_spread`` gives each
regular a pace of its own: superfans with notifications on retweet within seconds, post after
post). Fan retweets make about ``fan_share`` of all posts: the popular accounts' posting rate
follows from it.
"""

from __future__ import annotations

import numpy as np

from unmask.simulate.generator import ORIGINAL, RETWEET


def make_popular(w):
    """Choose the popular accounts among the organic crowd (not the celebrities of reply storms)."""
    cfg = w.cfg
    w.popular = np.array([], np.int64)
    w.fan_bases = []
    if cfg.fan_bases <= 0 or cfg.fan_share <= 0:
        return
    taken = set(int(c) for c in getattr(w, "celebrities", []))
    order = np.argsort([-w.acc.cols["followers"][i] for i in w.organic], kind="stable")
    pick = [int(w.organic[i]) for i in order if int(w.organic[i]) not in taken][: cfg.fan_bases]
    for i in pick:
        w.acc.cols["role"][i] = "popular"
        w.acc.cols["followers"][i] = int(max(w.acc.cols["followers"][i], 50_000))
    w.popular = np.array(pick, np.int64)


def fan_posts(w):
    """The popular accounts' posts (rows of their own) and their regulars' retweets (pending)."""
    cfg, r = w.cfg, w.rng
    if len(getattr(w, "popular", [])) == 0:
        return
    n_fans = max(5, int(round(cfg.fan_base_size * len(w.organic))))
    act = np.array([w.acc.cols["activity"][i] for i in w.organic], float) ** 0.5
    fan_pool = np.setdiff1d(w.organic, w.popular)
    pool_p = act[np.isin(w.organic, fan_pool)]
    budget = cfg.fan_share * cfg.posts / len(w.popular)
    for acc in w.popular:
        fans = r.choice(fan_pool, min(n_fans, len(fan_pool)), replace=False, p=pool_p / pool_p.sum())
        a = 4.0  # Beta(a, b) with mean fan_retweet_prob: regulars differ in how often they retweet
        b = a * (1 - cfg.fan_retweet_prob) / max(cfg.fan_retweet_prob, 1e-6)
        prop = r.beta(a, b, len(fans))
        n_posts = int(np.clip(round(budget / max(prop.sum(), 1e-9)), 1, cfg.days * 48))
        t_post = np.sort(w.sample_times(np.full(n_posts, acc)))
        langs = w.langs_of([acc] * n_posts)
        rows = w.posts.add(np.full(n_posts, acc), t_post, ORIGINAL, w.texts(langs), lang=langs)
        hit = r.random((n_posts, len(fans))) < prop[None, :]
        post_i, fan_i = np.nonzero(hit)
        median = np.full(len(post_i), float(cfg.fan_delay_s))
        if cfg.fan_delay_spread > 0:  # each regular's own pace (drawn only when asked: default worlds unchanged)
            median = median * r.lognormal(0.0, cfg.fan_delay_spread, len(fans))[fan_i]
        delay = r.lognormal(np.log(median), 0.9, len(post_i))
        t = t_post[post_i] + (1000 * np.maximum(delay, 2.0)).astype(np.int64)
        w.pending.append((fans[fan_i], t, RETWEET, rows[post_i]))
        w.fan_bases.append({"account": int(acc), "fans": len(fans), "posts": n_posts, "retweets": len(post_i)})


__all__ = ["make_popular", "fan_posts"]
