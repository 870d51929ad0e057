"""Score a case against labels: precision, recall, organic false positives, AUC, ARI and NMI."""

from __future__ import annotations

import csv
import math
from collections import Counter

import numpy as np

from unmask.errors import InputError


def read_labels(path) -> dict:
    return {a: r["label"] for a, r in read_label_rows(path).items()}


def read_label_rows(path) -> dict:
    """Every labels row by account: ``label`` and, where the file has them, ``role`` and ``group``."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"account_id", "label"} <= set(reader.fieldnames):
            raise InputError("labels need columns account_id,label", file=str(path), row=0)
        return {r["account_id"]: r for r in reader}


def open_campaigns(rows, label_rows) -> dict:
    """Accounts labelled ``open_campaign`` (organic communities coordinating in the open): how many
    were flagged (false positives), how many were reported as coordinated but not flagged (listed
    as open), and the same per campaign."""
    camp = [r for r in rows if label_rows[r["account_id"]].get("role") == "open_campaign"]
    if not camp:
        return {"accounts": 0}

    def counts(rs):
        flagged = sum(1 for r in rs if r["flagged"])
        open_ = sum(1 for r in rs if r["status"] == "open")
        return {"accounts": len(rs), "flagged": flagged, "coordinated_not_flagged": open_,
                "flagged_share": flagged / len(rs), "reported_coordinated_share": (flagged + open_) / len(rs)}
    by = {}
    for r in camp:
        by.setdefault(label_rows[r["account_id"]].get("group") or "(unnamed)", []).append(r)
    return counts(camp) | {"per_campaign": {g: counts(rs) for g, rs in sorted(by.items())}}


def auc(scores, positive) -> float:
    """Area under the ROC curve by ranks (ties share their rank)."""
    from scipy.stats import rankdata

    s, y = np.asarray(scores, float), np.asarray(positive, bool)
    n1, n0 = y.sum(), (~y).sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _finite(x):
    """NaN (undefined, e.g. the AUC of a world without operations) as None, which JSON writes as null."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def _comb2(x):
    return x * (x - 1) / 2.0


def ari_nmi(a, b) -> tuple[float, float]:
    """Adjusted Rand index and normalised mutual information of two labelings."""
    n = len(a)
    cont = Counter(zip(a, b))
    ca, cb = Counter(a), Counter(b)
    sum_ij = sum(_comb2(v) for v in cont.values())
    sa, sb = sum(_comb2(v) for v in ca.values()), sum(_comb2(v) for v in cb.values())
    expected = sa * sb / _comb2(n) if n > 1 else 0.0
    maxi = (sa + sb) / 2
    ari = (sum_ij - expected) / (maxi - expected) if maxi != expected else 1.0
    mi, ha, hb = _information(cont, ca, cb, n)
    nmi = mi / math.sqrt(ha * hb) if ha > 0 and hb > 0 else (1.0 if ha == hb else 0.0)
    return float(ari), float(nmi)


def _information(cont: Counter, ca: Counter, cb: Counter, n: int) -> tuple[float, float, float]:
    """Mutual information of two labelings (``cont`` their joint counts) and the entropy of each."""
    mi = sum(v / n * math.log(v * n / (ca[i] * cb[j])) for (i, j), v in cont.items())
    ha = -sum(v / n * math.log(v / n) for v in ca.values())
    hb = -sum(v / n * math.log(v / n) for v in cb.values())
    return mi, ha, hb


def agreement(truth, pred) -> dict:
    """Homogeneity (each predicted group holds one true class), completeness (each class sits in one
    group) and their harmonic mean, NMI with the arithmetic normalisation (the V-measure)."""
    n = len(truth)
    if n == 0:
        return {"homogeneity": None, "completeness": None, "nmi": None, "accounts": 0}
    cont = Counter(zip(truth, pred))
    ct, cp = Counter(truth), Counter(pred)
    mi, ht, hp = _information(cont, ct, cp, n)
    hom = mi / ht if ht > 0 else 1.0
    com = mi / hp if hp > 0 else 1.0
    nmi = 2 * hom * com / (hom + com) if hom + com > 0 else 0.0
    return {"homogeneity": float(hom), "completeness": float(com), "nmi": float(nmi), "accounts": n}


def _having(truth, pred) -> tuple:
    """The pairs whose prediction is not None."""
    keep = [i for i, p in enumerate(pred) if p is not None]
    return [truth[i] for i in keep], [pred[i] for i in keep]


