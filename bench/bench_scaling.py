"""How each stage's cost grows with posts: `unmask ingest`, a default `unmask detect` (every default
trace, significance, networks, cells, checks; the first one also builds the per-case tables), a
second `unmask detect --traces co_link` (what a re-run costs) and `unmask report`, each a whole
process under /usr/bin/time (wall seconds, peak RSS).

    python bench/bench_scaling.py --posts 1000000 --posts 3000000 --out /tmp/scaling
    python bench/bench_scaling.py --parts 3 --posts 10000000 --out /tmp/scaling

``--parts K`` simulates a size as K worlds of posts/K each, over consecutive months with their own
seeds (one world of 10M posts does not fit the simulator's memory on a 24 GB machine: see
RESULTS.md), and ingests the K files into one case. ``--world FILE`` (with one ``--posts``) uses a
world already simulated. Results go to ``OUT/scaling.json``, and the stage table (the stages inside
the first detect from the seconds the case records, and each stage's slope) to ``OUT/stages.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path


def timed(cmd, log):
    proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], capture_output=True, text=True)
    log.write(f"$ {' '.join(map(str, cmd))}\n{proc.stdout[-800:]}{proc.stderr[-800:]}\n")
    log.flush()
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{proc.stderr[-3000:]}")
    wall, rss = proc.stderr.strip().splitlines()[-1].split()
    return float(wall), round(int(rss) / 1024.0)


def simulate(n, parts, out: Path, log):
    files, rows = [], []
    for i in range(parts):
        d = out / f"sim-{n}-{i + 1}of{parts}"
        if not (d / "tweets.csv").exists():
            month = f"2018-{3 + i:02d}-01"
            w = timed(["unmask", "simulate", "--posts", str(n // parts + (1 if i < n % parts else 0)),
                       "--seed", str(100 + i + 1 if parts > 1 else 1), "--set", f"start={month}",
                       "--out", str(d)], log)
            rows.append({"posts": n, "stage": f"simulate part {i + 1} of {parts}", "seconds": w[0], "peak_mb": w[1]})
        files += [d / "tweets.csv", *([d / "users.csv"] if (d / "users.csv").exists() else [])]
    return files, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, action="append", required=True)
    ap.add_argument("--parts", type=int, default=1)
    ap.add_argument("--world", help="a folder with a world already simulated (tweets.csv, users.csv), one --posts")
    ap.add_argument("--out", default="bench/out-scaling")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = json.loads((out / "scaling.json").read_text()) if (out / "scaling.json").exists() else []
    with open(out / "commands.log", "a") as log:
        for n in args.posts:
            if args.world:
                w = Path(args.world)
                files, rows = [w / "tweets.csv", *([w / "users.csv"] if (w / "users.csv").exists() else [])], []
            else:
                files, rows = simulate(n, args.parts, out, log)
            case = out / f"case-{n}.duckdb"
            for stale in (case, Path(str(case) + ".wal")):
                stale.unlink(missing_ok=True)
            stages = [
                ("ingest", ["unmask", "ingest", *map(str, files), "--case", str(case), "--quiet"]),
                ("detect (default traces, first on the case)", ["unmask", "detect", "--case", str(case), "--quiet"]),
                ("detect --traces co_link (a re-run)", ["unmask", "detect", "--case", str(case), "--traces", "co_link",
                                                        "--quiet"]),
                ("report", ["unmask", "report", "--case", str(case), "--out", str(out / f"report-{n}.html")]),
            ]
            for name, cmd in stages:
                w = timed(cmd, log)
                rows.append({"posts": n, "stage": name, "seconds": w[0], "peak_mb": w[1]})
                print(json.dumps(rows[-1]), flush=True)
                if name.startswith("detect (default"):
                    rows.extend(inner_stages(case, n))
            results = [r for r in results if r["posts"] != n] + rows
            (out / "scaling.json").write_text(json.dumps(results, indent=2))
    (out / "stages.md").write_text(stage_table(results))
    print(stage_table(results))


def inner_stages(case, n) -> list:
    """The stages inside the first default detect, from the seconds the case records for each: every
    trace (with its evidence), significance (p-values per trace, q-values), fusion, clustering, the
    group tests (with their null worlds), cells, scores and the checks."""
    from unmask.store import Case

    with Case(case, read_only=True) as c:
        detect = c.get_meta("detect", {})
        tested = detect.get("significance_seconds", {})
        parts = [(f"trace {t}", s) for t, s in detect.get("seconds", {}).items()]
        parts.append(("significance (p-values and q-values)", round(sum(tested.values()), 3)))
        parts += [(f"analyse: {k}", v) for k, v in c.get_meta("analyse_seconds", {}).items()]
        parts += [(f"checks: {k}", v) for k, v in c.get_meta("checks_seconds", {}).items()]
    return [{"posts": n, "stage": name, "seconds": s, "peak_mb": None, "inside": "detect"} for name, s in parts]


def stage_table(results) -> str:
    """Markdown: each stage's seconds at every size, and its slope (log-log, smallest to largest size:
    1 is linear in posts, 1.1 about n log n over these sizes)."""
    import math

    sizes = sorted({r["posts"] for r in results})
    stages = list(dict.fromkeys(r["stage"] for r in results))
    at = {(r["stage"], r["posts"]): r for r in results}
    head = "| stage | " + " | ".join(f"{n / 1e6:g}M" for n in sizes) + " | slope |"
    lines = [head, "|" + "---|" * (len(sizes) + 2)]
    for st in stages:
        cells, pts = [], []
        for n in sizes:
            r = at.get((st, n))
            if r is None:
                cells.append("–")
                continue
            mem = f", {r['peak_mb'] / 1024:.2f} GB" if r.get("peak_mb") else ""
            cells.append(f"{r['seconds']:.1f} s{mem}")
            if r["seconds"] > 0:
                pts.append((n, r["seconds"]))
        slope = (f"{math.log(pts[-1][1] / pts[0][1]) / math.log(pts[-1][0] / pts[0][0]):.2f}"
                 if len(pts) >= 2 and pts[-1][0] > pts[0][0] else "–")
        lines.append(f"| {st} | " + " | ".join(cells) + f" | {slope} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
