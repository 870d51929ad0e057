"""fast_retweet: account A retweets account B within ``window`` seconds of B's post (directed).

Needs the original in the data. The edge keeps the common shape (``account_a < account_b``);
its evidence rows say who retweeted whom (``post_a`` is always the original) and how fast.
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
    counts = engine.query(f"""SELECT account_id, '{name}' AS trace, count(*) AS k FROM _act_{name}
                              GROUP BY account_id ORDER BY account_id""")  # retweets only, not the originals
    engine.drop(f"_act_{name}")
    return _finish(engine, name, key, window_s, min_weight, max_neighbors, evidence_k, trace.params, objects, counts)


TRACE = Trace("fast_retweet", "retweets another account within seconds of its post", window_s=30, min_weight=3,
              actions=actions, directed=True)
TRACE.runner = run
