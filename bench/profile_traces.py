"""Per-trace profile of a large case: each trace's time (trace, p-values, evidence), peak RSS, the
largest spill of DuckDB's temp directory, and the trace's statistics; ``--statements`` also prints
the slowest engine statements of each trace.

    python bench/profile_traces.py /tmp/r10/case.duckdb --memory 1GB --traces co_retweet,synchronized_posting
    python bench/profile_traces.py CASE --traces co_retweet --window 60 --min-weight 1 --statements
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading
import time

from unmask.network import significance
from unmask.store import Case
from unmask.traces import DEFAULT_TRACES, run_trace


def _du(path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:  # a spill file removed while walking
                pass
    return total


def _peak_gb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1e6
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("--memory", default="1GB")
    ap.add_argument("--traces", default=",".join(DEFAULT_TRACES))
    ap.add_argument("--statements", action="store_true")
    ap.add_argument("--min-weight", type=int, help="every trace's minimum weight (default: each trace's own)")
    ap.add_argument("--window", type=float, help="every trace's window in seconds (default: each trace's own)")
    args = ap.parse_args()
    case = Case(args.case, memory_limit=args.memory)
    eng = case.engine
    peak = {"spill": 0, "stop": False}

    def watch():
        while not peak["stop"]:
            peak["spill"] = max(peak["spill"], _du(eng._temp))
            time.sleep(1)

    threading.Thread(target=watch, daemon=True).start()
    log = []
    if args.statements:
        for meth in ("create_table", "query", "execute", "create_reach", "scalar"):
            orig = getattr(eng, meth)

            def timed(*a, _o=orig, _m=meth, **k):
                t = time.perf_counter()
                r = _o(*a, **k)
                log.append((time.perf_counter() - t, _m, re.sub(r"\s+", " ", str(a[0]))[:200]))
                return r
            setattr(eng, meth, timed)
    for name in args.traces.split(","):
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak RSS
        peak["spill"], log[:] = 0, []
        t0 = time.perf_counter()
        res = run_trace(eng, name, window_s=args.window, min_weight=args.min_weight)
        t1 = time.perf_counter()
        tab = significance.trace_pvalues(res)
        t2 = time.perf_counter()
        n_ev = sum(b.num_rows for b in res.evidence_batches())
        t3 = time.perf_counter()
        res.release()
        stats = {k: v for k, v in res.stats.items() if isinstance(v, (int, float, str))}
        print(json.dumps({"trace": name, "trace_s": round(t1 - t0, 1), "pvalues_s": round(t2 - t1, 1),
                          "evidence_s": round(t3 - t2, 1), "edges": tab.num_rows, "evidence": n_ev,
                          "peak_gb": round(_peak_gb(), 2), "spill_gb": round(peak["spill"] / 1e9, 2),
                          "stats": stats}), flush=True)
        for s, m, q in sorted(log, reverse=True)[:10]:
            print(f"  {s:7.1f} s  {m}  {q}")
    peak["stop"] = True


if __name__ == "__main__":
    main()
