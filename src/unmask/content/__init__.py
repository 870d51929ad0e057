"""Propaganda techniques in articles, transcripts and posts (the 14 techniques of SemEval-2020
Task 11), offline on a CPU, and per operation.

    from unmask.content import analyze
    analyze("Wake up, patriots! The corrupt elites are destroying our nation.")

:mod:`unmask.content.model` holds the shipped model, :mod:`unmask.content.semeval` the task's
formats and scores, :mod:`unmask.content.profiles` the technique profiles of a case's networks,
cells and accounts against its organic accounts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from unmask.content import features as F
from unmask.content import model
from unmask.content.semeval import TECHNIQUES
from unmask.errors import InputError

_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_EN = {"the", "and", "of", "to", "is", "in", "a", "that", "for", "it", "on", "are", "with", "this", "be", "you",
       "they", "we", "not", "have", "was", "our", "will", "their", "by", "at", "as", "from", "all", "but"}


def trained_for(text: str, lang: str | None = None) -> bool:
    """Whether the model was trained on this text's language (English). A declared language wins;
    otherwise the text must be Latin-script with common English words. Other languages are never
    guessed at: their texts are reported as not analysed."""
    if lang:
        return lang.lower().split("-")[0] == "en"
    letters = _LETTER.findall(text)
    if not letters:
        return False
    if sum(bool(_LATIN.match(c)) for c in letters) / len(letters) < 0.9:
        return False
    toks = F.tokens(text)
    return len(toks) < 6 or sum(t in _EN for t in toks) / len(toks) >= 0.12


def model_name(fast: bool = False) -> str:
    if not fast and model.transformer() is not None:
        return ("MiniLM-L6 transformer (int8 ONNX) stacked with hashed n-grams + cues"
                + (" + USE span embeddings" if model.uses_embeddings() else ""))
    return "hashed n-grams + cues" + ("" if fast or not model.uses_embeddings() else " + USE span embeddings")


def _spans_and_sentences(text: str, fast: bool):
    """Spans, sentences with their scores, the sentence threshold, and the transformer's pass (or
    None): the transformer's where the package has one and ``fast`` is off, else the linear model's."""
    tr = None if fast else model.transformer()
    if tr is None:
        sents, scores = model.scored_sentences(text)  # once, for the spans and the sentence flags
        return model.find_spans(text, (sents, scores)), sents, scores, model._coefs()["si_threshold"], None
    encoded = tr.encode(text)
    spans = [{"start": s, "end": e, "sentence_score": p} for s, e, p in tr.spans(text, encoded)]
    sents = F.sentences(text)
    return spans, sents, tr.sentence_scores(sents, encoded), tr.si_seed, encoded  # a sentence holds a span's peak


def analyze(text: str, doc_id: str | None = None, lang: str | None = None, fast: bool = False) -> dict:
    """Spans (start, end, technique, confidence), flagged sentences, technique counts and density
    (techniques per 1,000 characters) of one document. ``fast`` skips the span embeddings."""
    text = text or ""
    out = {"id": doc_id, "chars": len(text), "language_trained": trained_for(text, lang),
           "model": model_name(fast)}
    if not out["language_trained"]:
        out.update(spans=[], sentences=[], counts={}, density=0.0,
                   note="not analysed: the model was trained on English news only")
        return out
    spans, sents, scores, threshold, encoded = _spans_and_sentences(text, fast)
    labels = model.classify(text, [(s["start"], s["end"]) for s in spans], embeddings=not fast, encoded=encoded)
    out["spans"] = [{"start": s["start"], "end": s["end"], "technique": t, "confidence": round(c, 4),
                     "text": text[s["start"]:s["end"]]} for s, (t, c) in zip(spans, labels)]
    out["sentences"] = [{"start": a, "end": b, "propaganda": bool(p >= threshold), "score": round(float(p), 4)}
                        for (a, b), p in zip(sents, scores)]
    out["counts"] = dict(sorted(Counter(s["technique"] for s in out["spans"]).items()))
    out["density"] = round(1000.0 * len(out["spans"]) / max(len(text), 1), 3)
    return out


def read_documents(paths) -> list[tuple[str, str]]:
    """(id, text) from .txt files (id: the file name), JSON Lines of {id, text}, or folders of them."""
    docs = []
    for p in map(Path, paths):
        if not p.exists():
            raise InputError("no such file", file=str(p))
        files = sorted(x for x in p.rglob("*") if x.suffix.lower() in (".txt", ".jsonl")) if p.is_dir() else [p]
        for f in files:
            if f.suffix.lower() == ".jsonl":
                for n, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                        docs.append((str(obj.get("id", f"{f.name}:{n}")), str(obj["text"])))
                    except (ValueError, KeyError, TypeError, AttributeError) as exc:
                        raise InputError(f"not a JSON object with a text field: {exc}", file=str(f), row=n) from exc
            else:
                docs.append((f.stem, f.read_text(encoding="utf-8", errors="replace")))
    return docs


def analyze_paths(paths, fast: bool = False) -> list[dict]:
    return [analyze(text, doc_id, fast=fast) for doc_id, text in read_documents(paths)]


def predict(task: str, articles: dict[str, str], template: list[tuple] | None = None,
            fast: bool = False) -> list[tuple]:
    """SemEval rows: SI ``(article, start, end)``; TC ``(article, technique, start, end)`` for the
    spans of ``template`` (or for the model's own spans when no template is given)."""
    rows = []
    if task == "si":
        for a, text in sorted(articles.items()):
            rows += [(a, s["start"], s["end"]) for s in _spans_and_sentences(text, fast)[0]]
        return rows
    spans = {}
    if template is not None:
        for a, _, s, e in template:
            spans.setdefault(a, []).append((s, e))
    else:
        for a, text in articles.items():
            spans[a] = [(s["start"], s["end"]) for s in _spans_and_sentences(text, fast)[0]]
    for a in sorted(spans):
        if a not in articles:
            raise InputError(f"the template names article {a}, which is not among the articles")
        distinct = list(dict.fromkeys(spans[a]))
        if not distinct:
            continue
        order = np.argsort(-model.technique_logits(articles[a], distinct, embeddings=not fast), axis=1, kind="stable")
        row_of, seen = {sp: i for i, sp in enumerate(distinct)}, Counter()
        for s, e in spans[a]:  # a span listed n times (n techniques in the gold) gets the n best
            n = seen[(s, e)]
            seen[(s, e)] += 1
            rows.append((a, TECHNIQUES[order[row_of[(s, e)], min(n, len(TECHNIQUES) - 1)]], s, e))
    return rows


__all__ = ["analyze", "analyze_paths", "predict", "read_documents", "trained_for", "TECHNIQUES"]
