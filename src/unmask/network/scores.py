"""Cluster and account scores, each with a one-line rationale a reader can check."""

from __future__ import annotations

import math
from collections import Counter

import pyarrow as pa

from unmask.schema import COORDINATED


def _entropy(counter: Counter) -> float:
    n = sum(counter.values())
    if n == 0 or len(counter) < 2:
        return 0.0
    # in a fixed order: the counts come from an unordered query, and a float sum's last bits depend on the order
    h = -sum(c / n * math.log(c / n) for c in sorted(counter.values()))
    return h / math.log(len(counter))


OPERATIONS = pa.schema([
    ("cluster", pa.int64()), ("size", pa.int64()), ("posts", pa.int64()), ("links", pa.int64()),
    ("strength", pa.float64()), ("density", pa.float64()), ("fast_share", pa.float64()),
    ("duplication", pa.float64()), ("client_diversity", pa.float64()), ("top_client", pa.string()),
    ("top_client_share", pa.float64()), ("created_span_days", pa.int64()), ("traces", pa.string()),
    ("score", pa.float64()), ("rationale", pa.string()), ("rank", pa.int64())])


def cluster_scores(case, alpha: float, fast_seconds: float = 10.0) -> pa.Table:
    """Per candidate cluster: strength, density, fast share, duplication, clients, ages, rationale."""
    eng = case.engine
    # the candidate accounts' posts, read once (the CTEs and the clients query below would each scan again)
    eng.create_table("_posts_c", """SELECT c.cluster, p.text, p.kind, p.client FROM posts p
                                    JOIN clusters c USING (account_id) WHERE c.is_candidate""")
    rows = eng.query(f"""
        WITH c AS (SELECT * FROM clusters WHERE is_candidate),
        inside AS (SELECT c1.cluster, f.* FROM fused_edges f
                   JOIN c c1 ON c1.account_id = f.account_a JOIN c c2 ON c2.account_id = f.account_b
                   WHERE c1.cluster = c2.cluster AND f.q_fused <= {float(alpha)}),
        ev AS (SELECT c1.cluster, e.dt_ms FROM edge_evidence e
               JOIN c c1 ON c1.account_id = e.account_a JOIN c c2 ON c2.account_id = e.account_b
               WHERE c1.cluster = c2.cluster),
        posts_c AS (SELECT * FROM _posts_c),
        dup AS (SELECT cluster, sum(cnt) AS n, sum(CASE WHEN cnt > 1 THEN cnt ELSE 0 END) AS dup FROM (
                  SELECT cluster, lower(regexp_replace(coalesce(text, ''), '(https?://\\S+|@\\w+|\\s+)', '', 'g')) AS k,
                         count(*) AS cnt
                  FROM posts_c WHERE kind <> 'retweet' GROUP BY ALL) WHERE length(k) >= 10 GROUP BY cluster)
        SELECT c.cluster, any_value(c.cluster_size) AS size,
               (SELECT count(*) FROM inside i WHERE i.cluster = c.cluster) AS links,
               -- fixed-point terms: the mean is exact, so it does not depend on the order in which
               -- parallel workers add the links (a float sum differed in the last bits at 3M)
               (SELECT CAST(avg(CAST(strength AS DECIMAL(18, 12))) AS DOUBLE) FROM inside i
                 WHERE i.cluster = c.cluster) AS strength,
               (SELECT avg(CASE WHEN abs(dt_ms) <= {int(fast_seconds * 1000)} THEN 1.0 ELSE 0.0 END)
                  FROM ev WHERE ev.cluster = c.cluster) AS fast_share,
               (SELECT dup * 1.0 / nullif(n, 0) FROM dup WHERE dup.cluster = c.cluster) AS duplication,
               (SELECT count(*) FROM posts_c pc WHERE pc.cluster = c.cluster) AS posts,
               (SELECT date_diff('day', min(a.created_at), max(a.created_at)) FROM accounts a
                  JOIN clusters x USING (account_id) WHERE x.cluster = c.cluster) AS created_span_days,
               (SELECT string_agg(trace_pair, ';') FROM (
                   SELECT split_part(unnest(string_split(traces, ';')), ':', 1) AS trace_pair FROM inside i
                   WHERE i.cluster = c.cluster)) AS trace_list
        FROM c GROUP BY c.cluster ORDER BY c.cluster""").to_pylist()
    clients = eng.query("SELECT cluster, client, count(*) AS n FROM _posts_c GROUP BY ALL").to_pylist()
    eng.drop("_posts_c")
    by_cluster = {}
    for r in clients:
        by_cluster.setdefault(r["cluster"], Counter())[r["client"] or "(none)"] += r["n"]
    out = []
    for r in rows:
        size = r["size"]
        possible = size * (size - 1) / 2
        cc = by_cluster.get(r["cluster"], Counter())
        top_client, top_n = min(cc.items(), key=lambda x: (-x[1], x[0])) if cc else ("(none)", 0)
        traces = Counter((r["trace_list"] or "").split(";")) if r["trace_list"] else Counter()
        rec = {
            "cluster": r["cluster"], "size": size, "posts": r["posts"], "links": r["links"],
            "strength": float(r["strength"] or 0), "density": r["links"] / possible if possible else 0.0,
            "fast_share": float(r["fast_share"] or 0), "duplication": float(r["duplication"] or 0),
            "client_diversity": _entropy(cc), "top_client": top_client,
            "top_client_share": top_n / max(1, sum(cc.values())),
            "created_span_days": r["created_span_days"], "traces": ", ".join(f"{t} {n}" for t, n in sorted(traces.items(), key=lambda x: (-x[1], x[0]))),
        }
        rec["score"] = rec["density"] * min(rec["strength"], 50) / 50 + 0.5 * rec["fast_share"] + 0.5 * rec["duplication"]
        rec["rationale"] = _rationale(rec)
        out.append(rec)
    out.sort(key=lambda x: (-x["score"], x["cluster"]))
    for rank, rec in enumerate(out, start=1):
        rec["rank"] = rank
    return pa.Table.from_pylist(out, schema=OPERATIONS) if out else OPERATIONS.empty_table()


