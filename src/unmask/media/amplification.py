"""Each account's and each cluster's share of links to state media, by country, and
possible proxy sites: domains a cluster shares together with state media, or whose posts copy
state-media headlines."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pyarrow as pa

from unmask.media.statemedia import SHORTENERS, load, registered_domain


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
    arrive or the list changes) and proxy domains per flagged network (every run)."""
    from unmask import percase

    media = load(extra_lists)
    domains = media["domains"]
    version = "list=" + ",".join(v["sha256"][:16] for v in media["version"])
    tables = ("account_links", "state_media_shares", "state_media_echoes")
    if percase.is_current(case, *tables, extra=version):
        links = case.table("account_links").to_pylist()
        case.write_table("proxy_domains", proxies(case, links, domains))
        case.set_meta("state_media_list", media["version"])
        return {"accounts_with_links": case.count("state_media_shares"), "list": media["version"], "cached": True}
    links = link_table(case)
    case.write_table("account_links", pa.Table.from_pylist(
        [{k: r[k] for k in ("account_id", "post_id", "text", "domain")} for r in links],
        schema=pa.schema([("account_id", pa.string()), ("post_id", pa.string()), ("text", pa.string()),
                          ("domain", pa.string())])))
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
    case.write_table("proxy_domains", proxies(case, links, domains))
    from unmask.media import echo

    case.write_table("state_media_echoes", echo.run(case, media))
    case.set_meta("state_media_list", media["version"])
    percase.mark_current(case, *tables, extra=version)
    return {"accounts_with_links": len(per_acc), "list": media["version"]}


def proxies(case, links, domains) -> pa.Table:
    """Rank non-state domains per candidate cluster by co-sharing with state media and copied headlines."""
    cluster_of = {}
    if case.has_table("clusters"):
        cluster_of = {r["account_id"]: r["cluster"] for r in
                      case.engine.query("SELECT account_id, cluster FROM clusters WHERE is_candidate").to_pylist()}
    state_texts = {_headline(r["text"]) for r in links if r["domain"] in domains and _headline(r["text"])}
    by_cluster = defaultdict(lambda: defaultdict(set))
    state_accounts = defaultdict(set)
    copied = Counter()
    for r in links:
        c = cluster_of.get(r["account_id"])
        if r["domain"] in domains:
            if c is not None:
                state_accounts[c].add(r["account_id"])
            continue
        if r["domain"] in SHORTENERS or not r["domain"]:
            continue
        if c is not None:
            by_cluster[c][r["domain"]].add(r["account_id"])
        if _headline(r["text"]) in state_texts:
            copied[r["domain"]] += 1
    global_users = defaultdict(set)
    for r in links:
        global_users[r["domain"]].add(r["account_id"])
    rows = []
    for c, doms in by_cluster.items():
        if not state_accounts[c]:
            continue
        for d, accs in doms.items():
            both = accs & state_accounts[c]
            if len(both) < 2:
                continue
            outside = len(global_users[d] - set(a for a, cc in cluster_of.items() if cc == c))
            rows.append({"cluster": c, "domain": d, "accounts": len(accs), "also_share_state_media": len(both),
                         "share_with_state": len(both) / len(accs), "accounts_outside_cluster": outside,
                         "copied_state_headlines": copied[d],
                         "evidence": f"{len(both)} of {len(accs)} cluster accounts linking {d} also link state media; "
                                     f"{outside} accounts outside the cluster link it; {copied[d]} posts repeat a "
                                     "headline posted with a state-media link"})
    rows.sort(key=lambda r: (r["cluster"], -r["share_with_state"] * r["accounts"], r["domain"]))
    schema = pa.schema([("cluster", pa.int64()), ("domain", pa.string()), ("accounts", pa.int64()),
                        ("also_share_state_media", pa.int64()), ("share_with_state", pa.float64()),
                        ("accounts_outside_cluster", pa.int64()), ("copied_state_headlines", pa.int64()),
                        ("evidence", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def _headline(text):
    words = [w for w in (text or "").lower().split() if not w.startswith("http")]
    return " ".join(words[:8]) if len(words) >= 5 else ""
