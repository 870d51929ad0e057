"""Technique profiles of a case: posts analysed once (a per-case table), then profiles per account,
cell and network against the case's organic accounts (those in no flagged network).

Only original posts, replies and quotes are analysed (a retweet copies someone else's words), and
only those in a language the model was trained on (English): the others are counted as not
analysed and left out of every profile. For each group and technique: the share of the group's
distinct analysed texts that carry it (a text repeated inside a group counts once, so copypasta
does not pass for many independent posts), the same share among organic accounts, their ratio, and a one-sided
binomial p-value (is the group's share higher than the organic one?), Benjamini-Hochberg within
each level. ``profile_p`` asks whether the group uses any technique more than the organic accounts
(the smallest of its techniques' p-values, times their number: Bonferroni).

Texts are not independent draws: an account writes in its own style, and a few accounts (a heavy
poster, an open campaign's members) carry a technique far more often than the crowd. Counted as
independent texts, random groups of 20 organic accounts of a simulated world were "significant" for
Doubt at p < 0.01 one time in seven. So the technique tests are corrected for the accounts the
texts come from (a Rao-Scott design effect; ``profile_p`` is made from them): organic accounts are put in bins by how many distinct texts they have
(powers of two, merged up to ``MIN_BIN`` accounts), each bin's variance of an account's technique
count around the bin's rate is measured, and a group's expected variance is the sum of its accounts'
(never less than the binomial's). The ratio of that variance to the binomial one, ``D``, divides the
group's counts (the binomial tail at ``C / D`` of ``N / D``, continuous in both). A chi-square of the
group's technique mix against the organic one, used before, was not kept: corrected by the mean
``D`` it still gave half the random groups p < 0.05. Fewer than ``MIN_BIN`` organic accounts give no
baseline: shares and ratios are reported, p-values are not (a takedown archive holds only the
operation's accounts).
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict

import numpy as np
import pyarrow as pa
from scipy.special import betainc

from unmask.content import model, trained_for
from unmask.content.semeval import TECHNIQUES
from unmask.network.significance import bh

SPANS = pa.schema([("post_id", pa.string()), ("account_id", pa.string()), ("technique", pa.string()),
                   ("start", pa.int32()), ("end", pa.int32()), ("confidence", pa.float32()), ("text", pa.string())])
ANALYSED = pa.schema([("post_id", pa.string()), ("account_id", pa.string()), ("analysed", pa.bool_()),
                      ("text_hash", pa.string())])
PHRASE_TECHNIQUES = ("Slogans", "Loaded_Language", "Name_Calling,Labeling", "Flag-Waving")
MIN_CHARS = 20
MIN_BIN = 30  # organic accounts a volume bin of the design effect needs (and the baseline at all)


def analyse_posts(case, batch: int = 20_000, progress=None) -> dict:
    """``content_posts`` (every candidate post, analysed or not) and ``content_spans``: a per-case
    table, computed once and again only when new posts arrive."""
    from unmask import percase
    from unmask import progress as prog

    version = "v2;model=" + str(model.weights()["info"].item())[:40]
    if percase.is_current(case, "content_spans", "content_posts", extra=version):
        return {"cached": True}
    eng = case.engine
    total = int(eng.scalar(f"SELECT count(*) FROM posts WHERE kind <> 'retweet' AND length(text) >= {MIN_CHARS}"))
    prog.start(progress, "content", max(1, (total + batch - 1) // batch), total, None)
    spans = {k: [] for k in SPANS.names}
    done = {k: [] for k in ANALYSED.names}
    # One sorted scan, streamed a batch at a time (nothing else is sent to the engine meanwhile).
    for chunk in eng.query_batches(f"""SELECT post_id, account_id, text, lang, text_hash FROM posts
                                      WHERE kind <> 'retweet' AND length(text) >= {MIN_CHARS}
                                      ORDER BY post_id""", batch):
        rows = chunk.to_pylist()
        ok = [trained_for(r["text"], r["lang"] if r["lang"] not in (None, "", "und") else None) for r in rows]
        texts = [r["text"] for r, k in zip(rows, ok) if k]
        found = iter(model.analyze_batch(texts))
        for r, k in zip(rows, ok):
            done["post_id"].append(r["post_id"])
            done["account_id"].append(r["account_id"])
            done["analysed"].append(k)
            done["text_hash"].append(r["text_hash"] or r["post_id"])
            if not k:
                continue
            for s, e, t, c in next(found):
                for key, v in zip(SPANS.names, (r["post_id"], r["account_id"], t, s, e, c, r["text"][s:e][:200])):
                    spans[key].append(v)
        prog.advance(progress, len(rows), "content")
    case.write_table("content_posts", pa.table(done, schema=ANALYSED))
    case.write_table("content_spans", pa.table(spans, schema=SPANS))
    percase.mark_current(case, "content_posts", "content_spans", extra=version)
    return {"posts": total, "analysed": int(sum(done["analysed"])), "spans": len(spans["post_id"])}


def profiles(case, alpha: float = 0.05) -> pa.Table:
    """``content_profiles``: one row per (level, group, technique); levels ``network``, ``cell``,
    ``account`` (accounts of flagged networks) and ``organic`` (the baseline)."""
    eng = case.engine
    groups = {}
    if case.has_table("clusters"):
        for r in eng.query("SELECT account_id, network, cell FROM clusters WHERE is_candidate").to_pylist():
            groups[r["account_id"]] = r
    posts = eng.query("SELECT post_id, account_id, text_hash FROM content_posts WHERE analysed ORDER BY post_id"
                      ).to_pylist()
    with_t = defaultdict(set)
    for r in eng.query("SELECT DISTINCT post_id, technique FROM content_spans").to_pylist():
        with_t[r["post_id"]].add(r["technique"])
    n = defaultdict(int)
    k = defaultdict(Counter)
    seen = set()
    own_n = Counter()  # each account's distinct texts and technique counts: the design effect's units
    own_k = defaultdict(Counter)
    members = defaultdict(set)
    for p in posts:
        g = groups.get(p["account_id"])
        keys = [("organic", "organic")] if g is None else [
            ("network", str(g["network"])), ("cell", str(g["cell"])), ("account", p["account_id"])]
        if ("own", p["account_id"], p["text_hash"]) not in seen:
            seen.add(("own", p["account_id"], p["text_hash"]))
            own_n[p["account_id"]] += 1
            own_k[p["account_id"]].update(with_t.get(p["post_id"], ()))
        for key in keys:
            members[key].add(p["account_id"])
            if (key, p["text_hash"]) in seen:  # a text repeated inside a group counts once (copypasta)
                continue
            seen.add((key, p["text_hash"]))
            n[key] += 1
            k[key].update(with_t.get(p["post_id"], ()))
    base_n = n[("organic", "organic")]
    base = {t: k[("organic", "organic")][t] / base_n if base_n else 0.0 for t in TECHNIQUES}
    spread = AccountSpread([a for a in own_n if a not in groups], own_n, own_k)
    p0 = {t: min(max(base[t], 1e-6), 1 - 1e-6) for t in TECHNIQUES}
    out = []
    for (level, group) in sorted(n):
        gn = n[(level, group)]
        counts = [k[(level, group)][t] for t in TECHNIQUES]
        tested = level != "organic" and gn and spread.ok
        ps = {}
        if tested:  # each technique's count and texts divided by the group's design effect for it
            who = sorted(members[(level, group)])
            for t, c in zip(TECHNIQUES, counts):
                d = spread.design_effect(who, t, p0[t])
                ps[t] = binomial_tail(c / d, gn / d, p0[t])
        # does the group use any technique more than organic accounts of its volume? (Bonferroni)
        profile_p = min(1.0, len(ps) * min(ps.values())) if ps else None
        for t, c in zip(TECHNIQUES, counts):
            rate = c / gn if gn else 0.0
            out.append({"level": level, "group": group, "technique": t, "posts": gn, "with_technique": c,
                        "share": rate, "organic_share": base[t], "ratio": rate / base[t] if base[t] else None,
                        "p_value": ps.get(t), "profile_p": profile_p})
    for level in ("network", "cell", "account"):
        idx = [i for i, r in enumerate(out) if r["level"] == level]
        if idx:
            q = bh(np.array([out[i]["p_value"] for i in idx]))
            for i, qv in zip(idx, q):
                out[i]["q_value"] = float(qv)
    for r in out:
        r.setdefault("q_value", None)
        r["significant"] = r["q_value"] is not None and r["q_value"] <= alpha and r["share"] > r["organic_share"]
    schema = pa.schema([("level", pa.string()), ("group", pa.string()), ("technique", pa.string()),
                        ("posts", pa.int64()), ("with_technique", pa.int64()), ("share", pa.float64()),
                        ("organic_share", pa.float64()), ("ratio", pa.float64()), ("p_value", pa.float64()),
                        ("profile_p", pa.float64()), ("q_value", pa.float64()), ("significant", pa.bool_())])
    table = pa.Table.from_pylist(out, schema=schema)
    case.write_table("content_profiles", table)
    case.write_table("content_phrases", phrases(case))
    return table


def binomial_tail(c: float, n: float, p0: float) -> float:
    """``P(X >= c)`` for ``X ~ Binomial(n, p0)``, continuous in ``c`` and ``n`` (the regularised
    incomplete beta ``I_p0(c, n - c + 1)``: ``binom.sf(c - 1, n, p0)`` at whole numbers); 1 at
    ``c <= 0``."""
    return 1.0 if c <= 0 else float(betainc(c, n - c + 1.0, p0))


class AccountSpread:
    """How much organic accounts of about the same volume differ in how often they use each
    technique (see the module docstring): ``design_effect(accounts, technique, p0)`` is the ratio of
    the expected variance of those accounts' technique count to the binomial variance of their
    texts, at least 1. ``ok`` is False with fewer than :data:`MIN_BIN` organic accounts."""

    def __init__(self, organic: list, own_n: Counter, own_k: dict):
        organic = sorted(organic)
        self.ok = len(organic) >= MIN_BIN
        self.own_n = own_n
        self.own_k = own_k
        self.var = {}
        self.bin_of = {}
        if not self.ok:
            return
        by_bin = defaultdict(list)
        for a in organic:
            by_bin[_octave(own_n[a])].append(a)
        merged, run = [], []
        for octave in sorted(by_bin):  # from the lightest accounts up, MIN_BIN accounts a bin at least
            run += by_bin[octave]
            self.bin_of[octave] = len(merged)
            if len(run) >= MIN_BIN:
                merged.append(run)
                run = []
        if run:  # the heaviest few join the bin below them
            if merged:
                merged[-1] += run
                for octave, b in self.bin_of.items():
                    self.bin_of[octave] = min(b, len(merged) - 1)
            else:
                merged.append(run)
        self.octaves = sorted(self.bin_of)
        for b, accounts in enumerate(merged):
            n = np.array([own_n[a] for a in accounts], float)
            for t in TECHNIQUES:
                c = np.array([own_k[a][t] for a in accounts], float)
                rate = c.sum() / n.sum()
                self.var[(b, t)] = float(np.mean((c - n * rate) ** 2))

    def _bin(self, n: int) -> int:
        i = bisect.bisect_right(self.octaves, _octave(n)) - 1
        return self.bin_of[self.octaves[max(i, 0)]]

    def design_effect(self, accounts: list, technique: str, p0: float) -> float:
        binomial = sum(self.own_n[a] for a in accounts) * p0 * (1 - p0)
        if binomial <= 0:
            return 1.0
        expected = sum(max(self.var[(self._bin(self.own_n[a]), technique)], self.own_n[a] * p0 * (1 - p0))
                       for a in accounts)
        return max(1.0, expected / binomial)


def _octave(n: int) -> int:
    return max(int(n), 1).bit_length() - 1


def phrases(case, top: int = 8) -> pa.Table:
    """Per network: its most repeated slogans and loaded phrases, with posts that carry them."""
    return case.engine.query(f"""
        WITH s AS (SELECT c.network, lower(trim(x.text)) AS phrase, x.technique, x.post_id
                   FROM content_spans x JOIN clusters c USING (account_id)
                   WHERE c.is_candidate AND x.technique IN {tuple(PHRASE_TECHNIQUES)} AND length(x.text) >= 3),
        g AS (SELECT network, phrase, any_value(technique) AS technique, count(*) AS n,
                     string_agg(post_id, ' ' ORDER BY post_id) AS posts FROM s GROUP BY network, phrase),
        r AS (SELECT *, row_number() OVER (PARTITION BY network ORDER BY n DESC, phrase) AS rn FROM g)
        SELECT network, phrase, technique, n, left(posts, 200) AS example_posts FROM r WHERE rn <= {top}
        ORDER BY network, n DESC, phrase""")


def run(case, alpha: float = 0.05, progress=None) -> dict:
    info = analyse_posts(case, progress=progress)
    table = profiles(case, alpha)
    info["significant_group_techniques"] = int(sum(table.column("significant").to_pylist()))
    case.set_meta("content", info)
    return info
