"""How surprising is each link? A null model per trace, then Benjamini-Hochberg across links.

Volume null (degree-corrected configuration model of the co-action graph): the ``C``
co-actions observed between different accounts (hot objects included, before any cap) are
spread over account pairs in proportion to the product of their volumes ``k`` (actions in the
trace). With ``M = sum k``, pair (a, b) expects ``lambda = C * k_a * k_b / ((M^2 - sum k^2) / 2)``
co-actions, and the edge's p-value is the Poisson tail ``P(X >= weight)``. Viral posts and
other crowd objects raise ``C``, and so the bar for everyone; busy accounts raise their own
``lambda``. An account repeating itself (a bot's template) does not raise anyone's bar.

Rhythm null (traces whose objects recur day after day: text, hashtags, domains, mentions,
synchronized posting): each account's timeline is shifted by whole weeks, keeping its daily and
weekly rhythm, and the pair's co-actions are counted again in the worlds where the two
timelines moved apart (see :func:`unmask.traces.base.rhythm_null`). Its expectation
``(mean count * shuffles + 0.5) / shuffles`` gives a
second Poisson tail. An edge's p-value is the larger of the two (an intersection-union test:
the link must beat both nulls). See docs/methods.md for assumptions and failure modes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import poisson


def trace_pvalues(result) -> pa.Table:
    """The trace's edges with ``expected`` (lambda) and ``p_value`` columns added."""
    edges = result.edges
    if edges.num_rows == 0:
        empty = pa.array([], pa.float64())
        return (edges.append_column("expected", empty).append_column("expected_rhythm", empty)
                .append_column("p_value", empty))
    counts = dict(zip(result.account_actions.column("account_id").to_pylist(),
                      result.account_actions.column("k").to_pylist()))
    k = np.array(list(counts.values()), float)
    M = max(k.sum(), 2.0)
    C = max(int(result.stats["cross_pairs"]) + int(result.stats["pairs_skipped_hot"]), 1)
    rate = C / max((M * M - (k * k).sum()) / 2.0, 1.0)
    ka = np.array([counts.get(a, 1) for a in edges.column("account_a").to_pylist()], float)
    kb = np.array([counts.get(b, 1) for b in edges.column("account_b").to_pylist()], float)
    lam = ka * kb * rate
    w = edges.column("weight").to_numpy().astype(float)
    p = poisson.sf(w - 1, lam)
    shuffles = (result.stats.get("rhythm_null") or {}).get("shuffles", 0)
    if result.rhythm_expected is not None and shuffles:
        lam_r = (np.nan_to_num(np.asarray(result.rhythm_expected, float), nan=np.inf) * shuffles + 0.5) / shuffles
        p = np.maximum(p, poisson.sf(w - 1, lam_r))
    else:
        lam_r = np.full(len(w), np.nan)
    return (edges.append_column("expected", pa.array(lam)).append_column("expected_rhythm", pa.array(lam_r))
            .append_column("p_value", pa.array(p)))


def bh(p: np.ndarray, m: int | None = None) -> np.ndarray:
    """Benjamini-Hochberg q-values; ``m`` counts every hypothesis tested, stored or not."""
    p = np.asarray(p, float)
    n = len(p)
    if n == 0:
        return p
    m = max(int(m or n), n)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def expected_false(q: np.ndarray, alpha: float) -> float:
    """Expected number of false links among those kept at FDR ``alpha`` (sum of kept q is a bound)."""
    kept = q[q <= alpha]
    return float(alpha * len(kept))


def with_qvalues(table: pa.Table, m: int) -> pa.Table:
    q = bh(table.column("p_value").to_numpy(), m)
    return table.append_column("q_value", pa.array(q))


__all__ = ["trace_pvalues", "bh", "expected_false", "with_qvalues", "pc"]
