"""Collect everything the report shows from a case into plain Python data (no rendering here)."""

from __future__ import annotations

import json

MAX_NODES = 300
SAMPLES = 12


def collect(case, max_operations: int = 50) -> dict:
    eng = case.engine
    q = lambda sql, *p: eng.query(sql, list(p) if p else None).to_pylist()  # noqa: E731
    data = {
        "provenance": q("SELECT * EXCLUDE (mapping), mapping FROM provenance ORDER BY ingest_id"),
        "rejects": q('SELECT file, "row", "column", reason, raw FROM rejects ORDER BY file, "row" LIMIT 50'),
        "n_rejects": eng.scalar("SELECT count(*) FROM rejects"),
        "counts": q("""SELECT (SELECT count(*) FROM posts) AS posts, (SELECT count(*) FROM accounts) AS accounts,
                       (SELECT min(created_at) FROM posts) AS first, (SELECT max(created_at) FROM posts) AS last""")[0],
        "detect": case.get_meta("detect", {}), "analyse": case.get_meta("analyse", {}),
        "operations": [], "open_groups": [], "weak_groups": [], "persona_types": [],
    }
    if case.has_table("persona_types"):
        data["persona_types"] = q("SELECT * FROM persona_types ORDER BY persona_type LIMIT 100")
    if case.has_table("groups"):
        data["weak_groups"] = q("""SELECT g.*, (SELECT string_agg(account_id, ', ' ORDER BY account_id) FROM (
                                       SELECT account_id FROM clusters c WHERE c.cluster = g.cluster
                                       ORDER BY account_id LIMIT 12)) AS sample
                                   FROM groups g WHERE status IN ('weak', 'audience') ORDER BY group_p, cluster LIMIT 100""")
    cols = [r["column_name"] for r in q("DESCRIBE SELECT * FROM operations")] if case.has_table("operations") else []
    if "size" not in cols:
        return data
    verdict = "coalesce(verdict, 'flagged')" if "verdict" in cols else "'flagged'"
    for key, which in (("operations", "<> 'open'"), ("open_groups", "= 'open'")):
        for op in q(f"SELECT * FROM operations WHERE {verdict} {which} ORDER BY rank LIMIT ?", max_operations):
            data[key].append(_operation(case, q, op))
    return data


def _axes(case, q, cid) -> dict | None:
    """The two axes of a group side by side: how significant its coordination is, and how covert it
    looks (each factor's strength and evidence, and the factors the data could not read)."""
    if not case.has_table("covertness"):
        return None
    net = q("SELECT * FROM covertness WHERE level = 'network' AND group_id = ?", cid)
    group = q("SELECT * FROM groups WHERE cluster = ?", cid)
    if not net or not group:
        return None
    factors = json.loads(net[0]["factors"] or "{}")
    cells = q("""SELECT group_id AS cell, size, covertness, verdict, summary FROM covertness
                 WHERE level = 'cell' AND network = ? ORDER BY group_id""", cid)
    return {"coordination": group[0], "covertness": net[0],
            "factors": [{"name": k, **v} for k, v in sorted(factors.items(), key=lambda x: -x[1]["strength"])],
            "missing": [m for m in (net[0]["missing"] or "").split("; ") if m], "cells": cells}


