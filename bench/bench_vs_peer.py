"""Side-by-side benchmark against coordination-network-toolkit 1.5.2 (the peer), in one run.

    pip install coordination-network-toolkit==1.5.2        # the peer (for this benchmark only)
    python bench/bench_vs_peer.py --posts 1000000 --out bench/out [--stress] [--similar-posts 100000]
                                  [--link-share 0.36 ...] [--links-only] [--run-posts 1000000] [--resume]
                                  [--traces co_link co_text]

Besides the kernels (one trace as one process, `run_trace.py`), it times the commands users run:
`unmask ingest`, a whole `unmask detect --traces T --reset` per trace (after a first detect that
builds the case's per-case tables, timed on its own row) against the peer's `compute`, checking
that the edges stored in the case match the peer's and failing loudly when either side has none,
and a whole `unmask run` against the peer's `preprocess` plus co_retweet, co_link and co_tweet.

Each measurement is a whole process timed with /usr/bin/time (wall seconds and peak RSS). Both
tools read the same simulated posts: unmask the archive CSV, the peer its own CSV format (written
from the same case). Ratios are peer seconds / unmask seconds. Edge sets are compared as
unordered account pairs with at least one co-action.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

PY = sys.executable
RUN_TRACE = [PY, str(Path(__file__).parent / "run_trace.py")]  # one trace as one whole process


DONE: dict = {}  # command -> (wall s, peak MB, stdout) of the processes measured in this folder
DONE_FILE: Path | None = None  # where they are kept (OUT/timings.json), read back by --resume

SHORT_S = 10.0  # a process shorter than this is run REPEAT times and its median reported
REPEAT = 5


def timed(cmd, log):
    """Wall seconds and peak RSS (MB) of one process. Short processes (under SHORT_S) are run
    REPEAT times and the median wall time is reported (with the largest peak RSS): on a shared
    two-core machine one run of a one-second process varies by a third."""
    key = " ".join(map(str, cmd))
    if key in DONE:  # --resume: measured by an earlier run into the same folder
        log.write(f"$ {key}\n(measured earlier: {DONE[key][0]} s, peak RSS {DONE[key][1]:.0f} MB)\n")
        return tuple(DONE[key])
    walls, rss_max = [], 0
    while True:
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
        wall, rss = proc.stderr.strip().splitlines()[-1].split()
        walls.append(float(wall))
        rss_max = max(rss_max, int(rss))
        log.write(f"$ {' '.join(cmd)}\n{proc.stdout[-500:]}\nwall {wall} s, peak RSS {int(rss) / 1024:.0f} MB\n")
        log.flush()
        if walls[0] >= SHORT_S or len(walls) == REPEAT:
            break
    walls.sort()
    if len(walls) > 1:
        log.write(f"median of {len(walls)}: {walls[len(walls) // 2]} s (all: {walls})\n")
    result = (walls[len(walls) // 2], rss_max / 1024.0, proc.stdout)
    if DONE_FILE is not None:
        DONE[key] = result
        DONE_FILE.write_text(json.dumps(DONE, indent=1))
    return result


def simulate(n, out, extra=()):
    if not (out / "tweets.csv").exists():
        subprocess.run(["unmask", "simulate", "--posts", str(n), "--seed", "1", "--out", str(out), *extra], check=True)
    return out / "tweets.csv"


def peer_csv(case_path, path):
    """The peer's CSV columns from an unmask case (same posts, timestamps in seconds)."""
    code = f"""
from unmask.store import Case
with Case({str(case_path)!r}, read_only=True) as c:
    c.engine.execute('''COPY (SELECT post_id AS message_id, account_id AS user_id, account_id AS username,
        CASE WHEN kind = 'retweet' THEN ref_post_id ELSE '' END AS repost_id,
        CASE WHEN kind = 'reply' THEN ref_post_id ELSE '' END AS reply_id,
        coalesce(text, '') AS message, epoch_ms(created_at) / 1000.0 AS timestamp,
        array_to_string(urls, ' ') AS urls FROM posts ORDER BY created_at, post_id)
        TO {str(path)!r} (HEADER, DELIMITER ',')''')
"""
    subprocess.run([PY, "-c", code], check=True)


