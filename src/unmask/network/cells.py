"""Cells: the groups inside a network that share content and targets (its personas).

A *network* is a community of the fused, significant graph: what a platform would take down
together. Fusion also counts synchronized posting, which ties together every persona one office
runs. A *cell* is found inside one network from what its members post, whatever the timing: each
member's content profile counts the retweeted posts, normalised texts, hashtags, links, domains,
reply and retweet targets and mentions it shares with at least one other member (TF-IDF weights,
``log(1 + count) * log(n / df)`` within the network). Members are joined to their ``k`` most
similar members (cosine), and modularity Leiden, seeded, splits that graph. Members with no
shared content join the cell they share most fused strength with, or stay a cell of their own.
"""

from __future__ import annotations

from collections import defaultdict

import igraph as ig
import leidenalg
import numpy as np
import pyarrow as pa

NEIGHBOURS = 10  # each member's most similar members kept in the cell graph


def cells_of(engine, members: list, fused_links: list, seed: int = 0, resolution: float = 1.0,
             k: int = NEIGHBOURS, profile=None) -> dict:
    """Cell index (0 = largest) for each member of one network, from the case's posts.

    ``profile`` may be a profile table read once for several networks (:func:`profiles` over all
    their members); only this network's members and the objects two of them share are used."""
    if profile is None:
        profile = profiles(engine, members)
    else:
        profile = _restrict(profile, members)
    return split(members, similar(profile, members, k=k), fused_links, seed, resolution)


def _restrict(profile: pa.Table, members: list) -> pa.Table:
    """The rows of ``members``, and of objects at least two of them share."""
    import pyarrow.compute as pc

    mine = profile.filter(pc.is_in(profile.column("account_id"), value_set=pa.array(sorted(members), pa.string())))
    counts = mine.group_by("object").aggregate([("account_id", "count")])
    shared = counts.filter(pc.greater_equal(counts.column("account_id_count"), 2)).column("object")
    return mine.filter(pc.is_in(mine.column("object"), value_set=shared)).sort_by([("account_id", "ascending"),
                                                                                  ("object", "ascending")])


def split(members: list, content_links: list, fused_links: list, seed: int = 0, resolution: float = 1.0) -> dict:
    """Cell index (0 = largest) for each member of one network.

    ``content_links`` are ``(a, b, weight)`` content similarities, ``fused_links`` ``(a, b, strength)``;
    links to accounts outside ``members`` are ignored.
    """
    names = sorted(members)
    index = {n: i for i, n in enumerate(names)}
    w = defaultdict(float)
    for a, b, x in content_links:
        if a in index and b in index and a != b and x > 0:
            w[(index[a], index[b]) if a < b else (index[b], index[a])] += float(x)
    linked = {i for pair in w for i in pair}
    label = {}
    if w:
        pairs = sorted(w)
        g = ig.Graph(n=len(names), edges=pairs)
        g.es["weight"] = [w[p] for p in pairs]
        part = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                        resolution_parameter=resolution, seed=seed, n_iterations=-1)
        for v, c in enumerate(part.membership):
            if v in linked:
                label[v] = c
    # Members without a content link: join the cell they share most fused strength with.
    pull = defaultdict(lambda: defaultdict(float))
    for a, b, s in fused_links:
        if a in index and b in index:
            ia, ib = index[a], index[b]
            if ia in label and ib not in label:
                pull[ib][label[ia]] += s
            elif ib in label and ia not in label:
                pull[ia][label[ib]] += s
    next_label = max(label.values(), default=-1) + 1
    for v in range(len(names)):
        if v in label:
            continue
        if pull[v]:
            label[v] = min(pull[v].items(), key=lambda x: (-x[1], x[0]))[0]
        else:
            label[v], next_label = next_label, next_label + 1
    groups = defaultdict(list)
    for v, c in label.items():
        groups[c].append(names[v])
    ordered = sorted(groups.values(), key=lambda m: (-len(m), min(m)))
    return {acc: i for i, accs in enumerate(ordered) for acc in accs}


def profiles(engine, members: list) -> pa.Table:
    """``account_id, object, n``: what each member posts that another member of the list also posts."""
    engine.register("_cell_members", pa.table({"account_id": pa.array(sorted(members), pa.string())}))
    try:
        return engine.query(f"""
            WITH p AS (SELECT * FROM posts WHERE account_id IN (SELECT account_id FROM _cell_members)),
            o AS (SELECT account_id, 'rt:' || ref_post_id AS object FROM p WHERE kind = 'retweet' AND ref_post_id IS NOT NULL
                  UNION ALL SELECT account_id, 'to:' || ref_account_id FROM p WHERE ref_account_id IS NOT NULL
                  UNION ALL SELECT account_id, 'tx:' || text_hash FROM p WHERE kind <> 'retweet' AND text_hash IS NOT NULL
                  UNION ALL SELECT account_id, 'h:' || lower(h) FROM (SELECT account_id, {engine.explode('hashtags')} AS h FROM p)
                  UNION ALL SELECT account_id, '@:' || lower(m) FROM (SELECT account_id, {engine.explode('mentions')} AS m FROM p)
                  UNION ALL SELECT account_id, 'd:' || d FROM (SELECT account_id, {engine.explode('domains')} AS d FROM p)
                  UNION ALL SELECT account_id, 'l:' || link_key FROM post_links
                            WHERE account_id IN (SELECT account_id FROM _cell_members)),
            c AS (SELECT account_id, object, count(*) AS n FROM o WHERE object IS NOT NULL GROUP BY account_id, object)
            SELECT account_id, object, n FROM c
            WHERE object IN (SELECT object FROM c GROUP BY object HAVING count(*) >= 2)
            ORDER BY account_id, object""")
    finally:
        engine.unregister("_cell_members")


def similar(profile: pa.Table, members: list, k: int = 10, chunk: int = 1000) -> list:
    """``(a, b, cosine)`` from each member to its ``k`` most similar members (TF-IDF profiles)."""
    from scipy import sparse

    names = sorted(members)
    index = {n: i for i, n in enumerate(names)}
    accs = profile.column("account_id").to_pylist()
    objs = profile.column("object").to_pylist()
    if not accs:
        return []
    obj_index = {o: j for j, o in enumerate(sorted(set(objs)))}
    rows = np.array([index[a] for a in accs])
    cols = np.array([obj_index[o] for o in objs])
    tf = np.log1p(profile.column("n").to_numpy().astype(float))
    df = np.bincount(cols, minlength=len(obj_index)).astype(float)
    idf = np.log(len(names) / df) + 1e-9
    x = sparse.csr_matrix((tf * idf[cols], (rows, cols)), shape=(len(names), len(obj_index)))
    norm = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x = sparse.diags(np.where(norm > 0, 1.0 / np.maximum(norm, 1e-300), 0.0)) @ x
    xt = x.T.tocsc()
    out = []
    for lo in range(0, len(names), chunk):
        sim = (x[lo:lo + chunk] @ xt).toarray()
        for r in range(sim.shape[0]):
            i = lo + r
            sim[r, i] = 0.0
            top = np.argsort(-sim[r], kind="stable")[:k]
            out += [(names[i], names[j], float(sim[r, j])) for j in top if sim[r, j] > 0]
    return out
