"""Leiden clustering (igraph + leidenalg) of the significant fused network, deterministic by seed."""

from __future__ import annotations

import igraph as ig
import leidenalg
import pyarrow as pa


def leiden(edges: pa.Table, resolution: float = 1.0, seed: int = 0, min_size: int = 5):
    """Cluster labels for every account in ``edges`` (``account_a, account_b, strength``).

    Returns an Arrow table ``account_id, cluster, cluster_size, is_candidate``; clusters are
    numbered by size (largest first), then by their smallest account id, so labels are stable.
    """
    a = edges.column("account_a").to_pylist()
    b = edges.column("account_b").to_pylist()
    names = sorted(set(a) | set(b))
    if not names:
        return pa.table({"account_id": pa.array([], pa.string()), "cluster": pa.array([], pa.int64()),
                         "cluster_size": pa.array([], pa.int64()), "is_candidate": pa.array([], pa.bool_())})
    index = {n: i for i, n in enumerate(names)}
    g = ig.Graph(n=len(names), edges=[(index[x], index[y]) for x, y in zip(a, b)])
    g.es["weight"] = edges.column("strength").to_pylist()
    part = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                    resolution_parameter=resolution, seed=seed, n_iterations=-1)
    groups = {}
    for v, c in enumerate(part.membership):
        groups.setdefault(c, []).append(names[v])
    ordered = sorted(groups.values(), key=lambda m: (-len(m), min(m)))
    rows = []
    for cid, members in enumerate(ordered, start=1):
        for m in sorted(members):
            rows.append((m, cid, len(members), len(members) >= min_size))
    rows.sort()
    return pa.table({"account_id": [r[0] for r in rows], "cluster": [r[1] for r in rows],
                     "cluster_size": [r[2] for r in rows], "is_candidate": [r[3] for r in rows]})


def candidate_members(part) -> dict:
    """``{cluster: [account_id, ...]}`` for the clusters of :func:`leiden` large enough to be candidates."""
    members = {}
    for acc, cid, big in zip(part.column("account_id").to_pylist(), part.column("cluster").to_pylist(),
                             part.column("is_candidate").to_pylist()):
        if big:
            members.setdefault(cid, []).append(acc)
    return members
