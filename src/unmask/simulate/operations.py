"""Planted operations: operator zone and office rhythm, personas, batch-created accounts,
shared tools, and one coordination style each."""

from __future__ import annotations

import numpy as np

from unmask.simulate import world
from unmask.simulate.generator import ORIGINAL, REPLY, RETWEET
from unmask.simulate.organic import pick_earlier

CITY = {"Asia/Tehran": "tehran", "Europe/Moscow": "moscow", "Asia/Shanghai": "beijing", "Europe/Tirane": "tirane"}


def make_operations(w):
    cfg, r = w.cfg, w.rng
    w.ops = []
    for k in range(cfg.operations):
        zone = cfg.operator_zones[k % len(cfg.operator_zones)]
        style = cfg.styles[k % len(cfg.styles)]
        n = int(r.integers(cfg.op_min_size, cfg.op_max_size + 1))
        zi = w.clock.zone_index(zone) if zone in w.clock.zones else _add_zone(w, zone)
        name = f"op{k + 1}-{CITY.get(zone, zone.split('/')[-1].lower())}-{style.replace('_', '-')}"
        cols, dormant = covert_persona(w, n, zi, k, cfg.dormant_share)
        if cfg.operation_personas == "honest":  # the persona-swap test: an operation that hides nothing
            pool = w.sentences["en"]
            cols.update(honest_persona(w, n, zi, lambda i: f"{cols['bio'][i]} | "
                                       f"{' '.join(pool[int(r.integers(len(pool)))].split()[:5])}"))
        accs = w.acc.add(n, label=name, role=["dormant" if d else "operator" for d in dormant], **cols)
        w.ops.append(dict(name=name, style=style, zone=zone, zi=zi, accs=accs, active=accs[~dormant], k=k))


def covert_persona(w, n, zi, k, dormant_share=0.0):
    """Account columns of a covert persona set run from zone ``zi``: claimed places abroad, office hours,
    three creation batches, the office's posting tool, bulk sign-up handles; and which are dormant."""
    r = w.rng
    personas = world.PERSONAS["en"]
    pick = r.integers(0, len(personas), n)
    bios = [personas[p][0].format(outlet=world.OUTLETS[r.integers(len(world.OUTLETS))]) for p in pick]
    roles = [personas[p][1] for p in pick]
    places = [world.CLAIMED_PLACES[i] for i in r.integers(0, len(world.CLAIMED_PLACES), n)]
    batch_days = w.clock.start_ms - r.integers(20, 400, 3) * 86_400_000
    created = batch_days[r.integers(0, 3, n)] + r.integers(0, 6 * 3_600_000, n)
    tool = world.OPERATION_CLIENTS[k % len(world.OPERATION_CLIENTS)]
    clients = [tool if u < 0.75 else "Twitter Web App" for u in r.random(n)]
    dormant = r.random(n) < dormant_share
    cols = dict(zone=zi, claim_zone=[_claim_zone(w, p) for p in places], office=True, location=places,
                claimed_role=roles, bio=bios, lang="en", client=clients,
                handle=[w._handle(r.random() < 0.8) for _ in range(n)], name=[w._name() for _ in range(n)],
                created_ms=list(created), followers=list(r.integers(20, 900, n)),
                following=list(r.integers(100, 2000, n)), activity=1.0)
    return cols, dormant


def honest_persona(w, n, home, bio, local_share=0.8):
    """Account columns of people who are who they say: most live in zone ``home`` (the rest anywhere),
    post in their own zone's language on a human rhythm, name a place that fits, sign up over the
    years and use the common apps. ``bio(i)`` gives account ``i``'s bio."""
    r = w.rng
    weights = np.array([z[1] for z in world.ZONES], float)
    zone = np.where(r.random(n) < local_share, home, r.choice(len(world.ZONES), n, p=weights / weights.sum()))
    places = [world.ZONES[z][3][r.integers(len(world.ZONES[z][3]))] for z in zone]
    names = [c for c, _ in world.ORGANIC_CLIENTS]
    cp = np.array([p for _, p in world.ORGANIC_CLIENTS])
    clients = list(np.array(names, dtype=object)[r.choice(len(names), n, p=cp / cp.sum())])
    return dict(zone=list(zone), claim_zone=list(zone), office=False, location=places,
                bio=[bio(i) for i in range(n)], lang=[world.ZONES[z][2] for z in zone], client=clients,
                handle=[w._handle(False) for _ in range(n)], name=[w._name() for _ in range(n)],
                created_ms=list(w._created(n)), followers=list(r.lognormal(5.5, 1.4, n).astype(int)),
                following=list(r.lognormal(5.5, 1.0, n).astype(int)), activity=1.0)


def _add_zone(w, zone):
    from unmask.errors import ParameterError

    raise ParameterError(f"simulate: operator zone {zone!r} is not one of the simulated zones {w.clock.zones}")


def _claim_zone(w, place):
    for i, z in enumerate(world.ZONES):
        if any(place.split(",")[0] in p for p in z[3]):
            return i
    return 0 if "New York" in place or "DC" in place else 1


def operation_posts(w, budget):
    sizes = np.array([len(op["active"]) for op in w.ops], float)
    if not len(sizes) or sizes.sum() == 0:
        return
    shares = (budget * sizes / sizes.sum()).astype(int)
    for op, b in zip(w.ops, shares):
        filler = int(b * w.cfg.filler_share)
        _filler(w, op, filler)
        STYLE_FN[op["style"]](w, op, b - filler)
        dormant = op["accs"][~np.isin(op["accs"], op["active"])]
        if len(dormant):
            _filler(w, dict(op, active=dormant), len(dormant))


