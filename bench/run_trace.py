"""One trace as one whole process, for side-by-side timing: python bench/run_trace.py CASE TRACE WINDOW_S."""

import json
import sys
import time

from unmask.store import Case
from unmask.traces import run_trace

case_path, trace, window = sys.argv[1], sys.argv[2], float(sys.argv[3])
t0 = time.perf_counter()
with Case(case_path, read_only=True) as case:
    res = run_trace(case.engine, trace, window_s=window, min_weight=1, shuffles=0)
    pairs = res.edges.select(["account_a", "account_b", "weight"])
    import pyarrow.parquet as pq

    pq.write_table(pairs, sys.argv[4]) if len(sys.argv) > 4 else None
print(json.dumps({"trace": trace, "edges": res.edges.num_rows, "seconds_in_process": time.perf_counter() - t0,
                  "stats": res.stats}))
