"""Hard negatives: organic crowds that coordinate too, so raw co-action counts mislead."""

from __future__ import annotations

import numpy as np

from unmask.simulate import world
from unmask.simulate.generator import ORIGINAL, REPLY, RETWEET


def make_negative_accounts(w):
    """Benign bots and celebrities are organic accounts with their own roles."""
    cfg, r = w.cfg, w.rng
    nb = cfg.benign_bots
    w.bots = w.acc.add(
        nb, label="organic", role="benign_bot", zone=list(r.integers(0, len(world.ZONES), nb)),
        claim_zone=0, office=False, location="", claimed_role="", bio="Automated updates", lang="en",
        client=[world.BOT_CLIENTS[i % len(world.BOT_CLIENTS)] for i in range(nb)],
        handle=[f"weather_news_bot{i}" for i in range(nb)], name=[f"Update Bot {i}" for i in range(nb)],
        created_ms=list(w._created(nb)), followers=list(r.integers(100, 5000, nb)), following=1, activity=0.0,
    )
    for i in w.bots:
        w.acc.cols["claim_zone"][i] = w.acc.cols["zone"][i]
    top = np.argsort([-w.acc.cols["followers"][i] for i in w.organic], kind="stable")
    w.celebrities = w.organic[top[: max(3, cfg.reply_storms)]]


def crowd(w, n):
    """Organic participants of a crowd event: active accounts join more of them, as in real crowds."""
    act = np.array([w.acc.cols["activity"][i] for i in w.organic]) ** 0.7
    return w.rng.choice(w.organic, min(n, len(w.organic)), replace=False, p=act / act.sum())


def size(w, share):
    return max(5, int(share * len(w.organic) * w.cfg.negative_strength))


def negative_posts(w):
    cfg, r = w.cfg, w.rng
    out = []
    seeds = r.choice(w.organic_originals, cfg.viral_cascades + cfg.reply_storms, replace=False) \
        if len(w.organic_originals) > cfg.viral_cascades + cfg.reply_storms else np.array([], int)
    ts = w.posts.column("t")
    for k in range(cfg.viral_cascades):  # thousands of strangers retweet one post within minutes
        n = size(w, cfg.cascade_size)
        who = crowd(w, n)
        lag = (r.lognormal(np.log(180), 1.3, n)).astype(np.int64) * 1000 + r.integers(1000, 5000, n)
        out.append((who, ts[seeds[k]] + lag, RETWEET, np.full(n, seeds[k])))
    for k in range(cfg.reply_storms):  # reply storm at a celebrity's post
        n = size(w, cfg.cascade_size * 0.5)
        who = crowd(w, n)
        post = seeds[cfg.viral_cascades + k]
        lag = (r.lognormal(np.log(300), 1.0, n)).astype(np.int64) * 1000
        out.append((who, ts[post] + lag, REPLY, np.full(n, post)))
    w.pending.extend(out)
    _hashtag_bursts(w)
    _share_buttons(w)
    _bots(w)


def _hashtag_bursts(w):
    cfg, r = w.cfg, w.rng
    for k in range(cfg.hashtag_bursts):
        n = size(w, 0.03)
        who = crowd(w, n)
        center = w.clock.start_ms + int(r.integers(0, w.cfg.days * 86_400_000))
        t = center + (r.exponential(2400, n) * 1000).astype(np.int64)
        tag = f"JusticeFor{world.WORDS['en'][k % len(world.WORDS['en'])].capitalize()}{k}"
        langs = w.langs_of(who)
        text = w.texts(langs)
        for i in range(n):
            text[i] = f"{text[i]} #{tag}"
        w.posts.add(who, t, ORIGINAL, text, hashtags=[[tag]] * n, lang=langs)


def _share_buttons(w):
    cfg, r = w.cfg, w.rng
    for k in range(cfg.share_buttons):
        n = size(w, 0.02)
        who = crowd(w, n)
        dom = world.NEWS_DOMAINS[k % len(world.NEWS_DOMAINS)]
        url = f"https://{dom}/2018/world/headline-{k}"
        head = " ".join(w.sentences["en"][int(r.integers(2000))].split()[:8]).capitalize()
        text = f"{head} via @{dom.split('.')[0]} {url}"
        center = w.clock.start_ms + int(r.integers(0, w.cfg.days * 86_400_000))
        t = center + (r.exponential(3 * 3600, n) * 1000).astype(np.int64)
        w.posts.add(who, t, ORIGINAL, text, urls=[[url]] * n, lang="en")


def _bots(w):
    """Scheduled posting on the hour: synchronized, but benign and announced."""
    r = w.rng
    hours = w.cfg.days * 24
    cap = max(1, len(w.bots)) * hours / max(1.0, 0.06 * w.cfg.posts)  # bots write about 6% of posts
    for i, bot in enumerate(w.bots):
        every = max(1 + (i % 3), int(np.ceil(cap)))
        slots = np.arange(0, hours, every)
        t = w.clock.start_ms + slots * 3_600_000 + (i % 4) * 60_000 + r.integers(0, 20_000, len(slots))
        city = world.ZONES[w.acc.cols["zone"][bot]][3][0]
        temps = r.integers(-5, 35, len(slots))
        text = [f"Weather in {city}: {tc}°C, update {j}" for j, tc in enumerate(temps)]
        w.posts.add(np.full(len(slots), bot), t, ORIGINAL, text, lang="en")
