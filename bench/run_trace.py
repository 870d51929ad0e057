"""One trace as one whole process, for side-by-side timing.

    python bench/run_trace.py CASE TRACE WINDOW_S [EDGES.parquet] [MIN_WEIGHT]

MIN_WEIGHT defaults to 1 (every co-acting pair, as the peer reports); "default" uses the trace's
documented minimum. The evidence sample is computed and resolved to ids batch by batch, as
``detect`` does when it writes it into the case, so the time covers everything a trace delivers.
"""

import json
import sys
import time

from unmask.store import Case
from unmask.traces import run_trace

case_path, trace, window = sys.argv[1], sys.argv[2], float(sys.argv[3])
out = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
min_weight = None if len(sys.argv) > 5 and sys.argv[5] == "default" else int(sys.argv[5]) if len(sys.argv) > 5 else 1
t0 = time.perf_counter()
with Case(case_path, read_only=True) as case:
    res = run_trace(case.engine, trace, window_s=window, min_weight=min_weight, shuffles=0)
    evidence_rows = sum(batch.num_rows for batch in res.evidence_batches())
    if out:
        import pyarrow.parquet as pq

        pq.write_table(res.edges.select(["account_a", "account_b", "weight"]), out)
print(json.dumps({"trace": trace, "edges": res.edges.num_rows, "evidence_rows": evidence_rows,
                  "seconds_in_process": time.perf_counter() - t0, "stats": res.stats}))
