"""Generate a labelled world: an organic crowd with hard negatives, and planted operations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unmask.simulate import world
from unmask.simulate.clock import Clock
from unmask.simulate.config import SimConfig

ORIGINAL, RETWEET, REPLY, QUOTE = 0, 1, 2, 3
KIND_NAMES = np.array(["original", "retweet", "reply", "quote"], dtype=object)
EMPTY: list = []


class Accounts:
    """Column lists of simulated accounts; an account is a row index."""

    COLS = ("label", "role", "zone", "claim_zone", "office", "location", "claimed_role", "bio", "lang",
            "client", "handle", "name", "created_ms", "followers", "following", "activity", "group")
    OPTIONAL = {"group": ""}  # the open campaign (or operation) an account belongs to, for the labels

    def __init__(self):
        self.cols = {c: [] for c in self.COLS}

    def add(self, n, **values):
        start = len(self)
        for c in self.COLS:
            v = values[c] if c in values else self.OPTIONAL[c]
            self.cols[c].extend(v if isinstance(v, (list, np.ndarray)) else [v] * n)
        return np.arange(start, start + n)

    def __len__(self):
        return len(self.cols["label"])

    def arrays(self):
        return {c: np.asarray(v, dtype=object if c not in ("office", "zone", "claim_zone", "created_ms",
                                                                "followers", "following", "activity") else None)
                for c, v in self.cols.items()}


class Posts:
    """Segments of posts; ``ref`` holds global row numbers of referenced posts (-1 for none)."""

    def __init__(self):
        self.segs = []
        self.n = 0

    def add(self, acc, t, kind, text, ref=None, hashtags=None, urls=None, mentions=None, lang=None):
        acc = np.asarray(acc, dtype=np.int64)
        m = len(acc)
        seg = dict(
            acc=acc, t=np.asarray(t, dtype=np.int64), kind=np.broadcast_to(np.int8(kind), (m,)).copy()
            if np.isscalar(kind) else np.asarray(kind, dtype=np.int8),
            text=_obj(text, m), ref=np.full(m, -1, np.int64) if ref is None else np.asarray(ref, np.int64),
            hashtags=_obj(hashtags, m), urls=_obj(urls, m), mentions=_obj(mentions, m), lang=_obj(lang, m),
        )
        self.segs.append(seg)
        rows = np.arange(self.n, self.n + m)
        self.n += m
        return rows

    def column(self, name):
        return np.concatenate([s[name] for s in self.segs]) if self.segs else np.array([])


def _obj(v, m):
    if v is None:
        out = np.empty(m, dtype=object)
        out[:] = [EMPTY] * m if m else []
        return out
    if isinstance(v, (str, list)) and not (isinstance(v, list) and len(v) == m and m and
                                            isinstance(v[0], (list, str))):
        out = np.empty(m, dtype=object)
        for i in range(m):
            out[i] = v
        return out
    out = np.empty(m, dtype=object)
    out[:] = list(v)
    return out


@dataclass
class SimData:
    config: SimConfig
    accounts: dict
    account_ids: np.ndarray
    posts: dict  # sorted by time; ids, refs resolved
    clock: Clock


class World:
    """Builds one simulated dataset; every random draw comes from one seeded generator."""

    def __init__(self, config: SimConfig):
        self.cfg = config
        self.rng = np.random.default_rng(config.seed)
        zones = [z[0] for z in world.ZONES]
        self.clock = Clock(config.start, config.days, zones)
        self.acc = Accounts()
        self.posts = Posts()
        self.zone_lang = {i: z[2] for i, z in enumerate(world.ZONES)}
        self.sentences = {lang: self._sentence_pool(lang, 2000) for lang in world.WORDS}

    # ---------- text ----------
    def _vocabulary(self, lang, n=400):
        """The language's words plus made-up ones from their halves: a real vocabulary is large, so
        strangers' posts rarely share most of their character n-grams."""
        base = world.WORDS[lang]
        made = set()
        for _ in range(20 * n):  # scripts with short words have fewer halves to combine
            a, b, c = (base[i] for i in self.rng.integers(0, len(base), 3))
            made.add(a[: max(1, len(a) // 2 + 1)] + b[len(b) // 2:] + (c[:1] if len(made) % 2 else ""))
            if len(made) >= n:
                break
        return base + sorted(made)

    def _sentence_pool(self, lang, n):
        words = self._vocabulary(lang)
        sep = "" if lang in ("ja", "zh") else " "
        return [sep.join(self.rng.choice(words, self.rng.integers(5, 11))) for _ in range(n)]

    def texts(self, langs):
        """Organic-looking text: three pool sentences plus a number, so strangers rarely match."""
        r = self.rng
        out = np.empty(len(langs), dtype=object)
        n = len(langs)
        a, b, d, c = (r.integers(0, 2000, n), r.integers(0, 2000, n), r.integers(0, 2000, n),
                      r.integers(0, 10_000, n))
        for i, lang in enumerate(langs):
            pool = self.sentences[lang]
            out[i] = f"{pool[a[i]]} {pool[b[i]]} {pool[d[i]]} {c[i]}"
        return out

    # ---------- accounts ----------
    def make_organic(self):
        cfg, r = self.cfg, self.rng
        n = cfg.n_accounts
        weights = np.array([z[1] for z in world.ZONES], float)
        zone = r.choice(len(world.ZONES), n, p=weights / weights.sum())
        claim = zone.copy()
        travellers = r.random(n) < cfg.traveller_share
        claim[travellers] = r.choice(len(world.ZONES), int(travellers.sum()), p=weights / weights.sum())
        role = np.where(travellers, "traveller", "organic").astype(object)
        loc = []
        u = r.random(n)
        for i in range(n):
            places = world.ZONES[claim[i]][3]
            loc.append(places[r.integers(len(places))] if u[i] < 0.7 else
                       "" if u[i] < 0.9 else world.JOKE_LOCATIONS[r.integers(len(world.JOKE_LOCATIONS))])
        clients = [c for c, _ in world.ORGANIC_CLIENTS]
        cp = np.array([p for _, p in world.ORGANIC_CLIENTS])
        client = np.array(clients, dtype=object)[r.choice(len(clients), n, p=cp / cp.sum())]
        langs = [world.ZONES[z][2] for z in claim]
        activity = (r.pareto(1.3, n) + 1.0)
        self.organic = self.acc.add(
            n, label="organic", role=list(role), zone=list(zone), claim_zone=list(claim), office=False,
            location=loc, claimed_role="", bio=[self._organic_bio(lg) for lg in langs], lang=langs,
            client=list(client), handle=[self._handle(False) for _ in range(n)],
            name=[self._name() for _ in range(n)], created_ms=list(self._created(n)),
            followers=list(r.lognormal(5, 1.6, n).astype(int)), following=list(r.lognormal(5.5, 1.0, n).astype(int)),
            activity=list(activity),
        )
        self.travellers = self.organic[travellers]

    def _organic_bio(self, lang):
        pool = self.sentences[lang]
        if self.rng.random() < 0.3:
            return ""
        return f"{pool[self.rng.integers(len(pool))]} {pool[self.rng.integers(len(pool))]}"[:100]

    def _handle(self, digits):
        w = world.WORDS["en"]
        base = w[self.rng.integers(len(w))] + w[self.rng.integers(len(w))].capitalize()
        return base + (str(self.rng.integers(10_000_000, 99_999_999)) if digits else
                       ("_" + str(self.rng.integers(1, 99)) if self.rng.random() < 0.3 else ""))

    def _name(self):
        first = ["Alex", "Sam", "Maria", "John", "Lena", "Omar", "Sara", "Ivan", "Mina", "Chris", "Dana", "Reza"]
        last = ["Smith", "Jones", "Garcia", "Brown", "Miller", "Davis", "Lopez", "Wilson", "Moore", "Clark"]
        return f"{first[self.rng.integers(len(first))]} {last[self.rng.integers(len(last))]}"

    def _created(self, n):
        lo = self.clock.start_ms - 9 * 365 * 86_400_000
        return self.rng.integers(lo, self.clock.start_ms - 30 * 86_400_000, n)

    def sample_times(self, accs):
        a = self.acc.cols
        zone = np.array([a["zone"][i] for i in accs], dtype=np.int64)
        office = np.array([a["office"][i] for i in accs], dtype=bool)
        return self.clock.sample(self.rng, zone, office)

    def langs_of(self, accs):
        a = self.acc.cols["lang"]
        return [a[i] for i in accs]
