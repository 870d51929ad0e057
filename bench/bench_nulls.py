"""What the calibrated nulls cost: a whole `unmask detect` now against the same command at an earlier
commit, side by side on one case (issue 19's target: at most 1.3x at 1M posts).

    git worktree add /tmp/unmask-base 730ba1f      # the code before the calibrated nulls
    python bench/bench_nulls.py --posts 1000000 --baseline-src /tmp/unmask-base/src --out /tmp/w/nulls

Each side runs as its own process (`python -m unmask.cli detect --case COPY --quiet`, the baseline
with PYTHONPATH pointing at its source) on its own copy of one ingested case, alternating, ``--runs``
times; the table gives the median wall time and the peak RSS of each side and their ratio. The
group null worlds' share of the current side's time is read from a separate `api.analyse` call.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(cmd, env=None) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of one child process (GNU time's %M, in KB)."""
    t0 = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *map(str, cmd)], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{done.stderr[-3000:]}")
    return wall, int(done.stderr.strip().splitlines()[-1]) / 1024 / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--baseline-src", required=True, help="the src folder of the earlier checkout")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--out", default="/tmp/bench-nulls")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    data = out / "data"
    if not (data / "tweets.csv").exists():
        subprocess.run([py, "-m", "unmask.cli", "simulate", "--posts", str(args.posts), "--seed", str(args.seed),
                        "--out", str(data)], check=True, capture_output=True)
    base_case = out / "base.duckdb"
    if not base_case.exists():
        subprocess.run([py, "-m", "unmask.cli", "ingest", str(data / "tweets.csv"), str(data / "users.csv"),
                        "--case", str(base_case), "--quiet"], check=True, capture_output=True)
    env_base = {**os.environ, "PYTHONPATH": str(Path(args.baseline_src).resolve())}
    sides = {"baseline": env_base, "current": dict(os.environ)}
    times = {k: [] for k in sides}
    peaks = {k: [] for k in sides}
    for _ in range(args.runs):
        for name, env in sides.items():  # alternating, so that drift hits both
            copy = out / f"{name}.duckdb"
            shutil.copy(base_case, copy)
            wall, peak = timed([py, "-m", "unmask.cli", "detect", "--case", str(copy), "--quiet"], env=env)
            times[name].append(wall)
            peaks[name].append(peak)
    from unmask import api
    from unmask.store import Case

    with Case(out / "current.duckdb") as case:
        t0 = time.perf_counter()
        api.analyse(case, seed=0, group_worlds=0)
        plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        api.analyse(case, seed=0)
        with_worlds = time.perf_counter() - t0
    res = {"posts": args.posts, "runs": args.runs,
           "baseline_s": round(statistics.median(times["baseline"]), 2),
           "current_s": round(statistics.median(times["current"]), 2),
           "ratio_current_over_baseline": round(statistics.median(times["current"]) /
                                                statistics.median(times["baseline"]), 3),
           "baseline_peak_gb": round(max(peaks["baseline"]), 2), "current_peak_gb": round(max(peaks["current"]), 2),
           "analyse_s_without_group_worlds": round(plain, 2), "analyse_s_with_19_group_worlds": round(with_worlds, 2),
           "all_runs": times}
    (out / "nulls.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
