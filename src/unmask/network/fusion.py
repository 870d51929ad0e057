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
from scipy.stats import chi2

from unmask.network.significance import bh

P_FLOOR = 1e-300


def fuse(trace_tables: list[pa.Table], n_traces: int, m_pairs: int) -> pa.Table:
    """One row per account pair: fused p and q, and per-trace weights and p-values (``traces``:
    ``trace:weight:p`` joined by ``;``, traces in name order). Vectorised: the rows of all traces are
    sorted by pair once and each pair's terms are summed with ``reduceat``; only pairs with links in
    several traces are joined in Python."""
    cols = pa.schema([("account_a", pa.string()), ("account_b", pa.string()), ("trace", pa.string()),
                      ("weight", pa.int64()), ("p_value", pa.float64())])
    parts = [t.select(cols.names).cast(cols) for t in trace_tables if t.num_rows]
    if not parts:
        return pa.table({"account_a": pa.array([], pa.string()), "account_b": pa.array([], pa.string()),
                         "p_fused": pa.array([], pa.float64()), "q_fused": pa.array([], pa.float64()),
                         "n_traces": pa.array([], pa.int64()), "traces": pa.array([], pa.string()),
                         "strength": pa.array([], pa.float64())})
    t = pa.concat_tables(parts).sort_by([("account_a", "ascending"), ("account_b", "ascending"),
                                         ("trace", "ascending")])
    a, b = t.column("account_a").combine_chunks(), t.column("account_b").combine_chunks()
    n = t.num_rows
    change = np.ones(n, bool)
    if n > 1:
        change[1:] = pc.or_(pc.not_equal(a.slice(1), a.slice(0, n - 1)),
                            pc.not_equal(b.slice(1), b.slice(0, n - 1))).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(change)
    p_rows = t.column("p_value").to_numpy()
    stat = -2.0 * np.add.reduceat(np.log(np.maximum(p_rows, P_FLOOR)), starts)
    pmin = np.minimum.reduceat(p_rows, starts)
    n_tr = np.diff(np.append(starts, n))
    T = max(n_traces, 1)
    fisher = chi2.sf(stat, 2 * T)
    tippett = -np.expm1(T * np.log1p(-np.minimum(pmin, 1 - 1e-16)))
    tippett = np.where(pmin < 1e-12, T * pmin, tippett)
    p = np.maximum(np.minimum(1.0, 2 * np.minimum(fisher, tippett)), P_FLOOR)
    q = bh(p, m_pairs)
    row_text = np.char.add(np.char.add(np.char.add(np.char.add(
        t.column("trace").to_numpy(zero_copy_only=False).astype(str), ":"),
        t.column("weight").to_numpy().astype(str)), ":"), np.char.mod("%.3g", p_rows))
    traces = row_text[starts].astype(object)
    for g in np.flatnonzero(n_tr > 1):
        traces[g] = ";".join(row_text[starts[g]:starts[g] + n_tr[g]])
    take = pa.array(starts)
    return pa.table({
        "account_a": a.take(take), "account_b": b.take(take), "p_fused": p, "q_fused": q,
        "n_traces": n_tr.astype(np.int64), "traces": pa.array(traces, pa.string()),
        "strength": np.minimum(-np.log10(p), 300.0),
    })
