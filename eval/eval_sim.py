"""Detection quality on simulator data, with the organic hard negatives on.

    python eval/eval_sim.py --posts 20000 --out /tmp/eval-sim

Reports precision, recall, organic false-positive rate (all operation accounts, and those with
at least 10 posts), and leave-one-style-out: worlds whose operations all use one style.
"""

import argparse
import json
from pathlib import Path

from unmask import api
from unmask.evaluate import evaluate
from unmask.simulate import STYLES, SimConfig, simulate
from unmask.simulate.writers import write
from unmask.store import Case


def one(out: Path, cfg: SimConfig):
    files, labels = write(simulate(cfg), out / "data")
    res = api.run(files, out, seed=cfg.seed, report=False, overwrite=True)
    with Case(out / "case.duckdb", read_only=True) as case:
        return {"all": evaluate(case, labels), "min10": evaluate(case, labels, min_posts=10),
                "seconds": res["seconds"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    ap.add_argument("--out", default="/tmp/eval-sim")
    args = ap.parse_args()
    out = Path(args.out)
    report = {"default": {}, "one_style": {}}
    for seed in args.seeds:
        report["default"][seed] = one(out / f"default-{seed}", SimConfig(posts=args.posts, seed=seed))
    for style in STYLES:
        cfg = SimConfig(posts=args.posts, seed=args.seeds[0], styles=[style], operations=3)
        report["one_style"][style] = one(out / f"style-{style}", cfg)
    summary = {
        "default": {s: {k: round(v["min10"][k], 3) for k in ("precision", "recall", "f1", "organic_fpr")}
                    | {"recall_all": round(v["all"]["recall"], 3), "fpr_all": round(v["all"]["organic_fpr"], 4)}
                    for s, v in report["default"].items()},
        "one_style_f1_min10": {s: round(v["min10"]["f1"], 3) for s, v in report["one_style"].items()},
        "one_style_f1_all": {s: round(v["all"]["f1"], 3) for s, v in report["one_style"].items()},
    }
    (out / "eval.json").write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
