"""Exports: GEXF and GraphML for Gephi, CSV and Parquet tables, and the platform-archive format."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from unmask.errors import ParameterError

FORMATS = ("gexf", "graphml", "csv", "parquet", "io-archive")


def accounts_table(case) -> pa.Table:
    """Accounts with scores, clusters and the persona and state-media columns.

    ``cluster`` is the account's community in the fused significant graph, whatever its size or
    status; ``network`` is the same number, ``cell`` the content group inside a flagged network
    (empty elsewhere), ``persona_type`` the type of that cell across networks, ``group_p`` the
    network's group-level p-value and ``selection_p`` its p-value against the null worlds. The two axes: ``coordination_p`` (the network's group
    p-value: do they act together beyond chance) and ``covertness`` (of the account's cell, or of
    its network for small cells: do they hide who they are), with ``covertness_verdict``
    (``covert``/``open``/``unassessed``) and ``covertness_factors``, the factors this account itself
    shows. ``group_status`` is ``flagged`` (coordinated and covert or unassessable), ``open``
    (coordinated, no sign of concealment), ``registered`` (no coordinated action seen, but created in
    a flagged network's registration batches with its marks, or one of a registration group:
    ``registration_p`` and ``registration_evidence`` say why), ``weak`` or ``small``; ``flagged``
    is true for flagged and registered accounts only."""
    has_cov = case.has_table("account_covertness")
    reg = ("r.p AS registration_p, r.evidence AS registration_evidence" if case.has_table("registration_kin")
           else "NULL::DOUBLE AS registration_p, NULL::VARCHAR AS registration_evidence")
    cov = ("k.coordination_p, k.covertness, k.verdict AS covertness_verdict, k.account_factors AS covertness_factors"
           if has_cov else "c.group_p AS coordination_p, NULL::DOUBLE AS covertness, NULL::VARCHAR AS covertness_verdict, "
                           "NULL::VARCHAR AS covertness_factors")
    return case.engine.query(f"""
        SELECT a.*, s.score, s.significant_links, s.cluster, c.network, c.cell, c.persona_type,
               c.status AS group_status, c.group_p, g.selection_p, {cov},
               coalesce(s.flagged, false) AS flagged, s.rationale, {reg},
               p.behaviour_utc_offset, p.behaviour_tz_confidence, p.claimed_utc_offset, p.behaviour_zone,
               p.claimed_place, coalesce(f.persona_flags, '') AS persona_flags,
               coalesce(f.persona_flag, false) AS persona_flag, coalesce(m.state_media_share, 0.0) AS state_media_share
        FROM accounts a LEFT JOIN account_scores s USING (account_id) LEFT JOIN clusters c USING (account_id)
        LEFT JOIN groups g ON g.cluster = c.cluster
        LEFT JOIN personas p USING (account_id)
        LEFT JOIN persona_flags f USING (account_id) LEFT JOIN state_media_shares m USING (account_id)
        {'LEFT JOIN account_covertness k USING (account_id)' if has_cov else ''}
        {'LEFT JOIN registration_kin r USING (account_id)' if case.has_table("registration_kin") else ''}
        ORDER BY a.account_id""")


def _graph(case):
    nodes = accounts_table(case).to_pylist()
    alpha = case.get_meta("analyse", {}).get("alpha", 0.05)
    edges = case.engine.query(f"""SELECT * FROM fused_edges WHERE q_fused <= {float(alpha)}
                                  ORDER BY account_a, account_b""").to_pylist()
    per_trace = {}
    for r in case.engine.query("SELECT account_a, account_b, trace, weight, p_value FROM edges").to_pylist():
        per_trace.setdefault((r["account_a"], r["account_b"]), {})[r["trace"]] = (r["weight"], r["p_value"])
    traces = sorted({t for d in per_trace.values() for t in d})
    linked = {e["account_a"] for e in edges} | {e["account_b"] for e in edges}
    nodes = [n for n in nodes if n["account_id"] in linked]
    return nodes, edges, per_trace, traces


NODE_ATTRS = [("handle", "string"), ("cluster", "long"), ("cell", "long"), ("group_status", "string"), ("score", "double"), ("flagged", "boolean"),
              ("coordination_p", "double"), ("covertness", "double"), ("covertness_verdict", "string"),
              ("persona_flags", "string"), ("behaviour_utc_offset", "double"), ("state_media_share", "double")]


def write_gexf(case, path: Path):
    nodes, edges, per_trace, traces = _graph(case)
    eattrs = [("p_fused", "double"), ("q_fused", "double")] + [
        (f"{t}_{k}", typ) for t in traces for k, typ in (("weight", "long"), ("p", "double"))]
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<gexf xmlns="http://gexf.net/1.3" version="1.3">',
           '<meta><creator>unmask</creator><description>significant coordination links</description></meta>',
           '<graph defaultedgetype="undirected">', '<attributes class="node">']
    out += [f'<attribute id="{i}" title="{n}" type="{t}"/>' for i, (n, t) in enumerate(NODE_ATTRS)]
    out += ['</attributes>', '<attributes class="edge">']
    out += [f'<attribute id="{i}" title="{n}" type="{t}"/>' for i, (n, t) in enumerate(eattrs)]
    out += ['</attributes>', '<nodes>']
    for n in nodes:
        vals = "".join(f'<attvalue for="{i}" value={quoteattr(_val(n.get(k)))}/>' for i, (k, _) in enumerate(NODE_ATTRS)
                       if n.get(k) is not None)
        out.append(f'<node id={quoteattr(n["account_id"])} label={quoteattr(n.get("handle") or n["account_id"])}>'
                   f'<attvalues>{vals}</attvalues></node>')
    out.append('</nodes><edges>')
    for i, e in enumerate(edges):
        d = per_trace.get((e["account_a"], e["account_b"]), {})
        vals = [("p_fused", e["p_fused"]), ("q_fused", e["q_fused"])]
        for t in traces:
            if t in d:
                vals += [(f"{t}_weight", d[t][0]), (f"{t}_p", d[t][1])]
        ids = {n: j for j, (n, _) in enumerate(eattrs)}
        av = "".join(f'<attvalue for="{ids[k]}" value={quoteattr(_val(v))}/>' for k, v in vals)
        out.append(f'<edge id="{i}" source={quoteattr(e["account_a"])} target={quoteattr(e["account_b"])} '
                   f'weight="{e["strength"]:.6g}"><attvalues>{av}</attvalues></edge>')
    out += ['</edges>', '</graph>', '</gexf>']
    path.write_text("\n".join(out), encoding="utf-8")


def write_graphml(case, path: Path):
    import igraph as ig

    nodes, edges, per_trace, traces = _graph(case)
    index = {n["account_id"]: i for i, n in enumerate(nodes)}
    g = ig.Graph(n=len(nodes), edges=[(index[e["account_a"]], index[e["account_b"]]) for e in edges])
    g.vs["account_id"] = [n["account_id"] for n in nodes]
    for k, typ in NODE_ATTRS:
        default = "" if typ == "string" else (False if typ == "boolean" else -1)
        g.vs[k] = [n.get(k) if n.get(k) is not None else default for n in nodes]
    g.es["p_fused"] = [e["p_fused"] for e in edges]
    g.es["q_fused"] = [e["q_fused"] for e in edges]
    g.es["strength"] = [e["strength"] for e in edges]
    for t in traces:
        d = [per_trace.get((e["account_a"], e["account_b"]), {}).get(t, (0, 1.0)) for e in edges]
        g.es[f"{t}_weight"] = [x[0] for x in d]
        g.es[f"{t}_p"] = [x[1] for x in d]
    g.write_graphml(str(path))


def _val(v):
    return json.dumps(v) if isinstance(v, bool) else str(v)


def write_tables(case, path: Path, fmt: str):
    path.mkdir(parents=True, exist_ok=True)
    tables = {"posts": case.table("posts"), "accounts": accounts_table(case), "edges": case.table("edges"),
              "clusters": case.engine.query("SELECT * FROM operations ORDER BY rank") if case.has_table("operations")
              else case.table("clusters"),
              "cluster_members": case.table("clusters"),
              **{name: case.table(name) for name in ("groups", "cells", "covertness", "registration_kin", "content_profiles",
                                                           "content_phrases")
                 if case.has_table(name)}}
    written = []
    for name, table in tables.items():
        if fmt == "parquet":
            pq.write_table(table, path / f"{name}.parquet")
            written.append(path / f"{name}.parquet")
        else:
            flat = pa.table({c: (pa.array([json.dumps(x, ensure_ascii=False) if x is not None else None
                                           for x in table.column(c).to_pylist()], pa.string())
                                 if pa.types.is_list(table.schema.field(c).type) else table.column(c))
                             for c in table.column_names})
            pacsv.write_csv(flat, path / f"{name}.csv")
            written.append(path / f"{name}.csv")
    return written


def write_io_archive(case, path: Path):
    """The flagged accounts' posts and users in the 31- and 10-column archive format."""
    from unmask.ingest.io_archive import TWEET_COLUMNS, USER_COLUMNS

    path.mkdir(parents=True, exist_ok=True)
    lst = "CASE WHEN len({0}) = 0 THEN '[]' ELSE '[' || array_to_string(list_transform({0}, lambda x: '''' || " \
          "replace(x, '''', '') || ''''), ', ') || ']' END"
    tweets = case.engine.query(f"""
        SELECT p.post_id AS tweetid, p.account_id AS userid, a.display_name AS user_display_name,
               a.handle AS user_screen_name, a.reported_location AS user_reported_location,
               a.description AS user_profile_description, a.profile_url AS user_profile_url,
               CAST(a.followers AS VARCHAR) AS follower_count, CAST(a.following AS VARCHAR) AS following_count,
               strftime(a.created_at, '%Y-%m-%d') AS account_creation_date, a.account_language,
               p.lang AS tweet_language, p.text AS tweet_text, strftime(p.created_at, '%Y-%m-%d %H:%M') AS tweet_time,
               p.client AS tweet_client_name,
               CASE WHEN p.kind = 'reply' THEN p.ref_account_id END AS in_reply_to_userid,
               CASE WHEN p.kind = 'reply' THEN p.ref_post_id END AS in_reply_to_tweetid,
               CASE WHEN p.kind = 'quote' THEN p.ref_post_id END AS quoted_tweet_tweetid,
               CASE WHEN p.kind = 'retweet' THEN 'true' ELSE 'false' END AS is_retweet,
               CASE WHEN p.kind = 'retweet' THEN p.ref_account_id END AS retweet_userid,
               CASE WHEN p.kind = 'retweet' THEN p.ref_post_id END AS retweet_tweetid,
               'absent' AS latitude, 'absent' AS longitude, NULL AS quote_count, NULL AS reply_count,
               NULL AS like_count, NULL AS retweet_count, {lst.format('p.hashtags')} AS hashtags,
               {lst.format('p.urls')} AS urls, {lst.format('p.mentions')} AS user_mentions, '' AS poll_choices
        FROM posts p JOIN account_scores s USING (account_id) JOIN accounts a USING (account_id)
        WHERE s.flagged ORDER BY p.created_at, p.post_id""")
    users = case.engine.query("""
        SELECT a.account_id AS userid, a.display_name AS user_display_name, a.handle AS user_screen_name,
               a.reported_location AS user_reported_location, a.description AS user_profile_description,
               a.profile_url AS user_profile_url, CAST(a.followers AS VARCHAR) AS follower_count,
               CAST(a.following AS VARCHAR) AS following_count,
               strftime(a.created_at, '%Y-%m-%d') AS account_creation_date, a.account_language
        FROM accounts a JOIN account_scores s USING (account_id) WHERE s.flagged ORDER BY a.account_id""")
    opts = pacsv.WriteOptions(quoting_style="all_valid")
    cast = lambda t, cols: pa.table({c: t.column(c).cast(pa.string()) for c in cols})  # noqa: E731
    pacsv.write_csv(cast(tweets, TWEET_COLUMNS), path / "tweets.csv", write_options=opts)
    pacsv.write_csv(cast(users, USER_COLUMNS), path / "users.csv", write_options=opts)
    return [path / "tweets.csv", path / "users.csv"]


def export(case, fmt: str, out) -> list:
    """Write ``case`` in ``fmt`` to ``out`` (a file for gexf/graphml, a folder otherwise)."""
    if fmt not in FORMATS:
        raise ParameterError(f"unknown export format {fmt!r}; choose from {FORMATS}")
    out = Path(out)
    if not case.has_table("account_scores"):
        from unmask.errors import UnmaskError

        raise UnmaskError(f"{case.path} has not been analysed yet: run 'unmask detect --case {case.path}' before "
                          "exporting")
    if fmt in ("gexf", "graphml"):
        out.parent.mkdir(parents=True, exist_ok=True)
        (write_gexf if fmt == "gexf" else write_graphml)(case, out)
        return [out]
    if fmt == "io-archive":
        return write_io_archive(case, out)
    return write_tables(case, out, fmt)


__all__ = ["export", "FORMATS", "accounts_table"]
