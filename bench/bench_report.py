"""Report size and time to interactive in headless Chromium.

    python bench/bench_report.py CASE OUT.html

Writes the report, then opens it in Chromium (Debian's package, driven by playwright) and measures
the time from navigation to the report's own ready flag (``window.unmaskReady``, set once the
first operation's network is drawn and the search box is wired), as the median of three loads.
"""

import json
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from unmask.report.html import write_report
from unmask.store import Case

case_path, out = sys.argv[1], Path(sys.argv[2])
t0 = time.perf_counter()
with Case(case_path, read_only=True) as case:
    write_report(case, out)
    n_ops = case.count("operations")
    n_posts = case.count("posts")
build = time.perf_counter() - t0
times = []
with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
    for _ in range(3):
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(out.resolve().as_uri())
        page.wait_for_function("window.unmaskReady === true", timeout=60_000)
        times.append(time.perf_counter() - start)
        page.close()
    browser.close()
print(json.dumps({"posts": n_posts, "operations": n_ops, "bytes": out.stat().st_size, "build_s": round(build, 2),
                  "interactive_s_median": round(statistics.median(times), 3)}))