def _filler(w, op, n):
    """Organic-looking posts, but written in the operators' office hours."""
    if n <= 0:
        return
    who = w.rng.choice(op["active"], n)
    w.posts.add(who, w.sample_times(who), ORIGINAL, w.texts(w.langs_of(who)), lang=w.langs_of(who))


def _events(w, op, budget, per_event_share):
    """Event times in office hours and, for each, the participating members and their lags."""
    r = w.rng
    active = op["active"]
    per = max(3, int(len(active) * per_event_share))
    n_events = max(1, budget // per)
    lead = w.sample_times(np.full(n_events, active[0]))
    for t0 in lead:
        yield t0, r.choice(active, min(per, len(active)), replace=False)


def _ring(w, op, budget):
    for t0, who in _events(w, op, budget, 0.6):
        src = pick_earlier(w, np.array([t0]), w.organic_originals, w.organic_original_t)[0]
        if src >= 0:
            retweet_burst(w, who, t0, src)


def retweet_burst(w, who, t0, src):
    """``who`` retweet row ``src`` within seconds of ``t0`` (a ring's, or a fan army's, burst)."""
    r = w.rng
    lag = (r.exponential(25, len(who)) * 1000).astype(np.int64) + r.integers(2000, 9000, len(who))
    w.pending.append((who, t0 + lag, RETWEET, np.full(len(who), src)))


def _copypasta(w, op, budget):
    r = w.rng
    words = world.WORDS["en"]
    langs = ["en", "fr", "es", "ar"]
    for t0, who in _events(w, op, budget, 0.5):
        base = list(r.choice(len(words), 16))
        texts, lang = [], []
        for j in range(len(who)):
            idx = list(base)
            for pos in r.integers(0, 16, 2):
                idx[pos] = int(r.integers(len(words)))
            lg = langs[r.integers(len(langs))] if r.random() < 0.15 else "en"
            vocab = world.WORDS[lg]
            texts.append(" ".join(vocab[i % len(vocab)] for i in idx))
            lang.append(lg)
        t = t0 + (r.exponential(240, len(who)) * 1000).astype(np.int64)
        w.posts.add(who, t, ORIGINAL, texts, lang=lang)


def _hashtag_flood(w, op, budget):
    r = w.rng
    for k, (t0, who) in enumerate(_events(w, op, budget, 0.6)):
        tags = [f"Stop{world.WORDS['en'][(op['k'] * 7 + k) % 30].capitalize()}", f"{CITY.get(op['zone'], 'x').capitalize()}Truth"]
        t = t0 + (r.exponential(150, len(who)) * 1000).astype(np.int64)
        langs = w.langs_of(who)
        text = w.texts(langs)
        for i in range(len(who)):
            text[i] = f"{text[i]} #{tags[0]} #{tags[1]}"
        w.posts.add(who, t, ORIGINAL, text, hashtags=[list(tags)] * len(who), lang=langs)


def _laundering(w, op, budget):
    r = w.rng
    state = world.STATE_MEDIA.get(op["zone"], ["rt.com"])
    proxies = [f"{world.PROXY_WORDS[(op['k'] + i) % len(world.PROXY_WORDS)]}{CITY.get(op['zone'], 'x')}news.com"
               for i in range(2)]
    for k, (t0, who) in enumerate(_events(w, op, budget, 0.4)):
        slug = f"article-{op['k']}-{k}-{int(r.integers(1e6))}"
        head = " ".join(w.sentences["en"][int(r.integers(2000))].split()[:9]).capitalize()
        urls, texts = [], []
        for j in range(len(who)):
            dom = proxies[j % 2] if r.random() < 0.7 else state[int(r.integers(len(state)))]
            u = f"https://{dom}/news/{slug}?utm_source=twitter&utm_medium=social"
            urls.append([u])
            texts.append(f"{head} {u}")
        t = t0 + (r.exponential(600, len(who)) * 1000).astype(np.int64)
        w.posts.add(who, t, ORIGINAL, texts, urls=urls, lang="en")


def _reply_attack(w, op, budget):
    r = w.rng
    for t0, who in _events(w, op, budget, 0.5):
        src = pick_earlier(w, np.array([t0]), w.target_rows, w.target_t, horizon_ms=7 * 86_400_000)[0]
        if src < 0:
            continue
        lag = (r.exponential(120, len(who)) * 1000).astype(np.int64) + 3000
        w.pending.append((who, t0 + lag, REPLY, np.full(len(who), src)))


def _expert_boost(w, op, budget):
    r = w.rng
    experts = op["active"][: max(2, len(op["active"]) // 10)]
    boosters = op["active"][len(experts):]
    for t0, who in _events(w, dict(op, active=boosters if len(boosters) >= 3 else op["active"]), budget, 0.6):
        e = experts[int(r.integers(len(experts)))]
        row = w.posts.add([e], [t0], ORIGINAL, w.texts(["en"]), lang="en")[0]
        lag = (r.exponential(40, len(who)) * 1000).astype(np.int64) + 5000
        w.pending.append((who, t0 + lag, RETWEET, np.full(len(who), row)))


STYLE_FN = {
    "co_retweet_ring": _ring, "copypasta": _copypasta, "hashtag_flood": _hashtag_flood,
    "link_laundering": _laundering, "reply_attack": _reply_attack, "expert_boost": _expert_boost,
}