def _rationale(r) -> str:
    parts = [f"{r['size']} accounts joined by {r['links']} significant links (density {r['density']:.2f})"]
    if r["traces"]:
        parts.append(f"traces: {r['traces']}")
    if r["fast_share"] >= 0.2:
        parts.append(f"{r['fast_share']:.0%} of sampled co-actions within 10 s")
    if r["duplication"] >= 0.2:
        parts.append(f"{r['duplication']:.0%} of own posts duplicate another in the group")
    if r["top_client_share"] >= 0.5:
        parts.append(f"{r['top_client_share']:.0%} posted with {r['top_client']}")
    if r["created_span_days"] is not None and r["created_span_days"] <= 60 and r["size"] >= 5:
        parts.append(f"all accounts created within {r['created_span_days']} days")
    return "; ".join(parts)


def account_scores(case, alpha: float) -> pa.Table:
    """Every account: its best fused link, its significant degree and strength, and a rationale (for
    an account registered with a network, :mod:`unmask.network.registration`, that evidence)."""
    kin = ("LEFT JOIN registration_kin k USING (account_id)" if case.has_table("registration_kin") else
           "LEFT JOIN (SELECT NULL::VARCHAR AS account_id, NULL::BIGINT AS network, NULL::VARCHAR AS evidence) k "
           "USING (account_id)")
    return case.engine.query(f"""
        WITH ends AS (SELECT account_a AS account_id, account_b AS other, strength, q_fused, traces FROM fused_edges
                      UNION ALL SELECT account_b, account_a, strength, q_fused, traces FROM fused_edges),
        g AS (SELECT account_id, max(strength) AS best_strength,
                     sum(CASE WHEN q_fused <= {float(alpha)} THEN 1 ELSE 0 END) AS significant_links,
                     -- summed in fixed point: a float sum's last bits follow the order of the rows
                     CAST(sum(CASE WHEN q_fused <= {float(alpha)} THEN CAST(strength AS DECIMAL(18, 12)) ELSE 0 END)
                          AS DOUBLE) AS total_strength,
                     -- the strongest link (ties: the smallest other account), in the same pass
                     arg_min({{'o': other, 't': traces}}, {{'s': -strength, 'o': other}}) AS best
              FROM ends GROUP BY account_id),
        g2 AS (SELECT * EXCLUDE (best), best.o AS strongest_with, best.t AS strongest_traces FROM g)
        SELECT a.account_id, a.handle, coalesce(g.best_strength, 0) AS score,
               coalesce(g.significant_links, 0) AS significant_links, coalesce(g.total_strength, 0) AS total_strength,
               coalesce(c.cluster, k.network) AS cluster, coalesce(c.is_candidate, false) AS flagged,
               CASE WHEN k.account_id IS NOT NULL THEN concat('registered with network ', CAST(k.network AS VARCHAR),
                                                              ': ', k.evidence)
                    WHEN g.account_id IS NULL THEN 'no link with any account beyond the minimum weights'
                    ELSE concat('in cluster ', coalesce(CAST(c.cluster AS VARCHAR), '-'), '; ',
                                CAST(coalesce(g.significant_links, 0) AS VARCHAR), ' significant links; strongest with ',
                                g.strongest_with, ' (', g.strongest_traces, ')') END AS rationale
        FROM accounts a LEFT JOIN g2 g USING (account_id) LEFT JOIN clusters c USING (account_id) {kin}
        ORDER BY score DESC, a.account_id""")


