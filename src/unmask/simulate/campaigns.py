"""Open campaigns: organic communities that coordinate openly and as strongly as an operation.

The hardest false positives in the field are real people acting together in the open (Vargas et
al. 2020): their co-actions are as dense and fast as an operation's, so coordination alone cannot
tell them apart. What differs is concealment: these accounts are who they say they are.

``open_campaigns`` campaigns of ``open_campaign_size`` accounts each, in the styles of
``open_campaign_styles`` in turn:

- ``fan_army``: a fandom's streaming party: most members retweet the same posts (their idol's and
  fan posts about the idol from many accounts) within seconds of each other.
- ``tweetstorm``: activists post the shared toolkit text, lightly edited, at the agreed hour on
  action days, with the campaign's one hashtag.
- ``volunteers``: a political campaign's volunteers share pages of the campaign's site and reply
  together to the opposing candidate's posts.
- ``newsroom``: an outlet and its staff, whose accounts the newsroom signed up in one afternoon and
  runs with its scheduling app (``NEWSROOM_APP``); the staff retweet the outlet's posts within
  minutes. Registered like an operation's boosters, but the staff are who they say they are (the
  registration-group test, :mod:`unmask.network.registration`, must not flag them).

Each campaign makes as many coordinated posts per account as an operation does (``op_share`` spread
over the operations' accounts, less their filler), so the two are of the same strength; members
are real people, so 60% of their posts are their own, on their own rhythm. With ``open_campaign_personas =
"honest"`` (the default) members live in one home zone (a fifth elsewhere), post on a human
rhythm in their own language, name a place that fits, signed up over the years and use the
common apps; ``"covert"`` gives them an operation's personas instead (the swap test). Labels:
``organic``, role ``open_campaign``, ``group`` the campaign's name.

Drawn from a random stream of its own, so the rest of the world is the same with or without them
(up to the organic top-up that keeps the total at ``posts``).
"""

from __future__ import annotations

import numpy as np

from unmask.simulate import world
from unmask.simulate.generator import ORIGINAL, REPLY, RETWEET
from unmask.simulate.operations import covert_persona, honest_persona, retweet_burst
from unmask.simulate.organic import pick_earlier

NEWSROOM_APP = "Sprout Social"  # an uncommon app: no other simulated account uses it
OWN_SHARE = 0.6  # share of a member's posts that are its own, not the campaign's
CAUSES = ["Climate", "Water", "Housing", "Teachers", "Nurses", "CleanAir", "FairWages", "OpenParks"]
IDOLS = ["Nova", "Luna", "Orion", "Aria", "Kai", "Vega"]


def make_campaigns(w, rng):
    """Add the campaigns' accounts (from ``rng``, the campaigns' own stream) and return them."""
    cfg = w.cfg
    w.campaigns = []
    if cfg.open_campaigns <= 0:
        return
    keep, w.rng = w.rng, rng
    try:
        weights = np.array([z[1] for z in world.ZONES], float)
        for k in range(cfg.open_campaigns):
            style = cfg.open_campaign_styles[k % len(cfg.open_campaign_styles)]
            home = int(rng.choice(len(world.ZONES), p=weights / weights.sum()))
            n = cfg.open_campaign_size
            name = f"open{k + 1}-{style.replace('_', '-')}"
            if cfg.open_campaign_personas == "covert":  # the swap test: a campaign dressed as an operation
                zone = cfg.operator_zones[k % len(cfg.operator_zones)]
                cols, _ = covert_persona(w, n, w.clock.zone_index(zone), k)
                claimed = cols.pop("claimed_role")
            else:
                cols, claimed = honest_persona(w, n, home, _bio_maker(w, style, k)), [_claimed(style)] * n
                if style == "newsroom":  # signed up in one afternoon, run with the newsroom's app
                    day = w.clock.start_ms - int(rng.integers(30, 400)) * 86_400_000
                    cols["created_ms"] = list(day + rng.integers(0, 4 * 3_600_000, n))
                    cols["client"] = [NEWSROOM_APP if u < 0.9 else c for u, c in zip(rng.random(n), cols["client"])]
            accs = w.acc.add(n, label="organic", role="open_campaign", claimed_role=claimed, group=name, **cols)
            w.campaigns.append(dict(name=name, style=style, k=k, accs=accs, home=home))
    finally:
        w.rng = keep


def _claimed(style):
    return {"fan_army": "fan", "tweetstorm": "activist", "volunteers": "volunteer", "newsroom": "journalist"}[style]


def _bio_maker(w, style, k):
    """Bios in the members' own words: the shared cause or idol, then something personal."""
    r = w.rng
    idol, cause = IDOLS[k % len(IDOLS)], CAUSES[k % len(CAUSES)]
    head = {"fan_army": f"{idol} stan account 💜", "tweetstorm": f"{cause} activist, #{cause}Now",
            "volunteers": f"Volunteer for {cause} for Mayor 2018",
            "newsroom": f"Reporter at The {cause} Courier"}[style]

    def bio(i):
        pool = w.sentences["en"]
        own = " ".join(pool[int(r.integers(len(pool)))].split()[:5])
        return f"{head} | {own}" if r.random() < 0.5 else f"{own} | {head.lower()}"
    return bio


