"""Persona types: a third level above networks and cells, across the whole run.

An agency runs one persona type ("fake US conservatives", "local news feeds") in several waves,
and each wave can come out as a network of its own: the cells of different networks that post the
same things and present the same way are one type. Each cell of a flagged network gets a profile:

* its content: how many of its members post each object that at least two flagged accounts share
  (retweeted posts, normalised texts, hashtags, mentions, domains, links, reply and retweet targets:
  :func:`unmask.network.cells.profiles`), as ``log(1 + members posting it)``;
* its presentation: the share of its members with each behavioural zone, claimed country,
  profession claim, main post language and main client (the per-case ``personas`` table), where
  the data has them.

Weights are TF-IDF across cells; cells are joined to their ``k`` most similar cells (cosine, at
least ``MIN_SIMILARITY``) and modularity Leiden (seeded) groups them into types. A cell with nothing in common with another
is a type of its own. ``persona_type`` numbers types by size (1 = largest).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import igraph as ig
import leidenalg
import numpy as np
import pyarrow as pa

NEIGHBOURS = 5
MIN_SIMILARITY = 0.2  # cells less alike than this (cosine) are never joined: a shared country is not a type
PRESENTATION = ("behaviour_zone", "claimed_country", "profession_claim", "post_language", "main_client")


def cell_profiles(engine, cell_of: dict) -> dict:
    """``{cell: Counter(feature -> weight)}`` (see the module docstring)."""
    from unmask.network.cells import profiles

    members = sorted(cell_of)
    out = defaultdict(Counter)
    if not members:
        return out
    prof = profiles(engine, members)
    seen = defaultdict(set)
    for acc, obj in zip(prof.column("account_id").to_pylist(), prof.column("object").to_pylist()):
        seen[(cell_of[acc], obj)].add(acc)
    for (cell, obj), accs in seen.items():
        out[cell][obj] = float(np.log1p(len(accs)))
    size = Counter(cell_of.values())
    if engine.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'personas'"):
        engine.register("_pt_members", pa.table({"account_id": pa.array(members, pa.string())}))
        try:
            rows = engine.query(f"""SELECT account_id, {', '.join(PRESENTATION)} FROM personas
                                    WHERE account_id IN (SELECT account_id FROM _pt_members)""").to_pylist()
        finally:
            engine.unregister("_pt_members")
        for r in rows:
            cell = cell_of[r["account_id"]]
            for col in PRESENTATION:
                if r[col] not in (None, ""):
                    out[cell][f"{col}={r[col]}"] += 1.0 / size[cell]
    return out


def assign(cell_of: dict, features: dict, seed: int = 0, k: int = NEIGHBOURS) -> dict:
    """``{cell: persona_type}`` from the cells' feature weights (TF-IDF, cosine, kNN, Leiden)."""
    cells = sorted(set(cell_of.values()))
    if not cells:
        return {}
    vocab = sorted({f for c in cells for f in features.get(c, {})})
    index = {f: j for j, f in enumerate(vocab)}
    x = np.zeros((len(cells), len(vocab)))
    for i, c in enumerate(cells):
        for f, w in features.get(c, {}).items():
            x[i, index[f]] = w
    df = (x > 0).sum(axis=0)
    x *= np.log((1 + len(cells)) / (1 + df)) + 1.0
    norm = np.linalg.norm(x, axis=1)
    x = x / np.where(norm > 0, norm, 1.0)[:, None]
    sim = x @ x.T
    np.fill_diagonal(sim, 0.0)
    edges = {}
    for i in range(len(cells)):
        for j in np.argsort(-sim[i], kind="stable")[:k]:
            if sim[i, j] >= MIN_SIMILARITY:
                edges[(min(i, j), max(i, j))] = float(sim[i, j])
    label = list(range(len(cells)))
    if edges:
        pairs = sorted(edges)
        g = ig.Graph(n=len(cells), edges=pairs)
        g.es["weight"] = [edges[p] for p in pairs]
        label = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                         seed=seed, n_iterations=-1).membership
    size = Counter()
    members = defaultdict(list)
    per_cell = Counter(cell_of.values())
    for c, lab in zip(cells, label):
        members[lab].append(c)
        size[lab] += per_cell[c]
    ordered = sorted(members, key=lambda lab: (-size[lab], min(members[lab])))
    number = {lab: n for n, lab in enumerate(ordered, start=1)}
    return {c: number[lab] for c, lab in zip(cells, label)}


