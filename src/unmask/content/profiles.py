"""Technique profiles of a case: posts analysed once (a per-case table), then profiles per account,
cell and network against the case's organic accounts (those in no flagged network).

Only original posts, replies and quotes are analysed (a retweet copies someone else's words), and
only those in a language the model was trained on (English): the others are counted as not
analysed and left out of every profile. For each group and technique: the share of the group's
distinct analysed texts that carry it (a text repeated inside a group counts once, so copypasta
does not pass for many independent posts), the same share among organic accounts, their ratio, and a one-sided
binomial p-value (is the group's share higher than the organic one?), Benjamini-Hochberg within
each level. ``profile_p`` tests the group's whole technique distribution against the organic one
(chi-square on technique counts).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pyarrow as pa
from scipy.stats import binom, chi2_contingency

from unmask.content import model, trained_for
from unmask.content.semeval import TECHNIQUES
from unmask.network.significance import bh

SPANS = pa.schema([("post_id", pa.string()), ("account_id", pa.string()), ("technique", pa.string()),
                   ("start", pa.int32()), ("end", pa.int32()), ("confidence", pa.float32()), ("text", pa.string())])
ANALYSED = pa.schema([("post_id", pa.string()), ("account_id", pa.string()), ("analysed", pa.bool_()),
                      ("text_hash", pa.string())])
PHRASE_TECHNIQUES = ("Slogans", "Loaded_Language", "Name_Calling,Labeling", "Flag-Waving")
MIN_CHARS = 20


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
    for p in posts:
        g = groups.get(p["account_id"])
        keys = [("organic", "organic")] if g is None else [
            ("network", str(g["network"])), ("cell", str(g["cell"])), ("account", p["account_id"])]
        for key in keys:
            if (key, p["text_hash"]) in seen:  # a text repeated inside a group counts once (copypasta)
                continue
            seen.add((key, p["text_hash"]))
            n[key] += 1
            k[key].update(with_t.get(p["post_id"], ()))
    base_n = n[("organic", "organic")]
    base = {t: k[("organic", "organic")][t] / base_n if base_n else 0.0 for t in TECHNIQUES}
    out = []
    for (level, group) in sorted(n):
        gn = n[(level, group)]
        counts = [k[(level, group)][t] for t in TECHNIQUES]
        profile_p = None
        if level != "organic" and base_n and sum(counts) and sum(k[("organic", "organic")].values()):
            table = np.array([counts, [k[("organic", "organic")][t] for t in TECHNIQUES]], float) + 0.5
            profile_p = float(chi2_contingency(table)[1])
        for t, c in zip(TECHNIQUES, counts):
            rate = c / gn if gn else 0.0
            p0 = min(max(base[t], 1e-6), 1 - 1e-6)
            p = float(binom.sf(c - 1, gn, p0)) if level != "organic" and gn else None
            out.append({"level": level, "group": group, "technique": t, "posts": gn, "with_technique": c,
                        "share": rate, "organic_share": base[t], "ratio": rate / base[t] if base[t] else None,
                        "p_value": p, "profile_p": profile_p})
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