def group_precision(rows, labels) -> list:
    """Per flagged network: its size, its majority label and the share of non-organic accounts."""
    by = {}
    for r in rows:
        if r["flagged"]:
            by.setdefault(r["cluster"], []).append(labels[r["account_id"]])
    out = []
    for cid in sorted(by):
        labs = Counter(by[cid])
        top, top_n = min(labs.items(), key=lambda x: (-x[1], x[0]))
        out.append({"cluster": cid, "size": len(by[cid]), "majority": top, "majority_share": top_n / len(by[cid]),
                    "precision": sum(v for k, v in labs.items() if k != "organic") / len(by[cid])})
    return out


def _flagged_or_labelled_agreement(rows, labels) -> tuple[float, float]:
    """ARI and NMI over the accounts that are flagged or labelled as an operation's: the truth is
    the operation (or ``organic``), the prediction the flagged network (or ``unflagged``). Unflagged
    organic accounts, which every run leaves alone, are not counted as singletons on both sides
    (that gave NMI 0.96 to a run that flagged nobody); flagging nobody now scores 0."""
    keep = [r for r in rows if r["flagged"] or labels[r["account_id"]] != "organic"]
    if not keep:
        return 0.0, 0.0
    truth = [labels[r["account_id"]] for r in keep]
    pred = [f"c{r['cluster']}" if r["flagged"] else "unflagged" for r in keep]
    return ari_nmi(truth, pred)


def evaluate(case, labels_path, min_posts: int = 0) -> dict:
    """Metrics for accounts in both the case and the labels (with at least ``min_posts`` posts)."""
    label_rows = read_label_rows(labels_path)
    labels = {a: r["label"] for a, r in label_rows.items()}
    rows = case.engine.query("""
        SELECT a.account_id, coalesce(s.score, 0) AS score, coalesce(s.flagged, false) AS flagged, s.cluster,
               c.cell, c.status, c.persona_type,
               (SELECT count(*) FROM posts p WHERE p.account_id = a.account_id) AS n_posts
        FROM accounts a LEFT JOIN account_scores s USING (account_id) LEFT JOIN clusters c USING (account_id)
        ORDER BY a.account_id""").to_pylist()
    rows = [r for r in rows if r["account_id"] in labels and r["n_posts"] >= min_posts]
    if not rows:
        raise InputError("no labelled account is in the case", file=str(labels_path))
    y = np.array([labels[r["account_id"]] != "organic" for r in rows])
    flag = np.array([bool(r["flagged"]) for r in rows])
    tp, fp = int((y & flag).sum()), int((~y & flag).sum())
    fn = int((y & ~flag).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ari, nmi = _flagged_or_labelled_agreement(rows, labels)
    per_op = {}
    for op in sorted({labels[r["account_id"]] for r in rows} - {"organic"}):
        m = np.array([labels[r["account_id"]] == op for r in rows])
        per_op[op] = float((m & flag).sum() / m.sum())
    flagged_rows = [r for r in rows if r["flagged"]]
    truth_f = [labels[r["account_id"]] for r in flagged_rows]
    groups = group_precision(rows, labels)
    return {
        "network": agreement(truth_f, [r["cluster"] for r in flagged_rows]),
        # cells and types over the accounts that have them (an account registered with a network has neither)
        "cell": agreement(*_having(truth_f, [r["cell"] for r in flagged_rows])),
        "persona_type": agreement(*_having(truth_f, [r["persona_type"] for r in flagged_rows])),
        "flagged_groups": len(groups), "group_precision": groups,
        "weak_groups": len({r["cluster"] for r in rows if r["status"] == "weak"}),
        "audience_groups": len({r["cluster"] for r in rows if r["status"] == "audience"}),
        "open_groups": len({r["cluster"] for r in rows if r["status"] == "open"}),
        "open_campaigns": open_campaigns(rows, label_rows),
        "coverage": float(flag.mean()),
        "precision": precision, "recall": recall, "f1": f1,
        "organic_fpr": fp / max(1, int((~y).sum())), "auc": _finite(auc([r["score"] for r in rows], y)),
        "ari": ari, "nmi": nmi, "per_operation": per_op, "n_accounts": len(rows),
        "n_operation_accounts": int(y.sum()), "flagged": int(flag.sum()), "min_posts": min_posts,
    }
