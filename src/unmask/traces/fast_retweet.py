"""fast_retweet: account A retweets account B within ``window`` seconds of B's post (directed).

Needs the original in the data. The edge keeps the common shape (``account_a < account_b``);
its evidence rows say who retweeted whom (``post_a`` is always the original) and how fast.

Null (conditional on both sides): given that A retweeted ``k_AB`` of B's posts (A follows B), each
of those retweets is fast with the probability that B's other retweeters are fast on B's posts
(the author's audience: how many of its posts are retweeted, by whom and how soon) or that A is
fast on other authors, whichever is larger; both are shrunk towards the data's overall share with
``PRIOR`` pseudo-retweets, so that an author or a retweeter seen once has no rate of zero. The
edge's expectation sums both directions. A popular account's regulars who all retweet within a
minute are then expected to, and an account is significant only where it is faster on this
author than the author's audience and than itself elsewhere.
"""

from unmask.traces.base import _RUNS, Trace, TraceResult, _codes, _finish
from unmask.traces.sqltext import t_ms


def actions(engine):  # the retweets, for the null model's per-account volumes
    return f"""SELECT account_id, ref_post_id AS object, post_id, {t_ms(engine)} AS t
               FROM posts WHERE kind = 'retweet' AND ref_post_id IS NOT NULL"""


def run(engine, trace, window_s, min_weight, max_neighbors=100, evidence_k=5) -> TraceResult:
    name = trace.name
    key = f"{name}_{next(_RUNS)}"
    w = int(round(window_s * 1000))
    engine.create_table(f"_act_{name}", actions(engine))
    # The retweeted originals ride along as rows of their own object, so the common codes and
    # evidence apply; n_acc (rarity) still counts only the retweeting accounts.
    engine.create_table(f"_src_{key}", f"""
        SELECT account_id, object, post_id, t FROM _act_{name}
        UNION ALL
        SELECT account_id, post_id AS object, post_id, {t_ms(engine)} AS t FROM posts
        WHERE post_id IN (SELECT object FROM _act_{name})""")
    objects = _codes(engine, key, f"_src_{key}", objects=f"_act_{name}", min_accounts=1)
    engine.drop(f"_src_{key}")
    engine.create_table(f"_pairs_{key}", f"""
        SELECT CASE WHEN o.acc < r.acc THEN o.acc ELSE r.acc END AS acc_a,
               CASE WHEN o.acc < r.acc THEN r.acc ELSE o.acc END AS acc_b,
               r.oid AS oid, o.rn AS rn_a, r.rn AS rn_b, r.t - o.t AS dt_ms, o.t AS t1, r.n_acc AS n_acc
        FROM _rank_{key} r JOIN _objn_{key} n ON n.oid = r.oid
             JOIN _rank_{key} o ON o.oid = r.oid AND o.post_id = n.object
        WHERE r.post_id <> n.object AND r.acc <> o.acc AND r.t - o.t BETWEEN 0 AND {w}""")
    engine.create_table(f"_reach_{key}", f"""
        SELECT r.oid, r.acc, r.t, r.rn, r.n_acc, CASE WHEN p.rn_b IS NULL THEN 0 ELSE 1 END AS n_within
        FROM _rank_{key} r JOIN _objn_{key} n ON n.oid = r.oid
             LEFT JOIN _pairs_{key} p ON p.oid = r.oid AND p.rn_b = r.rn
        WHERE r.post_id <> n.object""")
    _conditional_null(engine, key, w)
    counts = engine.query(f"""SELECT account_id, '{name}' AS trace, count(*) AS k FROM _act_{name}
                              GROUP BY account_id ORDER BY account_id""")  # retweets only, not the originals
    engine.drop(f"_act_{name}")
    return _finish(engine, name, key, window_s, min_weight, max_neighbors, evidence_k, trace.params, objects, counts)


PRIOR = 2.0  # pseudo-retweets at the overall fast share, for the per-author and per-retweeter shares


def _conditional_null(engine, key, w) -> None:
    """``_lam_{key}`` (acc_a, acc_b, lam_ab, lam_ba): each retweeting pair's expected fast retweets
    (see the module docstring); ``lam_ab`` holds the sum over both directions."""
    engine.create_table(f"_rel_{key}", f"""
        SELECT r.acc AS fan, o.acc AS author, count(*) AS k,
               sum(CASE WHEN r.t - o.t BETWEEN 0 AND {w} THEN 1 ELSE 0 END) AS f
        FROM _rank_{key} r JOIN _objn_{key} n ON n.oid = r.oid
             JOIN _rank_{key} o ON o.oid = r.oid AND o.post_id = n.object
        WHERE r.post_id <> n.object AND r.acc <> o.acc
        GROUP BY r.acc, o.acc""")
    prior = f"CAST({PRIOR!r} AS DOUBLE)"  # doubles throughout: both engines do the same arithmetic
    engine.create_table(f"_lam_{key}", f"""
        WITH g AS (SELECT CAST(sum(f) AS DOUBLE) / CAST(greatest(sum(k), 1) AS DOUBLE) AS share FROM _rel_{key}),
             au AS (SELECT author, sum(k) AS kk, sum(f) AS ff FROM _rel_{key} GROUP BY author),
             fa AS (SELECT fan, sum(k) AS kk, sum(f) AS ff FROM _rel_{key} GROUP BY fan),
             d AS (SELECT r.fan, r.author,
                          r.k * greatest((au.ff - r.f + {prior} * g.share) / (au.kk - r.k + {prior}),
                                         (fa.ff - r.f + {prior} * g.share) / (fa.kk - r.k + {prior})) AS lam
                   FROM _rel_{key} r CROSS JOIN g JOIN au ON au.author = r.author JOIN fa ON fa.fan = r.fan)
        SELECT CASE WHEN fan < author THEN fan ELSE author END AS acc_a,
               CASE WHEN fan < author THEN author ELSE fan END AS acc_b,
               sum(lam) AS lam_ab, CAST(0.0 AS DOUBLE) AS lam_ba
        FROM d GROUP BY CASE WHEN fan < author THEN fan ELSE author END,
                        CASE WHEN fan < author THEN author ELSE fan END""")
    engine.drop(f"_rel_{key}")


TRACE = Trace("fast_retweet", "retweets another account within seconds of its post", window_s=30, min_weight=3,
              actions=actions, directed=True, family="retweet")
TRACE.runner = run
