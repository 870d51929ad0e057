"""The shipped transformer technique model: windows cut the same way at training and at run time,
spans found and classified on fixed texts, the stack with the linear model, and ``--fast``."""

import numpy as np
import pytest

from unmask.content import analyze, model, model_name, predict
from unmask.content import encoder as E
from unmask.content.semeval import TECHNIQUES

HOT = ("These corrupt globalist puppets and traitors are destroying our great nation! "
       "The vote is on Tuesday at the town hall.")


@pytest.fixture(scope="module")
def tr():
    enc = model.transformer()
    assert enc is not None, "the package must carry the transformer (unmask/data/transformer) and onnxruntime"
    return enc


def test_windows_cover_every_piece_once_and_cut_at_sentence_ends(tr):
    text = " ".join(f"Sentence number {i} says the committee met again on Tuesday." for i in range(60))
    wins = E.windows(text, tr.tok)
    whole = tr.tok.encode(text, add_special_tokens=False)
    assert len(wins) > 3
    assert [i for w in wins for i in w["ids"][1:-1]] == whole.ids
    assert all(w["ids"][0] == E.CLS and w["ids"][-1] == E.SEP and len(w["ids"]) <= E.MAX_LEN for w in wins)
    for w in wins[:-1]:  # each full window ends at a sentence end
        assert text[w["offsets"][-1][0]:w["offsets"][-1][1]] == "."
    starts = [a for w in wins for a, _ in w["offsets"]]
    assert starts == sorted(starts)


def test_span_tokens_picks_the_window_holding_most_of_the_span(tr):
    text = " ".join(f"Sentence number {i} says the committee met again on Tuesday." for i in range(40))
    wins = E.windows(text, tr.tok)
    cut = wins[1]["offsets"][0][0]  # a span from the last word of window 0 into window 1
    w, first, last = E.span_tokens(wins, cut - 8, cut + 30)
    assert w == 1 and first == 0 and wins[1]["offsets"][last][1] <= cut + 30 + 10
    assert E.span_tokens(wins, len(text) + 5, len(text) + 9) is None


def test_shipped_model_finds_and_labels_the_loaded_sentence(tr):
    res = analyze(HOT)
    assert "transformer" in res["model"] and "transformer" in model_name()
    hot_end = HOT.index("!") + 1
    inside = [s for s in res["spans"] if s["start"] < hot_end]
    assert inside, res["spans"]
    assert not [s for s in res["spans"] if s["start"] > hot_end + 5]  # the calm sentence has no span
    assert {s["technique"] for s in inside} <= {"Loaded_Language", "Name_Calling,Labeling", "Flag-Waving",
                                                "Appeal_to_fear-prejudice", "Exaggeration,Minimisation"}
    assert all(0 < s["confidence"] <= 1 and s["text"] == HOT[s["start"]:s["end"]] for s in res["spans"])
    flags = [s["propaganda"] for s in res["sentences"]]
    assert flags == [True, False]
    assert analyze(HOT) == res  # deterministic


def test_tc_stack_gives_a_probability_per_technique(tr):
    spans = [(14, 22), (0, HOT.index("!") + 1)]
    z = tr.tc_logits(HOT, spans)
    assert z.shape == (2, len(TECHNIQUES)) and np.isfinite(z).all()
    p = np.exp(tr.stack(z, np.zeros_like(z)))
    p /= p.sum(axis=1, keepdims=True)
    assert np.allclose(p.sum(axis=1), 1) and (p.max(axis=1) > 1 / len(TECHNIQUES)).all()
    rows = predict("tc", {"1": HOT}, [("1", "?", s, e) for s, e in spans])
    assert [r[2:] for r in rows] == spans and {r[1] for r in rows} <= set(TECHNIQUES)
    assert rows[0][1] in {"Loaded_Language", "Name_Calling,Labeling"}  # "globalist" alone


def test_spans_are_found_by_hysteresis(tr):
    text = "alpha beta gamma delta epsilon zeta eta"
    offs, at = [], 0
    for w in text.split():
        at = text.index(w, at)
        offs.append((at, at + len(w)))
        at += len(w)
    prob = np.array([0.2, 0.5, 0.2, 0.0, 0.0, 0.25, 0.25])  # two pieces apart
    encoded = ([{"offsets": offs}], None, [prob])
    # a run of pieces at or above the low threshold is kept only where one piece reaches the seed
    assert [(text[s:e], round(m, 3)) for s, e, m in tr.spans(text, encoded, 0.15, 0.4)] == [("alpha beta gamma", 0.3)]
    assert [text[s:e] for s, e, _ in tr.spans(text, encoded, 0.15, 0.15)] == ["alpha beta gamma", "zeta eta"]
    assert [text[s:e] for s, e, _ in tr.spans(text, encoded, 0.4, 0.1)] == ["beta"]  # the seed is at least the low one
    # the shipped model was calibrated with two thresholds, and flags a sentence at the seed
    assert 0 < tr.si_threshold < tr.si_seed < 1
    res = analyze(HOT)
    assert [s["propaganda"] for s in res["sentences"]] == [s["score"] >= tr.si_seed for s in res["sentences"]]


