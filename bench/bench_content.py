"""Technique model throughput and quality, and --content on a large case.

    python bench/bench_content.py --ptc ../shared/data/ptc --articles 1000 --posts 1000000 --out /tmp/bench-content

(``--posts 0`` skips step 3.) Also: the reliability of the TC confidences on the dev gold spans.

1. PTC dev scores: `unmask text predict` + `unmask text evaluate` (TC micro-F1 on the gold spans,
   SI F1 with partial credit), as whole processes.
2. Throughput: `unmask text analyze` over N news articles (the PTC articles, repeated to N) as a
   whole process on this machine's cores, with its peak RSS.
3. `--content` on a simulated case of P posts (technique_share 0.3): the content step's time and peak
   RSS in a process of its own, after ingest and detect.
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path


WRAP = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "sys.stderr.write('\\nRSS_KB %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "sys.exit(r.returncode)")


def timed(cmd):
    """Run ``cmd``; its stdout, wall seconds and its own peak RSS in MB (measured by a wrapper
    process whose only child is ``cmd``)."""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", WRAP, *cmd], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(f"{cmd[:4]} failed: {r.stderr[-2000:]}")
    rss_kb = int(r.stderr.rsplit("RSS_KB", 1)[1].split()[0])
    return r.stdout, seconds, rss_kb / 1024


def reliability(ptc: Path, bins=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)) -> list[dict]:
    """TC confidences on the PTC dev gold spans against how often they are right (a span's
    prediction is right when the gold gives that span that technique)."""
    from unmask.content import model
    from unmask.content.semeval import read_articles, read_labels

    arts = read_articles(ptc / "dev-articles")
    gold = {}
    for a, t, s, e in read_labels(ptc / "dev-task-TC.labels", "tc"):
        gold.setdefault((a, s, e), set()).add(t)
    by = {}
    for a, s, e in gold:
        by.setdefault(a, []).append((s, e))
    conf, right = [], []
    for a in sorted(by):
        spans = sorted(by[a])
        for (s, e), (t, c) in zip(spans, model.classify(arts[a], spans)):
            conf.append(c)
            right.append(t in gold[(a, s, e)])
    rows = []
    for lo, hi in zip(bins, bins[1:]):
        idx = [i for i, c in enumerate(conf) if lo <= c < hi]
        if idx:
            rows.append({"confidence": f"{lo:.1f}-{min(hi, 1):.1f}", "spans": len(idx),
                         "mean_confidence": round(sum(conf[i] for i in idx) / len(idx), 3),
                         "accuracy": round(sum(right[i] for i in idx) / len(idx), 3)})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ptc", default="../shared/data/ptc")
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--out", default="/tmp/bench-content")
    args = ap.parse_args()
    ptc, out = Path(args.ptc), Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    exe = [sys.executable, "-m", "unmask"]
    res = {}
    timed(exe + ["text", "predict", "--task", "tc", "--articles", str(ptc / "dev-articles"), "--template",
                 str(ptc / "dev-task-TC.labels"), "--out", str(out / "tc.pred")])
    tc = json.loads(timed(exe + ["text", "evaluate", "--task", "tc", "--pred", str(out / "tc.pred"), "--gold",
                                 str(ptc / "dev-task-TC.labels")])[0])
    timed(exe + ["text", "predict", "--task", "si", "--articles", str(ptc / "dev-articles"), "--out",
                 str(out / "si.pred")])
    si = json.loads(timed(exe + ["text", "evaluate", "--task", "si", "--pred", str(out / "si.pred"), "--gold",
                                 str(ptc / "dev-task-SI.labels")])[0])
    res["ptc_dev"] = {"tc_micro_f1": round(tc["micro_f1"], 4), "si_f1": round(si["f1"], 4),
                      "si_precision": round(si["precision"], 4), "si_recall": round(si["recall"], 4)}
    res["tc_reliability"] = reliability(ptc)
    timed(exe + ["text", "predict", "--task", "si", "--fast", "--articles", str(ptc / "dev-articles"), "--out",
                 str(out / "si-fast.pred")])
    res["ptc_dev"]["si_f1_fast"] = round(json.loads(timed(
        exe + ["text", "evaluate", "--task", "si", "--pred", str(out / "si-fast.pred"), "--gold",
               str(ptc / "dev-task-SI.labels")])[0])["f1"], 4)
    src = sorted((ptc / "train-articles").glob("*.txt")) + sorted((ptc / "dev-articles").glob("*.txt"))
    docs = out / "articles"
    docs.mkdir()
    for i in range(args.articles):
        shutil.copy(src[i % len(src)], docs / f"a{i:05d}.txt")
    for mode, extra in (("fast", ["--fast"]), ("default", [])):
        _, sec, rss = timed(exe + ["text", "analyze", str(docs), "--out", str(out / f"analyze-{mode}.json"), *extra])
        res[f"throughput_{mode}"] = {"articles": args.articles, "seconds": round(sec, 2),
                                     "articles_per_minute": round(args.articles / sec * 60), "peak_rss_mb": round(rss)}
    timed(exe + ["text", "predict", "--task", "tc", "--fast", "--articles", str(ptc / "dev-articles"), "--template",
                 str(ptc / "dev-task-TC.labels"), "--out", str(out / "tc-fast.pred")])
    res["ptc_dev"]["tc_micro_f1_fast"] = round(json.loads(timed(
        exe + ["text", "evaluate", "--task", "tc", "--pred", str(out / "tc-fast.pred"), "--gold",
               str(ptc / "dev-task-TC.labels")])[0])["micro_f1"], 4)
    if args.posts:
        data = out / "sim"
        subprocess.run(exe + ["simulate", "--posts", str(args.posts), "--seed", "11", "--set", "technique_share=0.3",
                              "--out", str(data)], check=True, capture_output=True)
        case = out / "case.duckdb"
        subprocess.run(exe + ["ingest", str(data / "tweets.csv"), str(data / "users.csv"), "--case", str(case),
                              "--quiet"], check=True, capture_output=True)
        subprocess.run(exe + ["detect", "--case", str(case), "--quiet"], check=True, capture_output=True)
        code = ("import json,time,sys; from unmask.store import Case; from unmask import api; c=Case(sys.argv[1]); "
                "t=time.perf_counter(); i=api.content(c); i['seconds']=round(time.perf_counter()-t,1); print(json.dumps(i))")
        stdout, sec, rss = timed([sys.executable, "-c", code, str(case)])
        res["content_step"] = {"posts": args.posts, **json.loads(stdout), "process_seconds": round(sec, 1),
                               "peak_rss_mb": round(rss)}
    (out / "bench.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