def peer_pairs(db, network, work: Path) -> Path:
    """The peer's network (kept in SQLite: its CSV writer fails in 1.5.2 with an unexpected argument) as
    a CSV of unordered pairs, written by the sqlite3 shell where there is one (hundreds of millions of
    rows at 3M posts: a Python set of them does not fit in memory)."""
    import shutil
    import sqlite3

    out = work / f"{Path(db).stem}.{network}.pairs.csv"
    # the peer stores each pair in both directions (3M: 200,830,695 rows each way, plus self-pairs)
    sql = f"SELECT user_1, user_2 FROM {network}_network WHERE user_1 < user_2"
    if shutil.which("sqlite3"):
        with open(out, "w") as fh:
            subprocess.run(["sqlite3", "-csv", str(db), sql], stdout=fh, check=True)
    else:
        import csv

        con = sqlite3.connect(db)
        with open(out, "w", newline="") as fh:
            w, cur = csv.writer(fh), con.execute(sql)
            while rows := cur.fetchmany(1_000_000):
                w.writerows(rows)
        con.close()
    return out


def compare_pairs(peer_csv_path: Path, work: Path, arrow=None, case=None, trace=None) -> dict:
    """Counts of both pair sets and of the pairs only one side has, computed in DuckDB (spilling to
    ``work``). Ours: the Arrow IPC edges written by run_trace.py (``arrow``), or the edges a whole
    ``unmask detect`` stored for ``trace`` in ``case``."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.execute(f"SET temp_directory='{work / 'duckdb_tmp'}'")
    con.execute("SET memory_limit='4GB'")
    con.execute("SET preserve_insertion_order=false")
    if arrow is not None:
        con.register("_ours_arrow", pa.ipc.open_file(pa.memory_map(str(arrow))).read_all().select(["account_a", "account_b"]))
        ours_sql = "SELECT account_a AS a, account_b AS b FROM _ours_arrow"
    else:
        con.execute(f"ATTACH '{case}' AS c (READ_ONLY)")
        ours_sql = f"SELECT account_a AS a, account_b AS b FROM c.edges WHERE trace = '{trace}'"
    con.execute(f"CREATE TABLE o AS SELECT DISTINCT least(a, b) AS a, greatest(a, b) AS b FROM ({ours_sql}) WHERE a <> b")
    # the peer's rows are unique (its primary key) and already ordered (peer_pairs keeps user_1 < user_2)
    con.execute(f"CREATE TABLE p AS SELECT * FROM read_csv('{peer_csv_path}', header=false, "
                "columns={'a': 'VARCHAR', 'b': 'VARCHAR'})")
    row = con.execute("""SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM p),
        (SELECT count(*) FROM o ANTI JOIN p USING (a, b)), (SELECT count(*) FROM p ANTI JOIN o USING (a, b))""").fetchone()
    con.close()
    return {"unmask_pairs": row[0], "peer_pairs": row[1], "only_unmask": row[2], "only_peer": row[3]}


def whole_run(n, work: Path, log):
    """``unmask run`` (ingest, every default trace, significance, networks, checks, report) against the
    peer's preprocess plus its co_retweet, co_link and co_tweet, on the same file, one after the other."""
    tag = f"{n // 1000}k"
    tweets = simulate(n, work / f"sim-{tag}")
    out = work / f"run-{tag}"
    u = timed(["unmask", "run", str(tweets), "--out", str(out), "--overwrite", "--quiet"], log)
    peer_db = work / f"peer-run-{tag}.db"
    peer_db.unlink(missing_ok=True)
    peer_in = work / f"peer-{tag}.csv"
    if not peer_in.exists():
        peer_csv(out / "case.duckdb", peer_in)
    p = [timed([PY, "-m", "coordination_network_toolkit", str(peer_db), "preprocess", "--format", "csv",
                str(peer_in)], log)]
    for name in ("co_retweet", "co_link", "co_tweet"):
        p.append(timed([PY, "-m", "coordination_network_toolkit", str(peer_db), "compute", name, "--time_window",
                        "60", "--min_edge_weight", "1", "--n_cpus", "2"], log))
    row = {"set": tag, "task": "whole `unmask run` vs peer preprocess + co_retweet + co_link + co_tweet",
           "unmask_s": u[0], "unmask_mb": u[1], "peer_s": round(sum(x[0] for x in p), 2),
           "peer_mb": max(x[1] for x in p)}
    print(json.dumps(row), flush=True)
    return [row]


