"""How surprising is each link? A null model per trace, then Benjamini-Hochberg across links.

Popularity null: an account b's random action lands on object o with probability n_o / M and falls
within the window of a given action there with probability about 2 W_o / (n_o (n_o - 1)) (W_o:
within-window action pairs on o, before any cap). Given the objects account a chose, b is expected
to co-act ``k_b * reach_a / M`` times with a (``reach_a = sum over a's actions of 2 W_o / (n_o - 1)``,
computed in the engine); the larger of the two directions is used. Crowded, bunched objects (a
viral cascade) earn a pair little; rare ones earn much. Only pairs that co-acted are tested, so
the p-value is ``P(X >= weight | X >= 1)``.

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
from scipy.special import pdtrc


def trace_pvalues(result) -> pa.Table:
    """The trace's edges with ``expected`` (lambda) and ``p_value`` columns added."""
    edges = result.edges
    if edges.num_rows == 0:
        empty = pa.array([], pa.float64())
        return (edges.append_column("expected", empty).append_column("expected_rhythm", empty)
                .append_column("p_value", empty))
    k = result.account_actions.column("k").to_numpy().astype(float)
    M = max(k.sum(), 2.0)
    ka = _lookup(edges.column("account_a"), result.account_actions, "k", 1.0)
    kb = _lookup(edges.column("account_b"), result.account_actions, "k", 1.0)
    if result.account_reach is not None:
        ra = _lookup(edges.column("account_a"), result.account_reach, "reach", 0.0)
        rb = _lookup(edges.column("account_b"), result.account_reach, "reach", 0.0)
        lam = np.maximum(kb * ra, ka * rb) / M
    else:  # a trace without per-object window counts: the global configuration null
        C = max(int(result.stats["cross_pairs"]) + int(result.stats["pairs_skipped_hot"]), 1)
        lam = ka * kb * C / max((M * M - (k * k).sum()) / 2.0, 1.0)
    w = edges.column("weight").to_numpy().astype(float)
    p = tail_given_seen(w, lam)
    shuffles = (result.stats.get("rhythm_null") or {}).get("shuffles", 0)
    if result.rhythm_expected is not None and shuffles:
        lam_r = (np.nan_to_num(np.asarray(result.rhythm_expected, float), nan=np.inf) * shuffles + 0.5) / shuffles
        p = np.maximum(p, tail_given_seen(w, lam_r))
    else:
        lam_r = np.full(len(w), np.nan)
    return (edges.append_column("expected", pa.array(lam)).append_column("expected_rhythm", pa.array(lam_r))
            .append_column("p_value", pa.array(p)))


def _lookup(accounts, table: pa.Table, column: str, default: float) -> np.ndarray:
    """``table[column]`` for each of ``accounts`` (matched on ``account_id``), ``default`` where absent."""
    idx = pc.index_in(accounts, value_set=table.column("account_id").combine_chunks())
    found = pc.is_valid(idx).to_numpy(zero_copy_only=False)
    values = table.column(column).to_numpy().astype(float)
    where = pc.fill_null(idx, 0).to_numpy(zero_copy_only=False)
    return np.where(found, values[where] if len(values) else default, default)


def tail_given_seen(w, lam) -> np.ndarray:
    """``P(X >= w | X >= 1)`` for ``X ~ Poisson(lam)``: the p-value of a pair that is tested because it
    co-acted at least once (only such pairs are candidates, and BH counts only them), so that the
    p-values of candidate pairs are uniform (or conservative) under the null."""
    lam = np.asarray(lam, float)
    w = np.asarray(w, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.log(np.where(w >= 1, pdtrc(w - 1, lam), 1.0)) - np.log(-np.expm1(-lam))  # P(X >= w), log
    p = np.exp(np.minimum(log_p, 0.0))
    return np.where(np.isfinite(lam) & (lam > 0), np.where(np.isnan(p), 1.0, p), np.where(lam > 0, 1.0, 0.0))


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


def store_qvalues(engine, source: str, target: str, m: int) -> int:
    """``target`` := ``source`` plus ``q_value``, Benjamini-Hochberg over its ``p_value`` column with
    ``m`` hypotheses, computed in the engine (the same values as :func:`bh`: ``p * m / rank``, then
    the running minimum from the largest p down; tied p-values get the same q whatever their order).
    Rows are stored by trace and pair. Returns the number of rows."""
    n = int(engine.scalar(f"SELECT count(*) FROM {source}"))
    m = max(int(m or n), n, 1)
    engine.execute(f"""CREATE OR REPLACE TABLE {target} AS
        SELECT * EXCLUDE (_rank, _raw),
               least(1.0, min(_raw) OVER (ORDER BY _rank DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
                   AS q_value
        FROM (SELECT *, p_value * {m} / _rank AS _raw FROM (
              SELECT *, row_number() OVER (ORDER BY p_value, trace, account_a, account_b) AS _rank FROM {source}))
        ORDER BY trace, account_a, account_b""")
    return n


__all__ = ["trace_pvalues", "bh", "expected_false", "store_qvalues"]
