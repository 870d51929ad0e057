"""`unmask simulate` side by side: this tree against a baseline commit, as whole processes.

    python bench/bench_simulate.py --posts 1000000 --baseline 4de4c90 --out /tmp/benchsim

Each side runs `python -m unmask simulate --posts N --seed 1` in its own process with its own
source tree on PYTHONPATH (the baseline from a git worktree), timed with /usr/bin/time (wall
seconds, peak RSS); the two sides alternate and each runs `--repeat` times (median reported).
The files must be byte-identical: the writer may change how, never what.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

from bench_nulls import timed  # the same whole-process timing (GNU time's peak RSS) as the nulls' bench

ROOT = Path(__file__).resolve().parent.parent


def worktree(commit: str, where: Path) -> Path:
    if not where.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), commit], check=True,
                       capture_output=True)
    return where / "src"


def simulate(src: Path, posts: int, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of ``unmask simulate`` run from the source tree ``src``."""
    return timed([sys.executable, "-m", "unmask", "simulate", "--posts", posts, "--seed", 1, "--out", out],
                 env=dict(os.environ, PYTHONPATH=str(src)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--baseline", required=True, help="commit to compare against")
    ap.add_argument("--out", default="/tmp/benchsim")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sides = {"baseline": worktree(args.baseline, out / "baseline-tree"), "now": ROOT / "src"}
    runs = {k: [] for k in sides}
    for _ in range(args.repeat):
        for name, src in sides.items():
            runs[name].append(simulate(src, args.posts, out / name))
    files = ["tweets.csv", "users.csv", "labels.csv"]
    same = all(filecmp.cmp(out / "baseline" / f, out / "now" / f, shallow=False) for f in files)
    res = {}
    for name, r in runs.items():
        walls = sorted(w for w, _ in r)
        res[name] = {"wall_s": walls[len(walls) // 2], "peak_gb": round(max(m for _, m in r), 2)}
    res["speedup"] = round(res["baseline"]["wall_s"] / res["now"]["wall_s"], 2)
    res["memory_ratio"] = round(res["baseline"]["peak_gb"] / res["now"]["peak_gb"], 2)
    res["byte_identical"] = same
    print(json.dumps({"posts": args.posts, **res}, indent=2))
    if not same:
        raise SystemExit("the files differ")


if __name__ == "__main__":
    main()
