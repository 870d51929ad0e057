"""Fuse per-trace links into one network, keeping per-trace evidence.

Two valid combinations of a pair's per-trace p-values, over the ``T`` traces that ran (a trace
without a link counts as ``p = 1``):

* Fisher: ``X = -2 * sum(ln p_t)`` against a chi-square on ``2T`` degrees of freedom, which lets
  several moderate traces add up;
* Tippett: ``1 - (1 - min p_t)^T``, which lets one very strong trace carry the pair.

The fused p-value is ``min(1, 2 * min(Fisher, Tippett))``: the factor 2 is a Bonferroni
correction for taking the better of the two, so the result stays a valid p-value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import gammaincc

from unmask.network.significance import bh

P_FLOOR = 1e-300


FUSED_SCHEMA = pa.schema([("account_a", pa.string()), ("account_b", pa.string()), ("p_fused", pa.float64()),
                          ("q_fused", pa.float64()), ("n_traces", pa.int64()), ("traces", pa.string()),
                          ("strength", pa.float64())])


def fuse(trace_tables: list[pa.Table], n_traces: int, m_pairs: int) -> pa.Table:
    """:func:`fuse_relation` over in-memory per-trace tables, on an embedded engine of its own."""
    cols = pa.schema([("account_a", pa.string()), ("account_b", pa.string()), ("trace", pa.string()),
                      ("weight", pa.int64()), ("p_value", pa.float64())])
    parts = [t.select(cols.names).cast(cols) for t in trace_tables if t.num_rows]
    if not parts:
        return FUSED_SCHEMA.empty_table()
    from unmask.engines import get_engine

    engine = get_engine("duckdb")
    engine.register("_fuse_in", pa.concat_tables(parts))
    try:
        return fuse_relation(engine, "_fuse_in", n_traces, m_pairs)
    finally:
        engine.close()


def fuse_relation(engine, relation: str, n_traces: int, m_pairs: int) -> pa.Table:
    """One row per account pair of ``relation`` (rows ``account_a, account_b, trace, weight, p_value``):
    fused p and q, and per-trace weights and p-values (``traces``: ``trace:weight:p`` joined by ``;``,
    traces in name order). The engine sorts the rows by pair and trace and formats each row's
    evidence; each pair's terms are then summed with ``reduceat`` in trace order (so the result does
    not depend on threads), and only pairs linked by several traces are joined in Python."""
    rows = engine.query(f"""
        SELECT account_a, account_b, p_value,
               trace || ':' || CAST(weight AS VARCHAR) || ':' || printf('%.3g', p_value) AS row_text
        FROM {relation} ORDER BY account_a, account_b, trace""")
    n = rows.num_rows
    if n == 0:
        return FUSED_SCHEMA.empty_table()
    a, b = rows.column("account_a").combine_chunks(), rows.column("account_b").combine_chunks()
    change = np.ones(n, bool)
    if n > 1:
        change[1:] = pc.or_(pc.not_equal(a.slice(1), a.slice(0, n - 1)),
                            pc.not_equal(b.slice(1), b.slice(0, n - 1))).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(change)
    p_rows = rows.column("p_value").to_numpy()
    stat = -2.0 * np.add.reduceat(np.log(np.maximum(p_rows, P_FLOOR)), starts)
    pmin = np.minimum.reduceat(p_rows, starts)
    n_tr = np.diff(np.append(starts, n))
    T = max(n_traces, 1)
    fisher = gammaincc(T, stat / 2.0)  # the chi-square(2T) tail
    tippett = -np.expm1(T * np.log1p(-np.minimum(pmin, 1 - 1e-16)))
    tippett = np.where(pmin < 1e-12, T * pmin, tippett)
    p = np.maximum(np.minimum(1.0, 2 * np.minimum(fisher, tippett)), P_FLOOR)
    q = bh(p, m_pairs)
    take = pa.array(starts)
    row_text = rows.column("row_text").combine_chunks()
    traces = row_text.take(take)
    multi = np.flatnonzero(n_tr > 1)
    if len(multi):  # pairs linked by several traces: their rows joined in trace order
        texts = traces.to_pylist()
        for g in multi:
            texts[g] = ";".join(row_text.slice(starts[g], n_tr[g]).to_pylist())
        traces = pa.array(texts, pa.string())
    return pa.table({
        "account_a": a.take(take), "account_b": b.take(take), "p_fused": p, "q_fused": q,
        "n_traces": n_tr.astype(np.int64), "traces": traces,
        "strength": np.minimum(-np.log10(p), 300.0),
    }).cast(FUSED_SCHEMA)