@pytest.mark.parametrize("fast", [False, True])
def test_a_span_listed_twice_gets_its_two_best_techniques(tr, fast):
    # the task lists a span once per gold technique; the same label twice could be right only once
    whole, word = (0, HOT.index("!") + 1), (14, 22)
    rows = predict("tc", {"1": HOT}, [("1", "?", *whole), ("1", "?", *word), ("1", "?", *whole)], fast=fast)
    assert [r[2:] for r in rows] == [whole, word, whole]
    z = model.technique_logits(HOT, [whole, word], embeddings=not fast)
    first, second = (TECHNIQUES[k] for k in np.argsort(-z[0])[:2])
    assert rows[0][1] == first == model.classify(HOT, [whole], embeddings=not fast)[0][0]
    assert rows[2][1] == second != first
    assert rows[1][1] == TECHNIQUES[int(np.argmax(z[1]))]


def test_fast_keeps_the_linear_model(tr):
    fast = analyze(HOT, fast=True)
    assert "transformer" not in fast["model"] and fast["model"].startswith("hashed n-grams")
    assert predict("si", {"1": HOT}, fast=True) == [("1", s["start"], s["end"]) for s in fast["spans"]]


# Pieces and offsets recorded from the `tokenizers` library's BERT tokenizer for the same vocabulary
# (accents stripped, lower-cased, CJK split, zero-width and control characters dropped, punctuation
# split, ## continuations, [UNK] = 100).
RECORDED = [
    ("Café naïve RÉSUMÉ — “quoted” 東京 x\u200by İstanbul ﬁne!",
     [7668, 15743, 13746, 1517, 1523, 9339, 1524, 1879, 1755, 1060, 2100, 9960, 1984, 2638, 999],
     [(0, 4), (5, 10), (11, 17), (18, 19), (20, 21), (21, 27), (27, 28), (29, 30), (30, 31), (32, 33), (34, 35),
      (36, 44), (45, 46), (46, 48), (48, 49)]),
    ("Wake up,patriots!!! $5+3=8 #MAGA @user https://t.co/Ab1",
     [5256, 2039, 1010, 11579, 999, 999, 999, 1002, 1019, 1009, 1017, 1027, 1022, 1001, 23848, 2050, 1030, 5310,
      16770, 1024, 1013, 1013, 1056, 1012, 2522, 1013, 11113, 2487],
     [(0, 4), (5, 7), (7, 8), (8, 16), (16, 17), (17, 18), (18, 19), (20, 21), (21, 22), (22, 23), (23, 24),
      (24, 25), (25, 26), (27, 28), (28, 31), (31, 32), (33, 34), (34, 38), (39, 44), (44, 45), (45, 46), (46, 47),
      (47, 48), (48, 49), (49, 51), (51, 52), (52, 54), (54, 55)]),
    ("Предатели ایران 🔥 supercalifragilisticexpialidocious",
     [1194, 16856, 15290, 29742, 10260, 22919, 15290, 29436, 10325, 1270, 24830, 17149, 18511, 100, 3565, 9289,
      10128, 29181, 24411, 4588, 10288, 19312, 21273, 10085, 6313],
     [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8), (8, 9), (10, 11), (11, 12), (12, 13),
      (13, 15), (16, 17), (18, 23), (23, 26), (26, 28), (28, 31), (31, 35), (35, 38), (38, 40), (40, 43), (43, 46),
      (46, 48), (48, 52)]),
]


@pytest.mark.parametrize("text,ids,offsets", RECORDED)
def test_wordpiece_matches_the_recorded_bert_tokenizer(tr, text, ids, offsets):
    enc = tr.tok.encode(text)
    assert enc.ids == ids and enc.offsets == offsets


def test_training_examples_label_the_pieces_inside_gold_spans(tr):
    from unmask.content.finetune import build_examples, held_out

    text = "The vote is on Tuesday. These corrupt traitors lie!"
    s = text.index("corrupt")
    ex = build_examples({"7": text}, [("7", s, s + 16)], [("7", "Name_Calling,Labeling", s, s + 16)], tr.tok)
    assert len(ex) == 1
    w = ex[0]
    inside = [text[a:b] for (a, b), lab in zip(w["offsets"], w["si"]) if lab]
    assert inside == ["corrupt", "traitor", "s"]  # word pieces
    (first, last, k), = w["tc"]
    assert w["offsets"][first][0] == s and TECHNIQUES[k] == "Name_Calling,Labeling"
    assert sum(held_out(str(i)) for i in range(1000)) in range(70, 130)  # about one in ten held back
