"""`unmask run` on DuckDB against `unmask run --engine spark --layout parquet`, side by side, as whole
processes (JVM start included), with the largest process's peak memory and each detect's per-trace
seconds; then checks that both cases hold the same results.

    python bench/bench_spark.py --posts 50000 --seed 3 --out /tmp/bench-spark
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def _run(args, out: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "unmask", *args, "--out", str(out), "--overwrite", "--quiet"],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"unmask {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"wall_s": round(wall, 1), "peak_gb_largest_process": round(max(peak, before) / 2**20, 2)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-spark"))
    a = ap.parse_args(argv)
    from unmask.store import Case

    world = a.out / "world"
    subprocess.run([sys.executable, "-m", "unmask", "simulate", "--posts", str(a.posts), "--seed", str(a.seed),
                    "--out", str(world)], check=True, capture_output=True)
    inputs = [str(world / "tweets.csv"), str(world / "users.csv")]
    rows = {"duckdb": _run(["run", *inputs], a.out / "duckdb"),
            "spark": _run(["run", *inputs, "--engine", "spark", "--layout", "parquet"], a.out / "spark")}
    cases = {"duckdb": a.out / "duckdb" / "case.duckdb", "spark": a.out / "spark" / "case"}
    for name, path in cases.items():
        with Case(path, read_only=True) as case:
            det = case.get_meta("detect")
            rows[name]["traces_s"] = round(sum(det["seconds"].values()), 1)
            rows[name]["per_trace_s"] = det["seconds"]
    same = {}
    with Case(cases["duckdb"], read_only=True) as case:
        case.engine.execute(f"ATTACH '{cases['spark'] / 'case.duckdb'}' AS other (READ_ONLY)")
        for t in ("edges", "fused_edges", "clusters", "groups", "operations"):
            same[t] = all(case.engine.scalar(f"SELECT count(*) FROM (SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y})")
                          == 0 for x, y in ((f"main.{t}", f"other.main.{t}"), (f"other.main.{t}", f"main.{t}")))
    print(json.dumps({"posts": a.posts, "seed": a.seed, **rows,
                      "ratio_wall": round(rows["spark"]["wall_s"] / rows["duckdb"]["wall_s"], 2),
                      "identical": same}, indent=2))


if __name__ == "__main__":
    main()
