"""fast_retweet: account A retweets account B within ``window`` seconds of B's post (directed).

Needs the original in the data. The edge keeps the common shape (``account_a < account_b``);
its evidence rows say who retweeted whom (``post_a`` is always the original) and how fast.
"""

from unmask.traces.base import Trace, TraceResult, _finish
from unmask.traces.sqltext import t_ms


def actions(engine):  # the retweets, for the null model's per-account volumes
    return f"""SELECT account_id, ref_post_id AS object, post_id, {t_ms(engine)} AS t
               FROM posts WHERE kind = 'retweet' AND ref_post_id IS NOT NULL"""


def run(engine, trace, window_s, min_weight, max_neighbors=100, evidence_k=5) -> TraceResult:
    name = trace.name
    w = int(round(window_s * 1000))
    engine.create_table(f"_act_{name}", actions(engine))
    engine.create_table(f"_objn_{name}", f"SELECT object, count(DISTINCT account_id) AS n_acc FROM _act_{name} GROUP BY object")
    engine.create_table(f"_pairs_{name}", f"""
        SELECT CASE WHEN r.account_id < o.account_id THEN r.account_id ELSE o.account_id END AS account_a,
               CASE WHEN r.account_id < o.account_id THEN o.account_id ELSE r.account_id END AS account_b,
               o.post_id AS object, o.post_id AS post_a, r.post_id AS post_b,
               r.t - {t_ms(engine, 'o.created_at')} AS dt_ms,
               {t_ms(engine, 'o.created_at')} AS t1, r.t AS t2, n.n_acc AS n_acc
        FROM _act_{name} r JOIN posts o ON o.post_id = r.object JOIN _objn_{name} n ON n.object = r.object
        WHERE r.account_id <> o.account_id AND r.t - {t_ms(engine, 'o.created_at')} BETWEEN 0 AND {w}""")
    engine.create_table(f"_reach_{name}", f"""
        SELECT a.*, CASE WHEN p.post_b IS NULL THEN 0 ELSE 1 END AS n_within
        FROM _act_{name} a LEFT JOIN _pairs_{name} p ON p.post_b = a.post_id""")
    return _finish(engine, name, window_s, min_weight, max_neighbors, evidence_k, trace.params)


TRACE = Trace("fast_retweet", "retweets another account within seconds of its post", window_s=30, min_weight=3,
              actions=actions, directed=True)
TRACE.runner = run
