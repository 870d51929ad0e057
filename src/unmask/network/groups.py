"""Groups tested as groups: is a cluster more than the false links a run is expected to make?

A run keeps ``E`` significant links at false-discovery rate ``alpha``, so about ``F = alpha * E``
of them are expected to be false (the Benjamini-Hochberg bound). Under the null hypothesis that
a group's links are all false links, those false links land on account pairs in proportion to
the accounts' significant degrees (Chung-Lu): pair ``(i, j)`` receives one with probability
``pi_ij = F * d_i d_j / S`` with ``S = sum over all pairs of d_i d_j``. The number of false links
inside a group of accounts ``G`` is then about ``N ~ Poisson(mu)`` with ``mu = sum_{i<j in G} pi_ij``.

Strength counts too: a false link that passed BH has a p-value uniform on ``(0, p*]`` (``p*`` the
largest p-value kept), so ``-ln(p / p*)`` is a unit exponential, and the group's statistic
``T = sum over its links of -ln(p / p*)`` is a sum of ``N`` of them. The group's p-value is

    P(N >= L and T_N >= T) = sum_{n >= L} Poisson(n; mu) * P(Gamma(n, 1) >= T)

for the ``L`` links and strength ``T`` observed inside the group. Groups are then corrected
together by Benjamini-Hochberg; only groups with ``q <= alpha`` are flagged. The others are
listed as weak groups with their p-value.

Failure mode: false links are not independent when a shared cause makes them (a viral cascade
that many accounts join); the null above then understates how many land together. The link null
(:mod:`unmask.network.significance`) is where popularity is accounted for; this test guards
against groups that the link-level error rate alone explains.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy.special import gammaincc, gammaln, xlogy

from unmask.network.significance import bh


def group_pvalue(links: int, strength: float, mu: float) -> float:
    """``P(N >= links and T_N >= strength)`` for ``N ~ Poisson(mu)`` unit-exponential terms."""
    if links <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    hi = int(max(links + 50, mu + 12 * math.sqrt(mu) + 50))
    n = np.arange(links, hi + 1)
    pmf = np.exp(xlogy(n, mu) - gammaln(n + 1) - mu)  # Poisson(mu) at n
    return float(min(1.0, np.sum(pmf * gammaincc(n, max(strength, 0.0)))))  # times the Gamma(n) tail


def test_groups(members: dict, sig_links: list, alpha: float) -> dict:
    """Group p- and q-values.

    ``members`` maps a group id to its accounts; ``sig_links`` is every significant link of the
    run as ``(account_a, account_b, p_value)``. Returns ``{group: {links, strength, mu, p, q}}``.
    """
    if not members:
        return {}
    degree = defaultdict(int)
    for a, b, _ in sig_links:
        degree[a] += 1
        degree[b] += 1
    d = np.array(list(degree.values()), float)
    S = max((d.sum() ** 2 - (d * d).sum()) / 2.0, 1.0)
    F = alpha * len(sig_links)
    p_star = max((p for _, _, p in sig_links), default=1.0)
    group_of = {acc: g for g, accs in members.items() for acc in accs}
    inside_links = defaultdict(int)
    inside_strength = defaultdict(float)
    for a, b, p in sig_links:
        g = group_of.get(a)
        if g is not None and g == group_of.get(b):
            inside_links[g] += 1
            inside_strength[g] += -math.log(max(p, 1e-300) / p_star) if p_star > 0 else 0.0
    out = {}
    for g in sorted(members):
        dg = np.array([degree.get(acc, 0) for acc in members[g]], float)
        mu = F * (dg.sum() ** 2 - (dg * dg).sum()) / 2.0 / S
        out[g] = {"links": inside_links[g], "strength": inside_strength[g], "mu": float(mu),
                  "p": group_pvalue(inside_links[g], inside_strength[g], mu)}
    groups = sorted(out)
    q = bh(np.array([out[g]["p"] for g in groups]))
    for g, qv in zip(groups, q):
        out[g]["q"] = float(qv)
    return out
