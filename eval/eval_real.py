"""unmask on the real datasets in ../shared/data (read in place, never copied).

    python eval/eval_real.py --shared ../shared/data --out /tmp/eval-real

ira_dev: share of IRA accounts with >= 20 posts that fall in significant clusters, NMI of the
clusters with the Clemson categories, and behavioural zones by category. twarc_v2 and coortweet:
the flagged share of accounts and what is flagged.
"""

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq

from unmask import api
from unmask.evaluate import agreement, ari_nmi
from unmask.store import Case


def run(name, inputs, out, **kw):
    res = api.run(inputs, out / name, report=True, overwrite=True, **kw)
    return res


def trace_table(case, r):
    """Per trace: co-acting pairs, edges kept (at the trace's minimum weight), significant edges, seconds."""
    kept = {x["trace"]: x for x in case.engine.query(
        "SELECT trace, count(*) AS kept, count(*) FILTER (WHERE q_value <= 0.05) AS significant "
        "FROM edges GROUP BY trace").to_pylist()}
    return {name: {"candidate_pairs": st["candidate_pairs"], "kept": kept.get(name, {}).get("kept", 0),
                   "significant_q05": kept.get(name, {}).get("significant", 0),
                   "seconds": r["detect"]["seconds"][name]}
            for name, st in r["detect"]["stats"].items()}


def flagged_share(case):
    n = case.count("accounts")
    f = case.engine.scalar("SELECT count(*) FROM account_scores WHERE flagged")
    ops = case.engine.query("SELECT rank, size, rationale FROM operations ORDER BY rank LIMIT 5").to_pylist() \
        if "size" in case.table("operations").column_names else []
    return {"accounts": n, "flagged": f, "flagged_share": f / max(1, n), "top_operations": ops}


def covertness(case):
    """Per coordinated network: size, coordination p, covertness, verdict, the factors the data let
    unmask read (with their strengths) and those it could not (the missing fields)."""
    if not case.has_table("covertness"):
        return {}
    rows = case.engine.query("""SELECT group_id, size, coordination_p, covertness, verdict, factors, missing
                                FROM covertness WHERE level = 'network' ORDER BY size DESC, group_id""").to_pylist()
    verdicts = Counter(r["verdict"] for r in rows)
    read = Counter(k for r in rows for k in json.loads(r["factors"] or "{}"))
    missing = Counter(m.split(":")[0] for r in rows for m in (r["missing"] or "").split("; ") if m)
    return {"networks": len(rows), "verdicts": dict(verdicts), "factors_read_in_networks": dict(read),
            "factors_missing_in_networks": dict(missing),
            "largest": [{"network": r["group_id"], "size": r["size"], "coordination_p": r["coordination_p"],
                         "covertness": round(r["covertness"], 3), "verdict": r["verdict"],
                         "factors": {k: round(v["strength"], 3) for k, v in json.loads(r["factors"] or "{}").items()}}
                        for r in rows[:10]]}


def ira_dev(d, out, report, reanalyse=False):
    """The IRA sample: coverage of accounts with >= 20 posts, and networks and cells against the Clemson
    categories (homogeneity, completeness, NMI over covered accounts)."""
    r = run("ira_dev", [d / "ira_dev/tweets.parquet"], out)
    authors = pq.read_table(d / "ira_dev/authors.parquet").to_pylist()
    category = {a["author_id"]: a["account_category"] for a in authors}
    with Case(out / "ira_dev/case.duckdb", read_only=True) as case:
        rows = case.engine.query("""SELECT s.account_id, s.flagged, s.cluster, c.cell, c.persona_type,
                                           p.behaviour_utc_offset,
                                           p.template, p.off_days,
                                           (SELECT count(*) FROM posts q WHERE q.account_id = s.account_id) n
                                    FROM account_scores s LEFT JOIN personas p USING (account_id)
                                    LEFT JOIN clusters c USING (account_id)""").to_pylist()
        big = [x for x in rows if x["n"] >= 20]
        in_clusters = sum(bool(x["flagged"]) for x in big)
        labelled = [x for x in rows if x["account_id"] in category]
        _, nmi = ari_nmi([category[x["account_id"]] for x in labelled],
                         [f"c{x['cluster']}" if x["flagged"] else f"none:{x['account_id']}" for x in labelled])
        covered = [x for x in big if x["flagged"] and x["account_id"] in category]
        truth = [category[x["account_id"]] for x in covered]
        levels = {"network": agreement(truth, [x["cluster"] for x in covered]),
                  "cell": agreement(truth, [x["cell"] for x in covered]),
                  "persona_type": agreement(truth, [x["persona_type"] for x in covered])}
        cell_mix = defaultdict(Counter)
        for x in covered:
            cell_mix[x["cell"]][category[x["account_id"]]] += 1
        zones = defaultdict(Counter)
        for x in labelled:
            if x["behaviour_utc_offset"] is not None:
                zones[category[x["account_id"]]][x["behaviour_utc_offset"]] += 1
        report["ira_dev"] = {"accounts_20_posts": len(big), "in_significant_clusters": in_clusters,
                             "share": in_clusters / max(1, len(big)), "nmi_vs_category": nmi,
                             "levels_20_posts": levels,
                             "largest_cells": {str(c): dict(m.most_common(4)) for c, m in sorted(
                                 cell_mix.items(), key=lambda x: -sum(x[1].values()))[:8]},
                             "behaviour_offsets_by_category": {k: dict(v.most_common(4)) for k, v in zones.items()},
                             "seconds": r["seconds"], "traces": trace_table(case, r), **flagged_share(case),
                             "covertness": covertness(case)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--out", default="/tmp/eval-real")
    ap.add_argument("--only", nargs="+", help="run only these sets (ira_dev, io_archive_sample, twarc_v2, "
                                              "coortweet_russian, coortweet_german)")
    args = ap.parse_args()
    want = lambda name: not args.only or name in args.only  # noqa: E731
    d, out = Path(args.shared), Path(args.out)
    report = {}
    if want("ira_dev"):
        ira_dev(d, out, report)
    for name, inputs, kw in (
        ("io_archive_sample", [d / "io_archive_sample/ira_sample_31col.csv"], {}),
        ("twarc_v2", [d / "twarc_v2/tweets.jsonl"], {}),
        ("coortweet_russian", [d / "coortweet/russian_coord_tweets.csv.gz"], {"const": {"kind": "retweet"}}),
        ("coortweet_german", [d / "coortweet/german_elections.csv.gz"], {}),
    ):
        if not want(name):
            continue
        r = run(name, inputs, out, **kw)
        with Case(out / name / "case.duckdb", read_only=True) as case:
            report[name] = {**flagged_share(case), "seconds": r["seconds"], "traces": trace_table(case, r),
                            "covertness": covertness(case)}
    (out / "real.json").write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
