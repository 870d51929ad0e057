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

from collections import defaultdict

import numpy as np
import pyarrow as pa
from scipy.stats import chi2

from unmask.network.significance import bh

P_FLOOR = 1e-300


def fuse(trace_tables: list[pa.Table], n_traces: int, m_pairs: int) -> pa.Table:
    """One row per account pair: fused p and q, and per-trace weights and p-values as JSON-ready dicts."""
    acc = defaultdict(dict)
    for t in trace_tables:
        for row in t.select(["account_a", "account_b", "trace", "weight", "p_value"]).to_pylist():
            acc[(row["account_a"], row["account_b"])][row["trace"]] = (row["weight"], row["p_value"])
    pairs = sorted(acc)
    if not pairs:
        return pa.table({"account_a": pa.array([], pa.string()), "account_b": pa.array([], pa.string()),
                         "p_fused": pa.array([], pa.float64()), "q_fused": pa.array([], pa.float64()),
                         "n_traces": pa.array([], pa.int64()), "traces": pa.array([], pa.string()),
                         "strength": pa.array([], pa.float64())})
    stat = np.array([-2.0 * sum(np.log(max(p, P_FLOOR)) for _, p in acc[k].values()) for k in pairs])
    T = max(n_traces, 1)
    fisher = chi2.sf(stat, 2 * T)
    pmin = np.array([min(p for _, p in acc[k].values()) for k in pairs])
    tippett = -np.expm1(T * np.log1p(-np.minimum(pmin, 1 - 1e-16)))
    tippett = np.where(pmin < 1e-12, T * pmin, tippett)
    p = np.maximum(np.minimum(1.0, 2 * np.minimum(fisher, tippett)), P_FLOOR)
    q = bh(p, m_pairs)
    return pa.table({
        "account_a": [a for a, _ in pairs], "account_b": [b for _, b in pairs],
        "p_fused": p, "q_fused": q, "n_traces": [len(acc[k]) for k in pairs],
        "traces": [";".join(f"{t}:{w}:{pv:.3g}" for t, (w, pv) in sorted(acc[k].items())) for k in pairs],
        "strength": np.minimum(-np.log10(p), 300.0),
    })
