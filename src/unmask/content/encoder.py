"""The transformer technique model at run time: a MiniLM-L6 encoder fine-tuned on PTC train
(:mod:`unmask.content.finetune`), exported to ONNX, int8, run with onnxruntime; its WordPiece tokenizer is plain Python.

The package carries ``unmask/data/transformer/``: ``encoder.onnx`` (the encoder and the SI head),
``heads.npz`` (the TC head, the SI threshold, the TC temperature and the stack weight) and
``tokenizer.json``. Windows are cut here, the same way at training and at run time.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np

MAX_LEN = 128
CLS, SEP = 101, 102
_ENDS = {".", "!", "?"}


def windows(text: str, tok, max_len: int = MAX_LEN) -> list[dict]:
    """``text`` cut into windows of at most ``max_len`` word pieces (with [CLS] and [SEP]), each
    ending at a sentence end or a line break where one lies in its second half. Each window has
    ``ids`` and the character ``offsets`` of its pieces (without the two special tokens)."""
    enc = tok.encode(text, add_special_tokens=False)
    ids, offs = enc.ids, enc.offsets
    room = max_len - 2
    out, i, n = [], 0, len(ids)
    while i < n:
        j = min(n, i + room)
        if j < n:
            for k in range(j - 1, i + room // 2, -1):
                if text[offs[k][0]:offs[k][1]] in _ENDS or "\n" in text[offs[k][1]:offs[k + 1][0]]:
                    j = k + 1
                    break
        out.append({"ids": [CLS, *ids[i:j], SEP], "offsets": [tuple(o) for o in offs[i:j]]})
        i = j
    return out


def span_tokens(wins: list[dict], s: int, e: int):
    """(window, first piece, last piece) of the characters ``[s, e)``: the window holding most of
    its pieces; None when no piece overlaps the span."""
    best = None
    for w, win in enumerate(wins):
        hit = [i for i, (a, b) in enumerate(win["offsets"]) if b > s and a < e]
        if hit and (best is None or len(hit) > best[0]):
            best = (len(hit), w, hit[0], hit[-1])
    return None if best is None else best[1:]


def tokenizer(path):
    """The model's WordPiece tokenizer (:mod:`unmask.content.wordpiece`) from its ``tokenizer.json``."""
    from unmask.content.wordpiece import WordPiece

    return WordPiece(path)


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


