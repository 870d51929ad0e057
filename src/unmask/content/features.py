"""Text features for the technique model: tokens, sentences, lexicon cues, hashed n-grams.

Everything here is plain Python and numpy, the same at training and at inference, so that the
shipped weights need no scikit-learn at run time.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

N_FEATURES = 1 << 16
TOKEN = re.compile(r"\w+(?:'\w+)?|[!?]+|\"|“|”", re.UNICODE)
SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"'”’)]*|\n|$)", re.UNICODE)

# Cue lexicons (hand-written, small; each adds one feature and helps where the corpus is thin).
LEXICONS = {
    "loaded": {"outrageous", "disgusting", "evil", "horrific", "shocking", "disgrace", "disgraceful", "radical",
               "destroy", "destroyed", "slaughter", "brutal", "vicious", "corrupt", "corruption", "treason",
               "traitor", "betrayal", "catastrophe", "catastrophic", "devastating", "massive", "huge", "insane",
               "crazy", "hysterical", "hysteria", "propaganda", "lies", "lie", "lying", "fake", "hoax", "scam",
               "witch", "hunt", "terror", "terrifying", "monstrous", "barbaric", "heinous", "sinister", "dangerous"},
    "name": {"idiot", "moron", "thug", "thugs", "puppet", "regime", "globalist", "globalists", "elite", "elites",
             "leftist", "leftists", "liberal", "liberals", "fascist", "fascists", "nazi", "nazis", "commie",
             "communist", "socialist", "extremist", "extremists", "terrorist", "terrorists", "criminal",
             "criminals", "clown", "snowflake", "deep", "swamp", "cabal", "mob", "lunatic", "hypocrite"},
    "flag": {"nation", "national", "patriot", "patriots", "patriotic", "america", "american", "americans",
             "country", "homeland", "our", "flag", "freedom", "sovereignty", "sovereign", "motherland", "people",
             "heritage", "values", "we", "us"},
    "fear": {"threat", "threaten", "threatens", "danger", "dangerous", "fear", "afraid", "risk", "crisis",
             "invasion", "invade", "attack", "attacks", "kill", "killed", "die", "death", "deadly", "collapse",
             "chaos", "warn", "warning", "imminent", "disaster"},
    "doubt": {"allegedly", "supposedly", "so-called", "claims", "claimed", "claim", "questionable", "doubt",
              "really", "whether", "why", "suspicious", "mysterious", "apparently", "unproven", "?"},
    "authority": {"expert", "experts", "according", "scientist", "scientists", "professor", "study", "studies",
                  "official", "officials", "said", "says", "report", "reports", "research", "dr", "analyst"},
    "extreme": {"never", "always", "everyone", "nobody", "all", "every", "nothing", "completely", "totally",
                "absolutely", "entire", "worst", "best", "greatest", "biggest", "only", "ever", "most", "least"},
    "binary": {"either", "or", "only", "choice", "side", "against", "enemy", "enemies", "with"},
    "cliche": {"period", "enough", "simple", "bottom", "line", "is", "what", "it", "matter", "facts", "end"},
    "whatabout": {"what", "about", "hypocrisy", "hypocrite", "double", "standard", "instead", "while", "yet"},
    "hitler": {"hitler", "nazi", "nazis", "fascist", "stalin", "communist", "holocaust", "everybody", "millions",
               "majority", "everyone", "join", "movement"},
    "causal": {"because", "therefore", "thus", "so", "cause", "caused", "causes", "result", "leads", "led",
               "blame", "responsible", "fault", "due"},
}
LEX_NAMES = sorted(LEXICONS)


def tokens(text: str) -> list[str]:
    return [t.lower() for t in TOKEN.findall(text)]


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the sentences of ``text`` (blank ones dropped)."""
    out = []
    for m in SENTENCE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s >= 3:
            out.append((s, e))
    return out


def _h(s: str) -> int:
    return zlib.crc32(s.encode("utf-8")) % N_FEATURES


def hashed(parts: list[tuple[str, list[str]]]) -> dict[int, float]:
    """Hashed unigram and bigram counts, one namespace per part (e.g. span, context)."""
    feats: dict[int, float] = {}
    for ns, toks in parts:
        for i, t in enumerate(toks):
            k = _h(f"{ns}:{t}")
            feats[k] = feats.get(k, 0.0) + 1.0
            if i:
                k = _h(f"{ns}:{toks[i - 1]} {t}")
                feats[k] = feats.get(k, 0.0) + 1.0
    return {k: 1.0 + np.log(v) for k, v in feats.items()}


def cues(toks: list[str], raw: str) -> list[float]:
    """Dense cue features: lexicon hit rates, length, shouting, quotes and exclamations."""
    n = max(len(toks), 1)
    row = [sum(t in LEXICONS[name] for t in toks) / n for name in LEX_NAMES]
    letters = [c for c in raw if c.isalpha()]
    row += [min(len(toks), 60) / 60.0, float(len(toks) <= 3), float(len(toks) <= 8),
            sum(c.isupper() for c in letters) / max(len(letters), 1), float("!" in raw), float("?" in raw),
            float('"' in raw or "“" in raw)]
    return row


N_CUES = len(LEX_NAMES) + 7