def run(n, work: Path, log, stress=False, similar_posts=100_000, link_share=None, only=None):
    """One data set: the default simulation, the hot-object stress set (``stress``), or, with
    ``link_share``, a set whose organic originals carry links that often (co_link only)."""
    tag = f"{n // 1000}k" + ("-stress" if stress else "") + (f"-links{link_share:g}" if link_share else "")
    data = work / f"sim-{tag}"
    extra = ["--set", "viral_cascades=6", "--set", "cascade_size=0.6"] if stress else []
    if link_share:
        extra = ["--set", f"link_share={link_share:g}"]
    tweets = simulate(n, data, extra)
    case = work / f"case-{tag}.duckdb"
    peer_db = work / f"peer-{tag}.db"
    if not DONE:  # a fresh run (with --resume, the case and the peer's database are the earlier run's)
        for p in (case, Path(str(case) + ".wal"), peer_db):
            p.unlink(missing_ok=True)
    rows = []
    u = timed(["unmask", "ingest", str(tweets), "--case", str(case), "--quiet"], log)
    if stress:
        rows.append({"set": tag, "task": "ingest", "unmask_s": u[0], "unmask_mb": u[1]})
    else:
        peer_in = work / f"peer-{tag}.csv"
        if not (DONE and peer_in.exists()):
            peer_csv(case, peer_in)
        p = timed([PY, "-m", "coordination_network_toolkit", str(peer_db), "preprocess", "--format", "csv",
                   str(peer_in)], log)
        rows.append({"set": tag, "task": "ingest", "unmask_s": u[0], "unmask_mb": u[1], "peer_s": p[0],
                     "peer_mb": p[1]})
        print(json.dumps(rows[-1]), flush=True)
    # the peer's co_link counts empty URL strings as a shared link: remove them (its bug, not copied)
    if not stress:
        subprocess.run([PY, "-c", f"import sqlite3; d=sqlite3.connect({str(peer_db)!r}); "
                        "d.execute(\"delete from message_url where url = ''\"); d.commit()"], check=True)
    traces = tuple(t for t in (("co_retweet", "co_retweet", 60), ("co_link", "co_link", 60), ("co_text", "co_tweet", 60))
                   if not only or t[0] in only)
    whole = not stress and not link_share
    if whole:  # the first detect on a case builds its per-case tables; later ones reuse them
        w = timed(["unmask", "detect", "--case", str(case), "--traces", "co_link", "--reset", "--quiet"], log)
        rows.append({"set": tag, "task": "first unmask detect on the case (builds per-case tables)",
                     "unmask_s": w[0], "unmask_mb": w[1]})
        print(json.dumps(rows[-1]), flush=True)
    for trace, peer_name, window in (traces[1:2] if link_share else traces):
        out_u = work / f"u-{tag}-{trace}.arrow"
        if stress:  # the peer writes every pair of a 20,000-account cascade to SQLite: see RESULTS.md
            ut = timed([*RUN_TRACE, str(case), trace, str(window), "--out",
                        str(out_u), "--min-weight", "default"], log)
            rows.append({"set": tag, "task": f"{trace} (its default minimum weight)", "unmask_s": ut[0],
                         "unmask_mb": ut[1], "unmask_edges": json.loads(ut[2].splitlines()[-1])["edges"]})
            print(json.dumps(rows[-1]), flush=True)
            continue
        ut = timed([*RUN_TRACE, str(case), trace, str(window), "--out",
                    str(out_u)], log)
        pt = timed([PY, "-m", "coordination_network_toolkit", str(peer_db), "compute", peer_name, "--time_window",
                    str(window), "--min_edge_weight", "1", "--n_cpus", "2"], log)
        b = peer_pairs(peer_db, peer_name, work)
        rows.append({"set": tag, "task": trace, "unmask_s": ut[0], "unmask_mb": ut[1], "peer_s": pt[0],
                     "peer_mb": pt[1], **compare_pairs(b, work, arrow=out_u)})
        print(json.dumps(rows[-1]), flush=True)
        if whole:  # the command a user runs: the trace, then fusion, networks, cells, scores and checks
            wt = timed(["unmask", "detect", "--case", str(case), "--traces", trace, "--window", f"{trace}={window}s",
                        "--min-weight", f"{trace}=1", "--reset", "--quiet"], log)
            counts = compare_pairs(b, work, case=case, trace=trace)
            if not counts["unmask_pairs"] or not counts["peer_pairs"]:
                raise SystemExit(f"{tag} {trace}: one side found no edges ({counts})")
            rows.append({"set": tag, "task": f"whole `unmask detect --traces {trace}` vs peer compute",
                         "unmask_s": wt[0], "unmask_mb": wt[1], "peer_s": pt[0], "peer_mb": pt[1], **counts})
            print(json.dumps(rows[-1]), flush=True)
    if link_share:
        return rows
    if not stress and any(t[0] == "co_text" for t in traces):
        ingest_row = rows[0]
        text_row = next(r for r in rows if r["task"] == "co_text")
        rows.append({"set": tag, "task": "ingest + co_text vs preprocess + co_tweet (text key made at ingest)",
                     "unmask_s": round(ingest_row["unmask_s"] + text_row["unmask_s"], 2),
                     "peer_s": round(ingest_row["peer_s"] + text_row["peer_s"], 2)})
        ut = timed([*RUN_TRACE, str(case), "near_duplicate_text", "3600"], log)
        rows.append({"set": tag, "task": "near_duplicate_text (unmask only, all posts)", "unmask_s": ut[0],
                     "unmask_mb": ut[1]})
        print(json.dumps(rows[-1]), flush=True)
    if similar_posts and not stress:
        small = work / f"sim-{similar_posts // 1000}k"
        st = simulate(similar_posts, small)
        scase, sdb = work / f"case-{similar_posts // 1000}k.duckdb", work / f"peer-{similar_posts // 1000}k.db"
        for q in (scase, sdb):
            q.unlink(missing_ok=True)
        subprocess.run(["unmask", "ingest", str(st), "--case", str(scase), "--quiet"], check=True)
        pin = work / f"peer-{similar_posts // 1000}k.csv"
        peer_csv(scase, pin)
        subprocess.run([PY, "-m", "coordination_network_toolkit", str(sdb), "preprocess", "--format", "csv", str(pin)],
                       check=True, capture_output=True)
        ut = timed([*RUN_TRACE, str(scase), "near_duplicate_text", "3600"], log)
        pt = timed([PY, "-m", "coordination_network_toolkit", str(sdb), "compute", "co_similar_tweet", "--time_window",
                    "3600", "--min_edge_weight", "1", "--similarity_threshold", "0.5"], log)
        rows.append({"set": f"{similar_posts // 1000}k", "task": "near_duplicate_text vs co_similar_tweet",
                     "unmask_s": ut[0], "unmask_mb": ut[1], "peer_s": pt[0], "peer_mb": pt[1]})
        print(json.dumps(rows[-1]), flush=True)
        # the same window semantics give the same edges once the hot-object cap is out of the way
        out_x = work / f"u-{similar_posts // 1000}k-co_retweet-exact.arrow"
        ut = timed([*RUN_TRACE, str(scase), "co_retweet", "60", "--out",
                    str(out_x), "--max-neighbors", "1000000"], log)
        pt = timed([PY, "-m", "coordination_network_toolkit", str(sdb), "compute", "co_retweet", "--time_window",
                    "60", "--min_edge_weight", "1"], log)
        rows.append({"set": f"{similar_posts // 1000}k", "task": "co_retweet without the cap (exactness check)",
                     "unmask_s": ut[0], "unmask_mb": ut[1], "peer_s": pt[0], "peer_mb": pt[1],
                     **compare_pairs(peer_pairs(sdb, "co_retweet", work), work, arrow=out_x)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, action="append", default=None)
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--stress", action="store_true", help="also the hot-object stress set at the first size")
    ap.add_argument("--similar-posts", type=int, default=100_000)
    ap.add_argument("--link-share", type=float, action="append", default=[],
                    help="also co_link on a set where this share of organic originals carry a link (repeatable)")
    ap.add_argument("--links-only", action="store_true", help="only the --link-share sets")
    ap.add_argument("--run-posts", type=int, action="append", default=None,
                    help="sizes for whole `unmask run` against the peer's preprocess + three networks "
                         "(default: the first --posts; 0 skips)")
    ap.add_argument("--traces", nargs="+", choices=["co_retweet", "co_link", "co_text"],
                    help="only these traces against the peer (default: all three)")
    ap.add_argument("--resume", action="store_true",
                    help="reuse the processes already measured into --out (its timings.json) and go on from there")
    args = ap.parse_args()
    work = Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    global DONE_FILE
    DONE_FILE = work / "timings.json"
    if args.resume and DONE_FILE.exists():
        DONE.update({k: tuple(v) for k, v in json.loads(DONE_FILE.read_text()).items()})
    results = []
    with open(work / "commands.log", "a" if DONE else "w") as log:
        for i, n in enumerate([] if args.links_only else args.posts or [1_000_000]):
            results += run(n, work, log, similar_posts=args.similar_posts if i == 0 else 0, only=args.traces)
        if args.stress and not args.links_only:
            results += run((args.posts or [1_000_000])[0], work, log, stress=True, similar_posts=0)
        for n in (args.run_posts or [(args.posts or [1_000_000])[0]]) if not args.links_only else []:
            if n:
                results += whole_run(n, work, log)
        for share in args.link_share:
            results += run((args.posts or [1_000_000])[0], work, log, similar_posts=0, link_share=share)
    for r in results:
        if r.get("peer_s"):
            r["speedup"] = round(r["peer_s"] / r["unmask_s"], 2)
    (work / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
