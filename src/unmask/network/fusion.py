"""Fuse per-trace links into one network, keeping per-trace evidence.

Traces are not independent: several count the same posts (co_text's matches are near-duplicates
too, a shared link is a shared domain, a fast retweet is a co-retweet's half, and synchronized
posting counts every post). Fisher's method over such traces counts one piece of evidence many
times (six traces at p = 0.01 fused to 7.5e-5). So, over the traces that ran:

1. **Families.** Traces that count the same posts form a family (:attr:`Trace.family`: text,
   link, retweet; every other trace is a family of its own). A family's p-value is its best
   trace's, Bonferroni-corrected for the family's size: ``p_f = min(1, n_f * min p_t)``, valid
   whatever the dependence inside the family.
2. **Across families**, which may still share posts (synchronized posting with all), Brown's
   method: ``X = -2 * sum(ln p_f)`` is referred to a scaled chi-square ``c * chi2(k)`` with
   ``E[X] = 2F`` and ``Var[X] = 4F + 2 * sum_{f<g} cov(-2 ln p_f, -2 ln p_g)``; the covariances are
   estimated from the run's own linked pairs through rank correlation, so that the coordinated
   pairs' extreme values do not set them (:func:`null_covariance`), and never taken below 0 (a family pair that
   looks negatively dependent is treated as independent). Under perfect dependence this gives back the
   single family's p; under independence it is Fisher's.
3. Tippett across families (``1 - (1 - min p_f)^F``) lets one very strong family carry the pair.

The fused p-value is ``min(1, 2 * min(Brown, Tippett))`` (the 2 pays for taking the better). A family
with no link for the pair counts as ``p = 1``. docs/methods.md states what this assumes.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import gammaincc

from unmask.network.significance import bh

P_FLOOR = 1e-300


FUSED_SCHEMA = pa.schema([("account_a", pa.string()), ("account_b", pa.string()), ("p_fused", pa.float64()),
                          ("q_fused", pa.float64()), ("n_traces", pa.int64()), ("traces", pa.string()),
                          ("strength", pa.float64())])


def fuse(trace_tables: list[pa.Table], traces: list, m_pairs: int) -> pa.Table:
    """:func:`fuse_relation` over in-memory per-trace tables, on an embedded engine of its own
    (``traces``: the traces that ran)."""
    cols = pa.schema([("account_a", pa.string()), ("account_b", pa.string()), ("trace", pa.string()),
                      ("weight", pa.int64()), ("p_value", pa.float64())])
    parts = [t.select(cols.names).cast(cols) for t in trace_tables if t.num_rows]
    if not parts:
        return FUSED_SCHEMA.empty_table()
    from unmask.engines import get_engine

    engine = get_engine("duckdb")
    engine.register("_fuse_in", pa.concat_tables(parts))
    try:
        return fuse_relation(engine, "_fuse_in", traces, m_pairs)
    finally:
        engine.close()


def families(trace_names) -> dict:
    """Trace -> family, for the traces that ran (a trace not registered is a family of its own)."""
    from unmask.traces import TRACES

    return {t: (TRACES[t].family if t in TRACES and TRACES[t].family else t) for t in trace_names}


def fuse_relation(engine, relation: str, traces: list, m_pairs: int) -> pa.Table:
    """One row per account pair of ``relation`` (rows ``account_a, account_b, trace, weight, p_value``):
    fused p and q (see the module docstring), and per-trace weights and p-values (``traces``:
    ``trace:weight:p`` joined by ``;``, traces in name order). ``traces`` are the traces that ran
    (each row's trace among them).

    The engine gathers each pair's rows (a hash aggregate: one column of weights and one of p-values
    per trace, and the evidence text built from them in trace order) and sorts the pairs; the
    statistics run on those columns, pair by pair in that order (so the result does not depend on
    threads). Where one trace ran, its rows are the pairs and nothing is gathered."""
    from unmask.ingest.sqlexpr import q

    names = sorted(traces)
    present = sorted(r["trace"] for r in engine.query(f"SELECT DISTINCT trace FROM {relation}").to_pylist())
    if not present:
        return FUSED_SCHEMA.empty_table()
    unknown = sorted(set(present) - set(names))
    if unknown:
        raise ValueError(f"{relation} holds traces that did not run: {', '.join(unknown)}")

    def text(w, p, t):
        return f"{q(t)} || ':' || CAST({w} AS VARCHAR) || ':' || printf('%.3g', {p})"

    if len(present) == 1:  # every row is a pair of its own
        rows = engine.query(f"""SELECT account_a, account_b, 1::BIGINT AS n_traces,
                                       {text('weight', 'p_value', present[0])} AS traces, p_value AS p0
                                FROM {relation} ORDER BY account_a, account_b""")
    else:
        cols = ", ".join(f"max(weight) FILTER (WHERE trace = {q(t)}) AS w{i}, "
                         f"max(p_value) FILTER (WHERE trace = {q(t)}) AS p{i}" for i, t in enumerate(present))
        evidence = ", ".join(f"CASE WHEN w{i} IS NOT NULL THEN {text(f'w{i}', f'p{i}', t)} END"
                             for i, t in enumerate(present))
        rows = engine.query(f"""
            SELECT account_a, account_b, n_traces, concat_ws(';', {evidence}) AS traces,
                   {', '.join(f'p{i}' for i in range(len(present)))}
            FROM (SELECT account_a, account_b, count(*)::BIGINT AS n_traces, {cols}
                  FROM {relation} GROUP BY account_a, account_b)
            ORDER BY account_a, account_b""")
    fam_of = families(names)
    fam_names = sorted(set(fam_of.values()))
    size = Counter(fam_of.values())
    pmin = np.ones((rows.num_rows, len(fam_names)))
    for i, t in enumerate(present):  # a family's best trace; a trace with no link for the pair counts as p = 1
        j = fam_names.index(fam_of[t])
        pmin[:, j] = np.minimum(pmin[:, j], pc.fill_null(rows.column(f"p{i}"), 1.0).to_numpy())
    p_fam = np.minimum(1.0, pmin * np.array([size[f] for f in fam_names], float)[None, :])
    p = combine_families(p_fam)
    return pa.table({
        "account_a": rows.column("account_a"), "account_b": rows.column("account_b"), "p_fused": p,
        "q_fused": bh(p, m_pairs), "n_traces": rows.column("n_traces"), "traces": rows.column("traces"),
        "strength": np.minimum(-np.log10(p), 300.0),
    }).cast(FUSED_SCHEMA)


def combine_families(p_fam: np.ndarray) -> np.ndarray:
    """Fused p-values of pairs (rows) from their family p-values (columns): ``min(1, 2 * min(Brown,
    Tippett))``, Brown's covariances estimated from these rows (see the module docstring)."""
    p_fam = np.maximum(np.asarray(p_fam, float), P_FLOOR)
    n, F = p_fam.shape
    if F == 1:
        return np.maximum(p_fam[:, 0], P_FLOOR)
    x = -2.0 * np.log(p_fam)
    stat = x.sum(axis=1)
    cov = null_covariance(x) if n > 2 else np.zeros((F, F))
    off = np.clip(cov[np.triu_indices(F, 1)], 0.0, None)
    off = np.minimum(off, 4.0)  # cov(-2 ln p) of two uniform p's is at most 4 (perfect dependence)
    mean, var = 2.0 * F, 4.0 * F + 2.0 * off.sum()
    c, k = var / (2.0 * mean), 2.0 * mean * mean / var
    brown = gammaincc(k / 2.0, stat / (2.0 * c))  # the c * chi2(k) tail
    pmin = p_fam.min(axis=1)
    tippett = -np.expm1(F * np.log1p(-np.minimum(pmin, 1 - 1e-16)))
    tippett = np.where(pmin < 1e-12, F * pmin, tippett)
    return np.maximum(np.minimum(1.0, 2 * np.minimum(brown, tippett)), P_FLOOR)


