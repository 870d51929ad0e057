"""Each account's and each cluster's share of links to state media, by country, and
possible proxy sites: domains a cluster shares together with state media, or whose posts copy
state-media headlines."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pyarrow as pa

from unmask.media.statemedia import SHORTENERS, load, registered_domain
from unmask.schema import COORDINATED


def link_table(case):
    rows = case.engine.query("""SELECT account_id, post_id, text, u FROM (
                                  SELECT account_id, post_id, text, unnest(urls) AS u FROM posts)
                                WHERE u IS NOT NULL AND u <> '' ORDER BY account_id, post_id""").to_pylist()
    for r in rows:
        host = r["u"].split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
        r["domain"] = registered_domain(host)
    return rows


def run(case, extra_lists=None) -> dict:
    """State-media shares and echoes per account (per-case tables, refreshed only when new posts
    arrive or the list changes) and proxy domains per flagged network (every run, in the engine)."""
    from unmask import percase

    media = load(extra_lists)
    domains = media["domains"]
    version = "list=" + ",".join(v["sha256"][:16] for v in media["version"]) + ";links=2"  # links=2: headline column
    tables = ("account_links", "state_media_shares", "state_media_echoes")
    if percase.is_current(case, *tables, extra=version):
        case.write_table("proxy_domains", proxies(case, domains))
        case.set_meta("state_media_list", media["version"])
        return {"accounts_with_links": case.count("state_media_shares"), "list": media["version"], "cached": True}
    links = link_table(case)
    case.write_table("account_links", pa.Table.from_pylist(
        [{k: r[k] for k in ("account_id", "post_id", "text", "domain")} for r in links],
        schema=pa.schema([("account_id", pa.string()), ("post_id", pa.string()), ("text", pa.string()),
                          ("domain", pa.string())])))
    case.engine.execute(f"CREATE OR REPLACE TABLE account_links AS SELECT *, {HEADLINE} AS headline FROM account_links")
    per_acc = defaultdict(lambda: {"links": 0, "state": 0, "countries": Counter(), "short": 0})
    for r in links:
        a = per_acc[r["account_id"]]
        a["links"] += 1
        if r["domain"] in domains:
            a["state"] += 1
            a["countries"][domains[r["domain"]]["country"]] += 1
        elif r["domain"] in SHORTENERS:
            a["short"] += 1
    schema = pa.schema([("account_id", pa.string()), ("links", pa.int64()), ("state_media_links", pa.int64()),
                        ("state_media_share", pa.float64()), ("state_media_countries", pa.string()),
                        ("shortened_links", pa.int64())])
    shares = pa.Table.from_pylist([
        {"account_id": a, "links": v["links"], "state_media_links": v["state"],
         "state_media_share": v["state"] / v["links"],
         "state_media_countries": json.dumps(dict(sorted(v["countries"].items()))), "shortened_links": v["short"]}
        for a, v in sorted(per_acc.items())], schema=schema)
    case.write_table("state_media_shares", shares)
    case.write_table("proxy_domains", proxies(case, domains))
    from unmask.media import echo

    case.write_table("state_media_echoes", echo.run(case, media))
    case.set_meta("state_media_list", media["version"])
    percase.mark_current(case, *tables, extra=version)
    return {"accounts_with_links": len(per_acc), "list": media["version"]}


# A post's headline: its first eight words that are not links, lower-cased; none under five words.
_WORDS = "list_filter(string_split_regex(lower(coalesce(text, '')), '\\s+'), lambda w: w <> '' AND NOT starts_with(w, 'http'))"
HEADLINE = f"CASE WHEN len({_WORDS}) >= 5 THEN array_to_string({_WORDS}[1:8], ' ') ELSE '' END"

PROXY_SCHEMA = pa.schema([("cluster", pa.int64()), ("domain", pa.string()), ("accounts", pa.int64()),
                          ("also_share_state_media", pa.int64()), ("share_with_state", pa.float64()),
                          ("accounts_outside_cluster", pa.int64()), ("copied_state_headlines", pa.int64()),
                          ("evidence", pa.string())])


def proxies(case, domains) -> pa.Table:
    """Rank non-state domains per candidate cluster by co-sharing with state media and copied headlines.

    A domain is listed for a cluster when at least two of the cluster's accounts that link it also
    link state media; ``copied_state_headlines`` counts posts linking it whose headline was also
    posted with a state-media link. One query over the per-case link table."""
    if not case.has_table("clusters"):
        return PROXY_SCHEMA.empty_table()
    eng = case.engine
    eng.register("_state_domains", pa.table({"domain": pa.array(sorted(domains), pa.string())}))
    eng.register("_shorteners", pa.table({"domain": pa.array(sorted(SHORTENERS), pa.string())}))
    try:
        rows = eng.query(f"""
        WITH cl AS (SELECT account_id, cluster FROM clusters WHERE {COORDINATED}),
        l AS (SELECT a.account_id, a.domain, a.headline, c.cluster,
                     a.domain IN (SELECT domain FROM _state_domains) AS st,
                     a.domain IN (SELECT domain FROM _shorteners) OR coalesce(a.domain, '') = '' AS skip
              FROM account_links a LEFT JOIN cl c USING (account_id)),
        state_texts AS (SELECT DISTINCT headline FROM l WHERE st AND headline <> ''),
        copied AS (SELECT domain, count(*) AS n FROM l
                   WHERE NOT st AND NOT skip AND headline IN (SELECT headline FROM state_texts) GROUP BY domain),
        state_acc AS (SELECT DISTINCT cluster, account_id FROM l WHERE st AND cluster IS NOT NULL),
        dom_acc AS (SELECT DISTINCT cluster, domain, account_id FROM l WHERE NOT st AND NOT skip AND cluster IS NOT NULL),
        per AS (SELECT d.cluster, d.domain, count(*) AS accounts, count(s.account_id) AS both_
                FROM dom_acc d LEFT JOIN state_acc s ON s.cluster = d.cluster AND s.account_id = d.account_id
                GROUP BY d.cluster, d.domain HAVING count(s.account_id) >= 2),
        users AS (SELECT DISTINCT domain, account_id FROM l WHERE domain IN (SELECT domain FROM per)),
        outside AS (SELECT p.cluster, p.domain, count(u.account_id) FILTER (WHERE c.account_id IS NULL) AS n
                    FROM per p JOIN users u ON u.domain = p.domain
                    LEFT JOIN cl c ON c.account_id = u.account_id AND c.cluster = p.cluster
                    GROUP BY p.cluster, p.domain)
        SELECT p.cluster, p.domain, p.accounts, p.both_ AS also_share_state_media,
               p.both_ / p.accounts AS share_with_state, o.n AS accounts_outside_cluster,
               coalesce(k.n, 0) AS copied_state_headlines
        FROM per p JOIN outside o USING (cluster, domain) LEFT JOIN copied k USING (domain)
        ORDER BY p.cluster, -(p.both_ / p.accounts) * p.accounts, p.domain""").to_pylist()
    finally:
        eng.unregister("_state_domains")
        eng.unregister("_shorteners")
    for r in rows:
        r["evidence"] = (f"{r['also_share_state_media']} of {r['accounts']} cluster accounts linking {r['domain']} "
                         f"also link state media; {r['accounts_outside_cluster']} accounts outside the cluster link "
                         f"it; {r['copied_state_headlines']} posts repeat a headline posted with a state-media link")
    return pa.Table.from_pylist(rows, schema=PROXY_SCHEMA)
