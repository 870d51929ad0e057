"""The SemEval-2020 Task 11 formats and scores: SI spans and TC techniques over character offsets."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from unmask.errors import InputError

TECHNIQUES = (
    "Appeal_to_Authority", "Appeal_to_fear-prejudice", "Bandwagon,Reductio_ad_hitlerum", "Black-and-White_Fallacy",
    "Causal_Oversimplification", "Doubt", "Exaggeration,Minimisation", "Flag-Waving", "Loaded_Language",
    "Name_Calling,Labeling", "Repetition", "Slogans", "Thought-terminating_Cliches",
    "Whataboutism,Straw_Men,Red_Herring",
)
_ARTICLE = re.compile(r"article(\d+)\.txt$")


def read_articles(folder) -> dict[str, str]:
    """``{article_id: text}`` for every ``article<ID>.txt`` in ``folder`` (as the task ships them)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder of articles", file=str(folder))
    out = {}
    for p in sorted(folder.iterdir()):
        m = _ARTICLE.search(p.name)
        if m:
            out[m.group(1)] = p.read_text(encoding="utf-8")
    if not out:
        raise InputError("no article<ID>.txt files here", file=str(folder))
    return out


def read_labels(path, task: str) -> list[tuple]:
    """SI rows ``(article, start, end)`` or TC rows ``(article, technique, start, end)``; a TC template may
    carry '?' as technique."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            parts = line.rstrip("\n").split("\t")
            if not line.strip():
                continue
            try:
                if task == "si":
                    rows.append((parts[0], int(parts[1]), int(parts[2])))
                else:
                    rows.append((parts[0], parts[1], int(parts[2]), int(parts[3])))
            except (IndexError, ValueError) as exc:
                raise InputError(f"not a {task.upper()} label line: {line.strip()[:80]!r}", file=str(path), row=n) from exc
    return rows


def write_labels(rows, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("\t".join(str(x) for x in r) + "\n" for r in rows), encoding="utf-8")
    return path


def _merge(spans):
    out = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [tuple(x) for x in out]


def si_scores(pred: list[tuple], gold: list[tuple]) -> dict:
    """The task's span score: precision and recall with partial credit for character overlap
    (overlapping spans of one article are merged first)."""
    p_by, g_by = defaultdict(list), defaultdict(list)
    for a, s, e in pred:
        p_by[a].append((s, e))
    for a, s, e in gold:
        g_by[a].append((s, e))
    p_sum = r_sum = 0.0
    n_p = n_g = 0
    for a in set(p_by) | set(g_by):
        ps, gs = _merge(p_by[a]), _merge(g_by[a])
        n_p += len(ps)
        n_g += len(gs)
        for s, e in ps:
            p_sum += sum(max(0, min(e, ge) - max(s, gs_)) for gs_, ge in gs) / max(e - s, 1)
        for gs_, ge in gs:
            r_sum += sum(max(0, min(e, ge) - max(s, gs_)) for s, e in ps) / max(ge - gs_, 1)
    precision = p_sum / n_p if n_p else 0.0
    recall = r_sum / n_g if n_g else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted": n_p, "gold": n_g}


def tc_scores(pred: list[tuple], gold: list[tuple]) -> dict:
    """Micro-F1 over spans: a prediction is right when its span carries that technique in the gold."""
    g = defaultdict(Counter)
    p = defaultdict(Counter)
    for a, t, s, e in gold:
        g[(a, s, e)][t] += 1
    for a, t, s, e in pred:
        p[(a, s, e)][t] += 1
    correct = sum(sum((p[k] & g[k]).values()) for k in p)
    n_p, n_g = sum(sum(c.values()) for c in p.values()), sum(sum(c.values()) for c in g.values())
    precision = correct / n_p if n_p else 0.0
    recall = correct / n_g if n_g else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per = {}
    for t in TECHNIQUES:
        tp = sum(min(p[k][t], g[k][t]) for k in p)
        pt, gt = sum(c[t] for c in p.values()), sum(c[t] for c in g.values())
        per[t] = 2 * tp / (pt + gt) if pt + gt else 0.0
    return {"micro_f1": f1, "precision": precision, "recall": recall, "per_technique_f1": per}