def add_check_scores(case) -> None:
    """Fold persona and state-media results into the ranked operations and their rationale."""
    if not case.has_table("operations") or "size" not in case.table("operations").column_names:
        return
    extra = {r["cluster"]: r for r in case.engine.query(f"""
        SELECT c.cluster, avg(CASE WHEN f.persona_flag THEN 1.0 ELSE 0.0 END) AS persona_share,
               sum(coalesce(s.state_media_links, 0)) * 1.0 / nullif(sum(coalesce(s.links, 0)), 0) AS state_media_share
        FROM clusters c LEFT JOIN persona_flags f USING (account_id) LEFT JOIN state_media_shares s USING (account_id)
        WHERE c.{COORDINATED} GROUP BY c.cluster""").to_pylist()}
    ops = case.table("operations").to_pylist()
    for op in ops:
        e = extra.get(op["cluster"], {})
        op["persona_share"] = float(e.get("persona_share") or 0.0)
        op["state_media_share"] = float(e.get("state_media_share") or 0.0)
        notes = []
        if op["persona_share"] >= 0.2:
            notes.append(f"{op['persona_share']:.0%} of accounts have claims that do not fit their behaviour")
        if op["state_media_share"] >= 0.1:
            notes.append(f"{op['state_media_share']:.0%} of links go to state media")
        if notes:
            op["rationale"] = op["rationale"] + "; " + "; ".join(notes)
    schema = case.table("operations").schema
    for name in ("persona_share", "state_media_share"):
        if name not in schema.names:
            schema = schema.append(pa.field(name, pa.float64()))
    case.write_table("operations", pa.Table.from_pylist(ops, schema=schema))


def cell_summary(case) -> pa.Table:
    """Per cell: its network, size, and the objects its members co-act on most (what tells cells apart)."""
    return case.engine.query("""
        WITH c AS (SELECT account_id, network, cell FROM clusters WHERE cell IS NOT NULL),
        ev AS (SELECT c1.cell, e.trace, e.object, count(*) AS n FROM edge_evidence e
               JOIN c c1 ON c1.account_id = e.account_a JOIN c c2 ON c2.account_id = e.account_b
               WHERE c1.cell = c2.cell GROUP BY ALL),
        ranked AS (SELECT *, row_number() OVER (PARTITION BY cell ORDER BY n DESC, trace, object) AS rn FROM ev),
        top AS (SELECT cell, string_agg(trace || ': ' || left(object, 80) || ' (' || CAST(n AS VARCHAR) || ')', ' | '
                                        ORDER BY rn) AS top_objects
                FROM ranked WHERE rn <= 5 GROUP BY cell)
        SELECT c.cell, any_value(c.network) AS network, count(*) AS size, any_value(t.top_objects) AS top_objects
        FROM c LEFT JOIN top t USING (cell) GROUP BY c.cell ORDER BY c.cell""")