def _operation(case, q, op) -> dict:
    cid = op["cluster"]
    members = q("""SELECT a.account_id, a.handle, a.display_name, a.reported_location, a.description,
                          a.created_at, s.score, s.significant_links, s.rationale,
                          (SELECT count(*) FROM posts p WHERE p.account_id = a.account_id) AS posts,
                          (SELECT client FROM posts p WHERE p.account_id = a.account_id GROUP BY client
                           ORDER BY count(*) DESC, client LIMIT 1) AS client
                   FROM clusters c JOIN accounts a USING (account_id) LEFT JOIN account_scores s USING (account_id)
                   WHERE c.cluster = ? ORDER BY s.total_strength DESC NULLS LAST, a.account_id""", cid)
    alpha = case.get_meta("analyse", {}).get("alpha", 0.05)
    links = q("""SELECT f.account_a, f.account_b, f.strength, f.traces FROM fused_edges f
                 JOIN clusters c1 ON c1.account_id = f.account_a JOIN clusters c2 ON c2.account_id = f.account_b
                 WHERE c1.cluster = ? AND c2.cluster = ? AND f.q_fused <= ?
                 ORDER BY f.strength DESC, f.account_a, f.account_b LIMIT 2000""", cid, cid, alpha)
    hours = q("""SELECT isodow(created_at) - 1 AS dow, hour(created_at) AS hour, count(*) AS n
                 FROM posts JOIN clusters c USING (account_id) WHERE c.cluster = ? GROUP BY ALL""", cid)
    zone, rhythm = None, None
    if case.has_table("cluster_personas"):
        z = q("SELECT * FROM cluster_personas WHERE cluster = ?", cid)
        rhythm = z[0] if z else None
        zone = rhythm["behaviour_zone"] if rhythm else None
    local_hours = _local_hours(q, cid, zone) if zone else []
    days = q("""SELECT CAST(date_trunc('day', created_at) AS DATE) AS day, count(*) AS n
                FROM posts JOIN clusters c USING (account_id) WHERE c.cluster = ? GROUP BY ALL ORDER BY day""", cid)
    samples = q("""SELECT e.trace, e.object, e.dt_ms, pa.account_id AS acc_a, pa.text AS text_a, pa.created_at AS at_a,
                          pb.account_id AS acc_b, pb.text AS text_b, pb.created_at AS at_b
                   FROM edge_evidence e JOIN clusters c1 ON c1.account_id = e.account_a
                   JOIN clusters c2 ON c2.account_id = e.account_b
                   JOIN posts pa ON pa.post_id = e.post_a JOIN posts pb ON pb.post_id = e.post_b
                   WHERE c1.cluster = ? AND c2.cluster = ?
                   ORDER BY abs(e.dt_ms), e.trace, e.post_a, e.post_b LIMIT ?""", cid, cid, SAMPLES)
    objects = q("""SELECT e.trace, e.object, count(*) AS n FROM edge_evidence e
                   JOIN clusters c1 ON c1.account_id = e.account_a JOIN clusters c2 ON c2.account_id = e.account_b
                   WHERE c1.cluster = ? AND c2.cluster = ? GROUP BY ALL ORDER BY n DESC, e.trace, e.object LIMIT 15""",
                cid, cid)
    domains = q("""SELECT d AS domain, count(*) AS n FROM (SELECT unnest(domains) AS d FROM posts
                   JOIN clusters c USING (account_id) WHERE c.cluster = ?) GROUP BY ALL ORDER BY n DESC, d LIMIT 10""", cid)
    if domains:
        from unmask.media.statemedia import load, registered_domain

        listed = load()["domains"]
        for d in domains:
            hit = listed.get(registered_domain(d["domain"]))
            d["state"] = f"{hit['outlet']} ({hit['country']})" if hit else ""
    proxies = q("SELECT * FROM proxy_domains WHERE cluster = ? ORDER BY share_with_state DESC, accounts DESC, domain "
                "LIMIT 10", cid) if case.has_table("proxy_domains") else []
    checks = []
    if case.has_table("checks"):
        checks = q("""SELECT k.* FROM checks k JOIN clusters c USING (account_id) WHERE c.cluster = ?
                      ORDER BY k.strength DESC, k.account_id, k."check" LIMIT 200""", cid)
    keep = {m["account_id"] for m in members[:MAX_NODES]}
    graph = {
        "nodes": [{"id": m["account_id"], "label": m["handle"] or m["account_id"], "posts": m["posts"]}
                  for m in members if m["account_id"] in keep],
        "edges": [{"source": e["account_a"], "target": e["account_b"], "strength": e["strength"],
                   "trace": e["traces"].split(":")[0]} for e in links
                  if e["account_a"] in keep and e["account_b"] in keep],
    }
    cells = []
    if case.has_table("cells"):
        zone_sql = ("(SELECT string_agg(z, ', ' ORDER BY n DESC, z) FROM (SELECT p.behaviour_zone AS z, count(*) AS n "
                    "FROM clusters c2 JOIN personas p USING (account_id) WHERE c2.cell = x.cell "
                    "AND p.behaviour_zone IS NOT NULL GROUP BY ALL ORDER BY n DESC, z LIMIT 3))"
                    if case.has_table("personas") else "NULL")
        cells = q(f"""SELECT x.cell, x.size, x.top_objects, {zone_sql} AS zones,
                             (SELECT string_agg(coalesce(a.handle, a.account_id), ', ' ORDER BY a.account_id) FROM (
                                 SELECT account_id FROM clusters c3 WHERE c3.cell = x.cell ORDER BY account_id LIMIT 8) m
                              JOIN accounts a USING (account_id)) AS sample
                      FROM cells x WHERE x.network = ? ORDER BY x.size DESC, x.cell""", cid)
    content = _content(case, q, cid)
    registered = q("""SELECT k.account_id, a.handle, a.created_at, k.matched_on, k.p, k.evidence
                      FROM registration_kin k JOIN accounts a USING (account_id) WHERE k.network = ?
                      ORDER BY k.p, k.account_id LIMIT 200""", cid) if case.has_table("registration_kin") else []
    return {"op": op, "registered": registered, "axes": _axes(case, q, cid), "members": members, "cells": cells, "content": content, "graph": graph, "hours": hours, "zone": zone, "rhythm": rhythm,
            "local_hours": local_hours,
            "days": days, "samples": samples, "proxies": proxies,
            "objects": objects, "domains": domains, "checks": checks}


