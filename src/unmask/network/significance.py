"""How surprising is each link? A null model per trace, then Benjamini-Hochberg across links.

Popularity null (stratified): an account b's random action in stratum s (for retweets and replies
the referenced post's author, whom b follows; one stratum for other traces) lands on object o of
that stratum with probability n_o / M_s and falls within the window of a given action there with
probability about 2 W_o / (n_o (n_o - 1)) (W_o: within-window action pairs on o, before any cap).
Given the objects account a chose, b is expected to co-act ``sum_s k_bs * reach_as / M_s`` times
with a (``reach_as = sum over a's actions in s of 2 W_o / (n_o - 1)``, computed by the trace in
the engine, :func:`unmask.traces.base._popularity_null`); the larger of the two directions is
used. Reactions (co_retweet, synchronized_posting) also keep each account's pace on each author:
two superfans who retweet within seconds are expected to meet (the pace factor, same function).
Crowded, bunched objects (a viral cascade, a news account's regulars) earn a pair little; rare
ones earn much. fast_retweet has a conditional null of its own (see its module). Only pairs
that co-acted are tested, so the p-value is ``P(X >= weight | X >= 1)``; an edge without a
positive expectation gets p = 1, never 0.

Rhythm null (traces whose objects recur day after day: text, hashtags, domains, mentions,
synchronized posting): each account's timeline is shifted by whole weeks, keeping its daily and
weekly rhythm, and the pair's co-actions are counted again in the worlds where the two
timelines moved apart (see :func:`unmask.traces.base.rhythm_null`); :func:`rhythm_pvalue` turns
them into a negative-binomial predictive tail that carries the uncertainty of a rate estimated
from a few worlds. An edge's p-value is the larger of the two (an intersection-union test:
the link must beat both nulls). See docs/methods.md for assumptions and failure modes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from scipy.special import betainc, pdtrc


def trace_pvalues(result) -> pa.Table:
    """The trace's edges with ``expected`` (the popularity null's lambda, computed with the edges by
    the trace), ``expected_rhythm`` and ``p_value`` columns."""
    edges = result.edges
    if edges.num_rows == 0:
        empty = pa.array([], pa.float64())
        if "expected" not in edges.column_names:
            edges = edges.append_column("expected", empty)
        return edges.append_column("expected_rhythm", empty).append_column("p_value", empty)
    lam = edges.column("expected").to_numpy(zero_copy_only=False).astype(float)
    w = edges.column("weight").to_numpy().astype(float)
    p = tail_given_seen(w, lam)
    rhythm = result.stats.get("rhythm_null") or {}
    if result.rhythm_expected is not None and rhythm.get("shuffles"):
        lam_r = np.asarray(result.rhythm_expected, float)
        prior = fit_rhythm_prior(lam_r, result.rhythm_worlds, lam)
        rhythm["prior"] = None if prior is None else {"shape": round(prior[0], 6), "mean_ratio": round(prior[1], 6)}
        p = np.maximum(p, rhythm_pvalue(w, lam_r, result.rhythm_worlds, lam, prior, result.rhythm_var))
    else:
        lam_r = np.full(len(w), np.nan)
    return edges.append_column("expected_rhythm", pa.array(lam_r)).append_column("p_value", pa.array(p))


def rhythm_pvalue(w, mean, worlds, lam_pop=None, prior=None, var=None) -> np.ndarray:
    """The rhythm null's p-value of each edge, ``P(X >= w | X >= 1)`` for the pair's count ``X`` in a
    new shifted world, given its ``mean`` count over the ``worlds`` (``S``) shifted worlds in which
    the two timelines moved apart (``C = mean * S`` in all).

    The rate is estimated from a few worlds, so ``X`` follows a posterior predictive, a negative
    binomial. Its prior for the edge's rate, ``lambda_r = lam_pop * theta`` with ``theta ~ Gamma(a,
    rate a / mu)``, borrows strength from every edge of the trace: ``(a, mu)`` (``prior``, from
    :func:`fit_rhythm_prior`) say how the shifted-world counts of all edges compare with their
    popularity expectations ``lam_pop``. The posterior is ``Gamma(a + C, a / mu + S lam_pop)`` and
    the predictive ``NB(r = a + C, failure probability lam_pop / (a / mu + (S + 1) lam_pop))``.
    Without ``lam_pop`` (or a positive one) the prior is Jeffreys' for the rate alone: ``r = C + 1/2``,
    failure probability ``1 / (S + 1)`` (zero hits in 10 worlds at weight 4: p = 4.2e-4). An edge
    whose timelines never moved apart gets 1.

    Counts can vary between worlds far more than a Poisson rate allows: a pair of scheduled bots
    co-acts hundreds of times in every world, and how many depends on which days a shift lines up.
    Where the worlds' sample variance ``var`` exceeds the mean, the predictive is a negative binomial
    with that mean and the variance ``var * (1 + 1/S)`` (the spread of a new world plus the
    uncertainty of the mean), whichever is wider. Calibration is tested on a world drawn from the
    rhythm null itself (tests/test_significance.py)."""
    w = np.asarray(w, float)
    S = np.asarray(worlds, float)
    C = np.nan_to_num(np.asarray(mean, float)) * S
    r = C + 0.5
    q = 1.0 / (S + 1.0)  # failure probability of the negative binomial
    if lam_pop is not None and prior is not None:
        a, mu = prior
        lp = np.asarray(lam_pop, float)
        ok = np.isfinite(lp) & (lp > 0)
        lp = np.where(ok, lp, 1.0)
        r = np.where(ok, a + C, r)
        q = np.where(ok, lp / (a / mu + (S + 1.0) * lp), q)
    if var is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            m = C / np.maximum(S, 1.0)
            v = np.nan_to_num(np.asarray(var, float)) * (1.0 + 1.0 / np.maximum(S, 1.0))
            over = (S > 1) & (v > m) & (m > 0)
            r_over = m * m / np.where(over, v - m, 1.0)
            q_over = np.where(over, (v - m) / np.where(over, v, 1.0), 0.0)
            wider = over & (q_over > q)  # a wider predictive than the one above
            r = np.where(wider, r_over, r)
            q = np.where(wider, q_over, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = betainc(np.maximum(w, 1.0), r, q)  # P(X >= w), w >= 1
        seen = -np.expm1(r * np.log1p(-q))  # P(X >= 1) = 1 - (1 - q)^r
        p = np.minimum(tail / seen, 1.0)
    return np.where((S > 0) & np.isfinite(p) & (w > 1), p, 1.0)


def fit_rhythm_prior(mean, worlds, lam_pop):
    """``(a, mu)``: the Gamma prior of ``theta = lambda_r / lam_pop`` that best explains the edges'
    shifted-world counts (``C ~ NB`` with mean ``S lam_pop mu`` and shape ``a``), by maximum marginal
    likelihood over the trace's edges; None when fewer than 20 edges can inform it. ``a`` is kept in
    ``[0.05, 100]``: a prior never narrower than a hundred pseudo-observations; ``mu`` no lower than
    the pooled Jeffreys estimate ``(sum C + 1/2) / sum(S lam_pop)``."""
    from scipy.optimize import minimize
    from scipy.special import gammaln

    S = np.asarray(worlds, float)
    lp = np.asarray(lam_pop, float)
    C = np.nan_to_num(np.asarray(mean, float)) * S
    ok = (S > 0) & np.isfinite(lp) & (lp > 0) & np.isfinite(C)
    if ok.sum() < 20:
        return None
    C, base = np.round(C[ok]), S[ok] * lp[ok]

    def nll(x):
        a, mu = np.exp(x)
        m = base * mu
        return -np.sum(gammaln(C + a) - gammaln(a) + a * np.log(a / (a + m)) + C * np.log(m / (a + m) + 1e-300))

    mu0 = max(C.sum() / max(base.sum(), 1e-12), 1e-6)
    best = minimize(nll, x0=np.array([0.0, np.log(mu0)]), method="L-BFGS-B",
                    bounds=[(np.log(0.05), np.log(100.0)), (np.log(1e-6), np.log(1e6))])
    a, mu = np.exp(best.x)
    # Zero counts everywhere push the maximum to mu = 0, as if no shifted world could ever reproduce a
    # co-action; half a pooled hit (Jeffreys) keeps the prior's mean off zero.
    mu = max(mu, (C.sum() + 0.5) / base.sum())
    return float(a), float(mu)


def tail_given_seen(w, lam) -> np.ndarray:
    """``P(X >= w | X >= 1)`` for ``X ~ Poisson(lam)``: the p-value of a pair that is tested because it
    co-acted at least once (only such pairs are candidates, and BH counts only them), so that the
    p-values of candidate pairs are uniform (or conservative) under the null."""
    lam = np.asarray(lam, float)
    w = np.asarray(w, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.log(np.where(w >= 1, pdtrc(w - 1, lam), 1.0)) - np.log(-np.expm1(-lam))  # P(X >= w), log
    p = np.exp(np.minimum(log_p, 0.0))
    # A missing or non-positive expectation is no evidence: such an edge gets p = 1, never 0; and a
    # pair seen once is exactly what it was selected for (p = 1, whatever the rounding of lambda).
    return np.where(np.isfinite(lam) & (lam > 0) & (w > 1), np.where(np.isnan(p), 1.0, p), 1.0)


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
    ``m`` hypotheses (the values of :func:`bh`: ``p * m / rank``, then the running minimum from the
    largest p down; tied p-values get the same q whatever their order). Rows are stored by trace
    and pair.

    Only the p-values (8 bytes a row) come out, in the rows' stored order, are ranked by :func:`bh`
    (ties get one q whatever their order, so the order does not matter) and go back as a column
    joined by position, while the engine sorts the rows by trace and pair as it writes ``target``:
    one pass over the rows. BH as SQL windows ran two unpartitioned windows over every column, on one
    thread (12M edges: 25 s); sorting into a table first and joining after wrote every row twice
    (21 s). The null worlds of the group test find their drawn edges by this stored order
    (:func:`unmask.network.groupnull._numbered`). Returns the number of rows."""
    p = engine.query(f"SELECT p_value FROM {source}").column(0).to_numpy(zero_copy_only=False)
    n = len(p)
    engine.register("_q_values", pa.table({"q_value": pa.array(bh(p, max(int(m or n), n, 1)))}))
    engine.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source} POSITIONAL JOIN _q_values "
                   "ORDER BY trace, account_a, account_b")
    engine.unregister("_q_values")
    return n


__all__ = ["trace_pvalues", "bh", "expected_false", "store_qvalues"]
