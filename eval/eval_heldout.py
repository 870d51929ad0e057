"""Held-out detection quality: simulated worlds on seeds and knobs nobody tuned on.

    python eval/eval_heldout.py --posts 300000 --seeds 101 102 103 --out /tmp/heldout
    python eval/eval_heldout.py --posts 1000000 --seeds 201 --worlds default --out /tmp/heldout-1m

Each world is simulated, run through the whole pipeline (``unmask.api.run``) and scored against
its labels: account precision, recall and organic false-positive rate, flagged groups and the
per-group precision, and network/cell agreement with the planted operations. Every figure is
printed, the misses too.
"""

import argparse
import json
import time
from pathlib import Path

from unmask import api
from unmask.evaluate import evaluate
from unmask.simulate import SimConfig, simulate
from unmask.simulate.writers import write
from unmask.store import Case

WORLDS = {
    "default": {},
    # several times more viral cascades, bigger hard negatives
    "hard_negatives": {"viral_cascades": 48, "hashtag_bursts": 24, "share_buttons": 30, "negative_strength": 2.0},
    # many small, stealthy operations
    "stealthy": {"operations": 20, "op_min_size": 5, "op_max_size": 12, "op_share": 0.05, "filler_share": 0.6},
    # no operation at all, many cascades: nobody may be flagged
    "no_operation": {"operations": 0, "op_share": 0.0, "viral_cascades": 48, "hashtag_bursts": 24,
                     "share_buttons": 30},
    # pure chance with real audiences: popular accounts and their regulars, viral cascades, reply
    # storms, scheduled bots and travellers, and nothing organised (no operation, no hashtag
    # campaign, no share-button wave): nobody may be flagged and every p-value must be uniform
    "pure_chance": {"operations": 0, "op_share": 0.0, "hashtag_bursts": 0, "share_buttons": 0},
    # bigger audiences: twice the regulars, who retweet more often and sooner
    "big_audiences": {"operations": 0, "op_share": 0.0, "hashtag_bursts": 0, "share_buttons": 0,
                      "fan_bases": 16, "fan_base_size": 0.15, "fan_retweet_prob": 0.3, "fan_delay_s": 30,
                      "fan_share": 0.3},
}


def one(out: Path, cfg: SimConfig):
    t0 = time.perf_counter()
    files, labels = write(simulate(cfg), out / "data")
    res = api.run(files, out, seed=cfg.seed, report=False, overwrite=True)
    with Case(out / "case.duckdb", read_only=True) as case:
        ev = evaluate(case, labels)
        ev10 = evaluate(case, labels, min_posts=10)
    keep = ("precision", "recall", "organic_fpr", "flagged", "n_operation_accounts", "n_accounts",
            "flagged_groups", "weak_groups", "group_precision", "network", "cell", "per_operation")
    return {k: ev[k] for k in keep if k in ev} | {"recall_min10": ev10["recall"], "precision_min10": ev10["precision"],
                                                  "seconds": round(time.perf_counter() - t0, 1),
                                                  "pipeline_seconds": res["seconds"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=300_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103])
    ap.add_argument("--worlds", nargs="+", default=list(WORLDS), choices=list(WORLDS))
    ap.add_argument("--out", default="/tmp/heldout")
    args = ap.parse_args()
    out = Path(args.out)
    report = {}
    for world in args.worlds:
        for seed in args.seeds:
            cfg = SimConfig(posts=args.posts, seed=seed, **WORLDS[world])
            r = one(out / f"{world}-{seed}", cfg)
            report[f"{world}/{seed}"] = r
            print(json.dumps({f"{world}/{seed}": r}, default=str), flush=True)
    (out / "heldout.json").write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