def campaign_posts(w, rng, per_account: float, room: int):
    """The campaigns' posts (``per_account`` posts per member, like an operation's), from ``rng``;
    in a world too small for them, scaled down to half the ``room`` left in the post budget."""
    if not getattr(w, "campaigns", None):
        return
    planned = per_account * sum(len(c["accs"]) for c in w.campaigns) * (1 - w.cfg.filler_share) / (1 - OWN_SHARE)
    per_account *= min(1.0, 0.5 * max(room, 0) / max(planned, 1.0))
    keep, w.rng = w.rng, rng
    try:
        for camp in w.campaigns:
            coordinated = int(per_account * len(camp["accs"]) * (1 - w.cfg.filler_share))
            own = int(coordinated * OWN_SHARE / (1 - OWN_SHARE))  # the rest of their lives online
            who = rng.choice(camp["accs"], max(own, 1))
            w.posts.add(who, w.sample_times(who), ORIGINAL, w.texts(w.langs_of(who)), lang=w.langs_of(who))
            STYLE_FN[camp["style"]](w, camp, coordinated)
    finally:
        w.rng = keep


def _events(w, camp, budget, share):
    """Event times on a member's human rhythm and, for each, the members who take part."""
    r = w.rng
    accs = camp["accs"]
    per = max(3, int(len(accs) * share))
    for _ in range(max(1, budget // per)):
        t0 = w.sample_times([accs[int(r.integers(len(accs)))]])[0]
        yield t0, r.choice(accs, min(per, len(accs)), replace=False)


def _fan_army(w, camp, budget):
    r = w.rng
    idol = int(w.organic[int(r.integers(len(w.organic)))])
    tag = f"{IDOLS[camp['k'] % len(IDOLS)]}Day"
    for t0, who in _events(w, camp, budget, 0.6):
        if r.random() < 0.35:  # the idol's own post, retweeted by the party
            src = w.posts.add([idol], [t0 - int(r.integers(60_000, 3_600_000))], ORIGINAL,
                              [f"{w.texts([w.langs_of([idol])[0]])[0]} #{tag}"], hashtags=[[tag]],
                              lang=w.langs_of([idol]))[0]
        else:  # a fan post about the idol by anyone
            src = pick_earlier(w, np.array([t0]), w.organic_originals, w.organic_original_t)[0]
        if src >= 0:
            retweet_burst(w, who, t0, src)


def _tweetstorm(w, camp, budget):
    r = w.rng
    cause = CAUSES[camp["k"] % len(CAUSES)]
    tag = f"{cause}Now"
    hour = 18  # the agreed hour, in the campaign's home zone
    for t0, who in _events(w, camp, budget, 0.5):
        day = int((t0 - w.clock.start_ms) // 86_400_000) % w.clock.days
        start = w.clock.to_utc(np.array([camp["home"]]), np.array([day]), np.array([hour * 3600]))[0]
        lang = world.ZONES[camp["home"]][2]
        vocab = world.WORDS[lang]
        base = list(r.choice(len(vocab), 16))
        texts = []
        for _ in who:
            idx = list(base)
            for pos in r.integers(0, 16, 2):
                idx[pos] = int(r.integers(len(vocab)))
            texts.append(" ".join(vocab[i] for i in idx) + f" #{tag}")
        t = start + (r.exponential(240, len(who)) * 1000).astype(np.int64)
        w.posts.add(who, t, ORIGINAL, texts, hashtags=[[tag]] * len(who), lang=w.langs_of(who))


def _volunteers(w, camp, budget):
    r = w.rng
    cause = CAUSES[camp["k"] % len(CAUSES)].lower()
    site = f"{cause}formayor2018.org"
    opponent = int(w.organic[int(r.integers(len(w.organic)))])
    for k, (t0, who) in enumerate(_events(w, camp, budget, 0.5)):
        if k % 2 == 0:  # share the campaign's page of the day
            url = f"https://{site}/news/day-{k}"
            head = " ".join(w.sentences["en"][int(r.integers(2000))].split()[:8]).capitalize()
            t = t0 + (r.exponential(600, len(who)) * 1000).astype(np.int64)
            w.posts.add(who, t, ORIGINAL, [f"{head} {url}"] * len(who), urls=[[url]] * len(who),
                        lang=w.langs_of(who))
        else:  # reply together to the opposing candidate's post of the day
            src = w.posts.add([opponent], [t0 - int(r.integers(60_000, 3_600_000))], ORIGINAL,
                              w.texts(w.langs_of([opponent])), lang=w.langs_of([opponent]))[0]
            lag = (r.exponential(120, len(who)) * 1000).astype(np.int64) + 3000
            w.pending.append((who, t0 + lag, REPLY, np.full(len(who), src)))


def _newsroom(w, camp, budget):
    """The outlet (the first member) posts; most of its staff retweet it within minutes."""
    r = w.rng
    outlet, staff = camp["accs"][0], camp["accs"][1:]
    for t0, who in _events(w, dict(camp, accs=staff), budget, 0.6):
        src = w.posts.add([outlet], [t0], ORIGINAL, w.texts(w.langs_of([outlet])), lang=w.langs_of([outlet]))[0]
        lag = (r.exponential(120, len(who)) * 1000).astype(np.int64) + 5000
        w.pending.append((who, t0 + lag, RETWEET, np.full(len(who), src)))


STYLE_FN = {"fan_army": _fan_army, "tweetstorm": _tweetstorm, "volunteers": _volunteers, "newsroom": _newsroom}

__all__ = ["make_campaigns", "campaign_posts"]
