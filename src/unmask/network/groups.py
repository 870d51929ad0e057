"""Groups tested as groups: are a cluster's links stronger than false links could be?

Leiden chose the group from the run's significant links, so how many links the group holds says
little: any community of false links is dense, by how it was found (the former count test, with
``alpha * E`` false links spread by degree, passed star networks of chance links at density 0.03).
What a selection on topology does not make is strength. A false link that passed BH has a
p-value uniform on ``(0, p*]`` (``p*`` the BH cut-off ``alpha * E / m`` for ``E`` links kept among
``m`` pairs tested), so its strength ``-ln(p / p*)`` is a unit exponential; under the null that all
``L`` links inside the group are false, their total strength ``T`` is ``Gamma(L, 1)``, and the
group's p-value is

    P(Gamma(L, 1) >= T)

Links at the edge of significance (a fan base's leftovers) give ``T`` near ``L`` and no evidence;
an operation's links sit far below the threshold. Groups are then corrected together by
Benjamini-Hochberg. The strength weights Leiden's choice too, which this formula does not know:
the selection p-value of :mod:`unmask.network.groupnull` (the same pipeline on null worlds)
covers that. Only groups that pass both are flagged; the others are listed as weak groups with
their p-values.

``mu``, the number of false links expected inside the group if every kept link were false and
links landed on pairs in proportion to the accounts' significant degrees (Chung-Lu:
``mu = E * sum_{i<j in G} d_i d_j / sum_{all pairs} d_i d_j``), is reported for reading, not tested.

Failure mode: false links are not independent when a shared cause makes them (a viral cascade
that many accounts join); several may then be strong together. The link nulls
(:mod:`unmask.network.significance`) are where popularity is accounted for.

A group is a set of accounts that act together. A community whose links all run through one
account is not: without that account (its ``hub``) no three of the others are linked to each other.
That is the shape of an audience: an account and those who each react to it (superfans, each
faster on it than its audience is: fast_retweet's links). Such a group with :data:`AUDIENCE_LEAVES`
or more other members gets an ``audience`` hub and is not flagged, whatever its strength; a smaller
star is tested as a group (three accounts in a path may be a small operation).
"""

from __future__ import annotations

import math
from collections import defaultdict

import igraph as ig
import numpy as np
from scipy.special import gammaincc

from unmask.network.significance import bh


def group_pvalue(links: int, strength: float) -> float:
    """``P(Gamma(links, 1) >= strength)``: the chance that ``links`` false links are this strong."""
    if links <= 0:
        return 1.0
    return float(min(1.0, gammaincc(links, max(strength, 0.0))))


AUDIENCE_LEAVES = 10  # a star with this many members besides its hub is an audience, not a group


def audience_hub(accounts, links, min_size: int = 3):
    """The account every link of a group runs through, when the group is an audience: without it,
    no ``min_size`` of the others are linked (connected components of the links that avoid it), and
    the others number :data:`AUDIENCE_LEAVES` or more. None otherwise."""
    accounts = sorted(accounts)
    if len(accounts) - 1 < AUDIENCE_LEAVES or not links:
        return None
    index = {acc: i for i, acc in enumerate(accounts)}
    g = ig.Graph(n=len(accounts), edges=[(index[a], index[b]) for a, b in links])
    degree = g.degree()
    hub = min(range(len(accounts)), key=lambda i: (-degree[i], i))  # the most linked; ties: first id
    g.delete_vertices(hub)
    return accounts[hub] if max(g.connected_components().sizes(), default=0) < min_size else None


def test_groups(members: dict, sig_links: list, alpha: float, m_pairs: int | None = None, min_size: int = 3) -> dict:
    """Group p- and q-values.

    ``members`` maps a group id to its accounts; ``sig_links`` is every significant link of the
    run as ``(account_a, account_b, p_value)``. Returns ``{group: {links, strength, mu, p, q, hub}}``;
    ``hub`` is the account an audience's links run through (:func:`audience_hub`), else None.
    """
    if not members:
        return {}
    degree = defaultdict(int)
    for a, b, _ in sig_links:
        degree[a] += 1
        degree[b] += 1
    d = np.array(list(degree.values()), float)
    S = max((d.sum() ** 2 - (d * d).sum()) / 2.0, 1.0)
    F = float(len(sig_links))  # for mu: every kept link may be false
    # p*: the BH cut-off of the run, alpha * E / m (below it a false link's p is uniform); without m,
    # the largest p kept (a lower bound on the cut-off: conservative)
    largest = max((p for _, _, p in sig_links), default=1.0)
    p_star = max(largest, alpha * len(sig_links) / m_pairs) if m_pairs else largest
    group_of = {acc: g for g, accs in members.items() for acc in accs}
    inside_strength = defaultdict(float)
    inside = defaultdict(list)  # each group's links
    for a, b, p in sig_links:
        g = group_of.get(a)
        if g is not None and g == group_of.get(b):
            inside_strength[g] += -math.log(max(p, 1e-300) / p_star) if p_star > 0 else 0.0
            inside[g].append((a, b))
    out = {}
    for g in sorted(members):
        dg = np.array([degree.get(acc, 0) for acc in members[g]], float)
        mu = F * (dg.sum() ** 2 - (dg * dg).sum()) / 2.0 / S
        out[g] = {"links": len(inside[g]), "strength": inside_strength[g], "mu": float(mu),
                  "p": group_pvalue(len(inside[g]), inside_strength[g]),
                  "hub": audience_hub(members[g], inside[g], min_size)}
    groups = sorted(out)
    q = bh(np.array([out[g]["p"] for g in groups]))
    for g, qv in zip(groups, q):
        out[g]["q"] = float(qv)
    return out
