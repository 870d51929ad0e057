"""Every distinct profile location in the real sets, and what unmask resolves it to, for reading.

    python eval/eval_locations.py --shared ../shared/data > /tmp/locations.tsv

The rows are tab-separated: how many posts carry the location, the text, the place read, the zone
and the country (empty where the text names no place). Run it under two versions of the code
(``PYTHONPATH=<worktree>/src``) and ``diff`` the outputs to see what a change to
``unmask.persona.location`` moves; every claimed place feeds the persona and covertness checks.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

from unmask.persona import location


def real_locations(shared: Path) -> Counter:
    """Profile locations of the twarc2 sample (its users) and the archive sample (its tweets)."""
    locs: Counter = Counter()
    with open(shared / "twarc_v2/tweets.jsonl", encoding="utf-8") as f:
        for line in f:
            for user in json.loads(line).get("includes", {}).get("users", []):
                if user.get("location"):
                    locs[user["location"]] += 1
    csv.field_size_limit(sys.maxsize)
    with open(shared / "io_archive_sample/ira_sample_31col.csv", newline="", encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            if row.get("user_reported_location"):
                locs[row["user_reported_location"]] += 1
    return locs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared/data")
    args = ap.parse_args()
    locs = real_locations(Path(args.shared))
    for text, n in sorted(locs.items(), key=lambda kv: (-kv[1], kv[0])):
        r = location.resolve(text) or {}
        cells = [str(n), text, r.get("place") or "", r.get("zone") or "", r.get("country") or ""]
        print("\t".join(c.replace("\t", " ").replace("\n", " ") for c in cells))


if __name__ == "__main__":
    main()