class Encoder:
    """The ONNX encoder, its heads and its tokenizer, from a folder (default: the shipped one)."""

    def __init__(self, folder=None, threads: int | None = None):
        import onnxruntime as ort

        root = resources.files("unmask.data").joinpath("transformer") if folder is None else folder
        with resources.as_file(root) as path:
            opts = ort.SessionOptions()
            if threads:
                opts.intra_op_num_threads = threads
            self.session = ort.InferenceSession(str(path / "encoder.onnx"), opts, providers=["CPUExecutionProvider"])
            self.tok = tokenizer(path / "tokenizer.json")
            with np.load(path / "heads.npz", allow_pickle=False) as z:
                self.heads = {k: z[k] for k in z.files}
        self.info = json.loads(str(self.heads.get("info", "{}")))

    def run(self, wins: list[dict], batch: int = 32):
        """Hidden states and SI probabilities (inside a span) of each window's pieces."""
        hidden, prob = [None] * len(wins), [None] * len(wins)
        order = sorted(range(len(wins)), key=lambda i: len(wins[i]["ids"]))  # little padding
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            n = max(len(wins[i]["ids"]) for i in idx)
            ids = np.zeros((len(idx), n), np.int64)
            mask = np.zeros((len(idx), n), np.int64)
            for r, i in enumerate(idx):
                m = len(wins[i]["ids"])
                ids[r, :m] = wins[i]["ids"]
                mask[r, :m] = 1
            h, logits = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            p = _softmax(logits)[..., 1]
            for r, i in enumerate(idx):
                m = len(wins[i]["ids"])
                hidden[i], prob[i] = h[r, 1:m - 1], p[r, 1:m - 1]
        return hidden, prob

    def encode(self, text: str):
        wins = windows(text, self.tok)
        hidden, prob = self.run(wins)
        return wins, hidden, prob

    def spans(self, text: str, encoded=None, threshold: float | None = None,
              seed: float | None = None) -> list[tuple[int, int, float]]:
        """SI spans ``(start, end, mean probability)`` by hysteresis: runs of pieces at or above
        ``threshold`` (joined across gaps of one piece) that reach ``seed`` somewhere, widened to
        whole words. Both come from the shipped heads, chosen on held-back training articles; a
        model with no seed threshold uses one threshold for both."""
        wins, _, prob = encoded if encoded is not None else self.encode(text)
        th = self.si_threshold if threshold is None else threshold
        seed = max(th, self.si_seed if seed is None else seed)
        offs = [o for w in wins for o in w["offsets"]]
        p = np.concatenate(prob) if prob else np.zeros(0)
        on = p >= th
        if on.size > 2:  # a gap of one piece between two runs is joined
            on[1:-1] |= on[:-2] & on[2:]
        out, i = [], 0
        while i < len(on):
            if not on[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(on) and on[j + 1]:
                j += 1
            start, seg, i = i, p[i:j + 1], j + 1
            if seg.max() < seed:
                continue
            s, e = _word(text, offs[start][0], offs[j][1])
            if out and s <= out[-1][1]:
                out[-1] = (out[-1][0], max(e, out[-1][1]), max(out[-1][2], float(seg.mean())))
            else:
                out.append((s, e, float(seg.mean())))
        return out

    @property
    def si_threshold(self) -> float:
        """The probability at which a piece belongs to a span (the low threshold)."""
        return float(self.heads["si_threshold"])

    @property
    def si_seed(self) -> float:
        """The probability that some piece of a span must reach (the high threshold)."""
        return float(self.heads["si_seed"]) if "si_seed" in self.heads else self.si_threshold

    def sentence_scores(self, sents, encoded) -> np.ndarray:
        """Each sentence's highest piece probability (the chance it holds a propaganda span)."""
        wins, _, prob = encoded
        starts = np.array([a for w in wins for a, _ in w["offsets"]], np.int64)
        p = np.concatenate(prob) if prob else np.zeros(0)
        out = np.zeros(len(sents))
        for i, (a, b) in enumerate(sents):
            lo, hi = np.searchsorted(starts, a), np.searchsorted(starts, b)
            out[i] = p[lo:hi].max() if hi > lo else 0.0
        return out

    def stack(self, z_transformer: np.ndarray, z_linear: np.ndarray) -> np.ndarray:
        """TC logits of the stack: the transformer's log-probabilities plus the linear model's at
        the weight chosen on held-back training articles, over the fitted temperature."""
        w, t = float(self.heads["stack_weight"]), float(self.heads["tc_temperature"])
        return (_log_softmax(z_transformer) + w * _log_softmax(z_linear)) / t

    def tc_logits(self, text: str, spans: list[tuple[int, int]], encoded=None) -> np.ndarray:
        """TC logits (before temperature) of each span, from the mean and max of its pieces' states."""
        wins, hidden, _ = encoded if encoded is not None else self.encode(text)
        feats = np.zeros((len(spans), self.heads["tc_w"].shape[1]), np.float32)
        for r, (s, e) in enumerate(spans):
            hit = span_tokens(wins, s, e)
            if hit is None:
                continue
            seg = hidden[hit[0]][hit[1]:hit[2] + 1]
            feats[r] = np.concatenate([seg.mean(0), seg.max(0)])
        return feats @ self.heads["tc_w"].T + self.heads["tc_b"]


def _word(text: str, s: int, e: int) -> tuple[int, int]:
    while s > 0 and text[s - 1].isalnum():
        s -= 1
    while e < len(text) and text[e].isalnum():
        e += 1
    return s, e


@lru_cache(maxsize=1)
def shipped() -> Encoder | None:
    """The shipped encoder, or None where the package carries none or onnxruntime is missing."""
    try:
        if not resources.files("unmask.data").joinpath("transformer").joinpath("encoder.onnx").is_file():
            return None
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    return Encoder()