def _content(case, q, cid) -> dict | None:
    """The network's technique profile against the organic accounts, its top phrases, and a few
    posts with their spans highlighted (segments of plain text; the template escapes them)."""
    if not case.has_table("content_profiles"):
        return None
    from unmask.content.html import segments

    profile = q("""SELECT technique, posts, with_technique, share, organic_share, ratio, p_value, q_value, significant,
                          profile_p FROM content_profiles WHERE level = 'network' AND "group" = ?
                   ORDER BY significant DESC, share DESC, technique""", str(cid))
    phrases = q("SELECT phrase, technique, n FROM content_phrases WHERE network = ? ORDER BY n DESC, phrase LIMIT 8",
                cid) if case.has_table("content_phrases") else []
    posts = q("""SELECT x.post_id, any_value(p.text) AS text, count(*) AS n FROM content_spans x
                 JOIN clusters c USING (account_id) JOIN posts p ON p.post_id = x.post_id
                 WHERE c.network = ? AND c.is_candidate GROUP BY x.post_id ORDER BY n DESC, x.post_id LIMIT 5""", cid)
    examples = []
    for p in posts:
        spans = q("""SELECT "start", "end", technique, confidence FROM content_spans WHERE post_id = ?
                     ORDER BY "start" """, p["post_id"])
        examples.append({"post_id": p["post_id"], "segments": segments(p["text"] or "", spans)})
    analysed = profile[0]["posts"] if profile else 0
    return {"profile": profile, "phrases": phrases, "examples": examples, "analysed": analysed,
            "profile_p": profile[0]["profile_p"] if profile else None}


def _local_hours(q, cid, zone):
    """Hour x weekday counts in the cluster's inferred operator zone (tzdata, DST included)."""
    from collections import Counter
    from datetime import timezone as tz
    from zoneinfo import ZoneInfo

    z = ZoneInfo(zone)
    cells = Counter()
    for r in q("SELECT created_at FROM posts JOIN clusters c USING (account_id) WHERE c.cluster = ?", cid):
        local = r["created_at"].replace(tzinfo=tz.utc).astimezone(z)
        cells[(local.weekday(), local.hour)] += 1
    return [{"dow": d, "hour": h, "n": n} for (d, h), n in sorted(cells.items())]


def safe_json(obj) -> str:
    """JSON that cannot end a <script> element or open a comment, whatever the data says."""
    text = json.dumps(obj, default=str, ensure_ascii=False, sort_keys=True)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(a, b)
    return text