def persona_types(case, seed: int = 0) -> int:
    """Add ``persona_type`` to ``clusters`` (flagged accounts with a cell) and write ``persona_types``
    (type, cells, networks, accounts, top features). Returns the number of types."""
    engine = case.engine
    rows = engine.query("""SELECT account_id, network, cell FROM clusters
                           WHERE status = 'flagged' AND cell IS NOT NULL ORDER BY account_id""").to_pylist()
    cell_of = {r["account_id"]: r["cell"] for r in rows}
    features = cell_profiles(engine, cell_of)
    type_of = assign(cell_of, features, seed=seed)
    engine.execute("UPDATE clusters SET persona_type = NULL")
    engine.register("_pt", pa.table({"cell": pa.array(sorted(type_of), pa.int64()),
                                     "persona_type": pa.array([type_of[c] for c in sorted(type_of)], pa.int64())}))
    try:
        engine.execute("""UPDATE clusters SET persona_type = t.persona_type FROM _pt t
                          WHERE clusters.cell = t.cell AND clusters.status = 'flagged'""")
    finally:
        engine.unregister("_pt")
    summary = defaultdict(lambda: {"cells": set(), "networks": set(), "accounts": 0, "features": Counter()})
    for r in rows:
        t = type_of[r["cell"]]
        summary[t]["cells"].add(r["cell"])
        summary[t]["networks"].add(r["network"])
        summary[t]["accounts"] += 1
    for c, t in type_of.items():
        summary[t]["features"].update(features.get(c, {}))
    ts = sorted(summary)
    tops = {t: [f for f, _ in sorted(summary[t]["features"].items(), key=lambda x: (-x[1], x[0]))[:8]] for t in ts}
    names = readable(engine, sorted({f for fs in tops.values() for f in fs}))
    case.write_table("persona_types", pa.table({
        "persona_type": pa.array(ts, pa.int64()),
        "accounts": pa.array([summary[t]["accounts"] for t in ts], pa.int64()),
        "cells": pa.array([", ".join(map(str, sorted(summary[t]["cells"]))) for t in ts], pa.string()),
        "networks": pa.array([", ".join(map(str, sorted(summary[t]["networks"]))) for t in ts], pa.string()),
        "top_features": pa.array(["; ".join(names.get(f, f) for f in tops[t]) for t in ts], pa.string())}))
    return len(ts)


def readable(engine, features: list) -> dict:
    """Feature keys as a reader knows them: accounts by handle, texts and retweeted posts by their
    first words (still escaped wherever they are shown: they are the operators' words)."""
    out = {}
    acc = [f.split(":", 1)[1] for f in features if f.startswith(("@:", "to:"))]
    txt = [f.split(":", 1)[1] for f in features if f.startswith("tx:")]
    rts = [f.split(":", 1)[1] for f in features if f.startswith("rt:")]
    handles = _by_key(engine, acc, """SELECT account_id, min(handle) FROM accounts
                                      WHERE account_id IN (SELECT k FROM _pt_ids) AND handle IS NOT NULL
                                      GROUP BY account_id""")
    texts = _by_key(engine, txt, """SELECT text_hash, min(text) FROM posts WHERE text_hash IN (SELECT k FROM _pt_ids)
                                    GROUP BY text_hash""")
    posts = _by_key(engine, rts, "SELECT post_id, text FROM posts WHERE post_id IN (SELECT k FROM _pt_ids)")
    for f in features:
        kind, _, key = f.partition(":")
        if kind in ("@", "to") and key in handles:
            out[f] = ("@" if kind == "@" else "replies/retweets to @") + handles[key]
        elif kind == "tx" and key in texts:
            out[f] = f'text "{(texts[key] or "")[:60]}"'
        elif kind == "rt" and key in posts:
            out[f] = f'retweet of "{(posts[key] or "")[:60]}"'
        elif kind == "h":
            out[f] = "#" + key
        elif kind == "d":
            out[f] = "domain " + key
    return out


def _by_key(engine, keys: list, sql: str) -> dict:
    """``{key: value}`` from ``sql``'s two columns, ``sql`` reading the keys as ``_pt_ids(k)``."""
    if not keys:
        return {}
    engine.register("_pt_ids", pa.table({"k": pa.array(keys, pa.string())}))
    try:
        t = engine.query(sql)
    finally:
        engine.unregister("_pt_ids")
    return dict(zip(t.column(0).to_pylist(), t.column(1).to_pylist()))


__all__ = ["persona_types", "assign", "cell_profiles", "readable"]
