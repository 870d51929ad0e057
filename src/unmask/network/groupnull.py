"""Groups calibrated for how they were found: the same links -> fusion -> BH -> Leiden -> group test,
run again on null worlds made from the run's own candidate links.

The group test (:mod:`unmask.network.groups`) takes a group as given, but Leiden chose it from the
same links. A null world answers what the pipeline finds when no link is real: every stored
candidate edge of every trace gets a p-value drawn from its null (uniform: each trace's p-values
are tested to be uniform or conservative under its null), and the rest of the pipeline runs
unchanged (families, Brown and Tippett, BH with the run's number of tested pairs, Leiden with the
run's resolution and seed, the analytic group test). The strongest group of each world (its group
p-value; 1 when the world has none) gives the null distribution of the best group, and an
observed group's selection p-value is ``(1 + #{worlds whose best group is at least as strong}) /
(1 + W)``: its resolution is ``1 / (1 + W)`` (19 worlds: 0.05).

Cheaply: only p-values that can pass BH matter. With at most ``K`` rejections BH's threshold is
below ``tau = alpha * K / m``, so a world draws, per trace, how many of its ``n_t`` edges fall below
``tau`` (binomial), which ones (uniformly), and their p-values (uniform below ``tau``); every other
edge is left at ``p > tau`` and treated as 1. ``K`` is generous (ten times the run's own significant
links, at least 1,000), so the worlds cost milliseconds; the benchmark records them.

What it assumes: links are false independently of one another in a null world. A shared cause
that makes many false links land together (a cascade) is not reproduced; that is the link nulls'
job (popularity and rhythm), and the report says so.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

WORLDS = 19


def best_null_groups(engine, traces, m_pairs: int, alpha: float, resolution: float, seed: int,
                     min_cluster: int, n_significant: int, worlds: int = WORLDS) -> list[dict]:
    """Per null world: its strongest group's p-value (1.0 when it has none), size and links."""
    from unmask.network import clustering, fusion, groups

    if worlds <= 0 or m_pairs <= 0:
        return []
    counts = engine.query("SELECT trace, count(*) AS n FROM edges GROUP BY trace ORDER BY trace").to_pylist()
    if not counts:
        return [{"world": w, "best_p": 1.0, "size": 0, "links": 0} for w in range(worlds)]
    K = max(1000, 10 * int(n_significant))
    tau = min(1.0, alpha * K / m_pairs)
    draws = []
    for w in range(worlds):
        rng = np.random.default_rng([int(seed), 7_411, w])
        for row in counts:
            c = int(rng.binomial(row["n"], tau))
            if c:
                idx = rng.choice(row["n"], c, replace=False)
                draws.append((w, row["trace"], np.sort(idx), rng.uniform(0, tau, c)))
    out = []
    picked = _picked_edges(engine, draws)
    for w in range(worlds):
        tables = [table for (ww, _), table in picked.items() if ww == w]
        best = {"world": w, "best_p": 1.0, "size": 0, "links": 0}
        if tables:
            fused = fusion.fuse(tables, traces, m_pairs)
            sig = fused.filter(pc.less_equal(fused.column("q_fused"), alpha))
            if sig.num_rows:
                part = clustering.leiden(sig, resolution=resolution, seed=seed, min_size=min_cluster)
                members = clustering.candidate_members(part)
                rows = fusion.link_rows(sig)
                for g, t in groups.test_groups(members, rows, alpha, m_pairs).items():
                    if t["p"] < best["best_p"]:
                        best = {"world": w, "best_p": float(t["p"]), "size": len(members[g]), "links": t["links"]}
        out.append(best)
    return out


def _picked_edges(engine, draws) -> dict:
    """The drawn edges as per-(world, trace) tables of ``account_a, account_b, trace, weight, p_value``.
    Edges are numbered per trace in the case's own order (trace, account_a, account_b)."""
    if not draws:
        return {}
    engine.register("_null_draw", pa.table({
        "world": pa.array(np.concatenate([np.full(len(i), w) for w, _, i, _ in draws]), pa.int64()),
        "trace": pa.array([t for _, t, i, _ in draws for _ in range(len(i))], pa.string()),
        "rn": pa.array(np.concatenate([i + 1 for _, _, i, _ in draws]), pa.int64()),
        "p_value": pa.array(np.concatenate([p for _, _, _, p in draws]), pa.float64())}))
    try:
        rows = engine.query(f"""
            SELECT d.world, e.account_a, e.account_b, e.trace, e.weight, d.p_value {_numbered(engine)}
            ORDER BY d.world, e.trace, e.account_a, e.account_b""")
    finally:
        engine.unregister("_null_draw")
    out = {}
    world, trace = rows.column("world").to_numpy(), rows.column("trace").to_pylist()
    keys = list(zip(world.tolist(), trace))
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            out[keys[start]] = rows.slice(start, i - start).drop(["world"])
            start = i
    return out


def _numbered(engine, by_position: bool = True) -> str:
    """The FROM clause that meets each draw (``_null_draw``: trace, rn) with the trace's rn-th edge
    in (account_a, account_b) order. ``edges`` is stored in (trace, account_a, account_b) order
    (:func:`unmask.network.significance.store_qvalues` writes it sorted), so where the engine keeps
    each row's stored position and every trace's rows are contiguous, the rn-th edge is the row at
    the trace's first position + rn - 1: a join instead of numbering every edge by a sort (22 s of
    the 26 s that the null worlds took on 45M edges). Otherwise, and with ``by_position`` false,
    the edges are numbered by a window."""
    from unmask.ingest.sqlexpr import q

    pos = engine.position("edges") if by_position else None
    if pos:
        spans = engine.query(f"SELECT trace, min({pos}) AS r0, max({pos}) AS r1, count(*) AS n FROM edges "
                             "GROUP BY trace ORDER BY trace").to_pylist()
        if spans and all(r["r1"] - r["r0"] + 1 == r["n"] for r in spans):
            first = ", ".join(f"({q(r['trace'])}, {int(r['r0'])})" for r in spans)  # read once, above
            return f"""FROM _null_draw d
                JOIN (VALUES {first}) f(trace, r0) ON f.trace = d.trace
                JOIN (SELECT {pos} AS pos, trace, account_a, account_b, weight FROM edges) e
                  ON e.pos = f.r0 + d.rn - 1 AND e.trace = d.trace"""
    return """FROM (SELECT trace, account_a, account_b, weight,
                           row_number() OVER (PARTITION BY trace ORDER BY account_a, account_b) AS rn FROM edges) e
              JOIN _null_draw d ON d.trace = e.trace AND d.rn = e.rn"""


def selection_pvalue(group_p: float, null_best: list[dict]) -> float:
    """``(1 + #{null worlds whose best group p-value <= group_p}) / (1 + W)``; 1.0 with no worlds."""
    if not null_best:
        return 1.0
    beaten = sum(1 for b in null_best if b["best_p"] <= group_p)
    return (1.0 + beaten) / (1.0 + len(null_best))


__all__ = ["best_null_groups", "selection_pvalue", "WORLDS"]