def null_covariance(x: np.ndarray) -> np.ndarray:
    """Covariance of ``-2 ln p`` between families under the null, from the run's rows.

    The rows hold the coordinated pairs too, and theirs are the extreme values (``-2 ln p`` of 500
    in two families at once): a plain covariance is driven by the groups under test, and one group
    strong in two families (volunteers who co-reply and co-link) made Brown's method discount every
    other pair's evidence. So the dependence is read from ranks: ``4 * rho`` with ``rho`` the
    Spearman correlation of the families' p-values (ties share their rank), which a few extreme
    rows barely move, gives 0 for independent and 4 for perfectly dependent families, and lies at
    or above the exact covariance for a Gaussian copula (``4 * 0.48 = 1.93`` against 1.81 at
    correlation 0.5: conservative)."""
    from scipy.stats import rankdata

    ranks = rankdata(x, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):  # a family with one value throughout: no dependence
        rho = np.corrcoef(ranks, rowvar=False)
    return 4.0 * np.nan_to_num(rho)


def link_rows(fused: pa.Table) -> list:
    """``(account_a, account_b, p_fused)`` for each row of a fused table (the group test's input)."""
    return list(zip(fused.column("account_a").to_pylist(), fused.column("account_b").to_pylist(),
                    fused.column("p_fused").to_pylist()))
