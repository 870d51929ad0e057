"""BERT's uncased WordPiece tokenizer in plain Python, with character offsets.

It gives the same pieces and offsets as the ``tokenizers`` library's BERT tokenizer (BertNormalizer
with lower-casing and accent stripping, BertPreTokenizer, WordPiece with ``##`` continuations) for
the vocabulary the transformer was trained with, so that run time needs neither ``tokenizers`` nor
the Hugging Face hub client it pulls in (about 40 MB). ``tests/test_content_transformer.py`` checks
it against pieces recorded from ``tokenizers``.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MAX_WORD = 100


@dataclass
class Encoding:
    ids: list[int]
    offsets: list[tuple[int, int]]


def _is_control(c: str) -> bool:
    if c in "\t\n\r":
        return False
    return unicodedata.category(c) in ("Cc", "Cf")


def _is_whitespace(c: str) -> bool:
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def _is_punct(c: str) -> bool:
    o = ord(c)
    if 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def _is_cjk(o: int) -> bool:
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2A6DF or 0x2A700 <= o <= 0x2B73F
            or 0x2B740 <= o <= 0x2B81F or 0x2B820 <= o <= 0x2CEAF or 0xF900 <= o <= 0xFAFF
            or 0x2F800 <= o <= 0x2FA1F)


@lru_cache(maxsize=65536)
def _norm(c: str) -> str:
    """One character as the normalizer leaves it: accents stripped, lower-cased."""
    return "".join(x for x in unicodedata.normalize("NFD", c) if unicodedata.category(x) != "Mn").lower()


@lru_cache(maxsize=65536)
def _kind(c: str) -> tuple[int, str]:
    """(kind, normalized text) of one character. Kinds: 0 dropped, 1 space, 2 CJK (a word of its
    own), 3 other (the normalizer's output, whose punctuation splits words)."""
    o = ord(c)
    if o == 0 or o == 0xFFFD or _is_control(c):
        return 0, ""
    if _is_whitespace(c):
        return 1, " "
    if _is_cjk(o):
        return 2, c
    return 3, _norm(c)


_punct = lru_cache(maxsize=65536)(_is_punct)


class WordPiece:
    """``encode(text)`` -> :class:`Encoding` (no special tokens), from a ``tokenizer.json``."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as fh:
            spec = json.load(fh)
        self.vocab: dict[str, int] = spec["model"]["vocab"]
        self.unk = self.vocab[spec["model"].get("unk_token", "[UNK]")]
        self.prefix = spec["model"].get("continuing_subword_prefix", "##")
        self._pieces = lru_cache(maxsize=200_000)(self._word)

    def _word(self, word: str) -> tuple[tuple[int, int, int], ...]:
        """(id, start, end) of each piece of one word, offsets within the word; [UNK] for all of it
        when any part is not in the vocabulary or the word is too long."""
        if len(word) > MAX_WORD:
            return ((self.unk, 0, len(word)),)
        out, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                if piece in self.vocab:
                    out.append((self.vocab[piece], start, end))
                    break
                end -= 1
            if end == start:
                return ((self.unk, 0, len(word)),)
            start = end
        return tuple(out)

    def encode(self, text: str, add_special_tokens: bool = False) -> Encoding:
        chars, where = [], []  # the normalized text and, for each of its characters, the original index
        for i, c in enumerate(text):
            kind, norm = _kind(c)
            if kind == 3 and len(norm) == 1:
                chars.append(norm)
                where.append(i)
            elif kind == 1:
                chars.append(" ")
                where.append(i)
            elif kind == 2:
                chars += [" ", c, " "]
                where += [i, i, i]
            elif kind == 3:
                chars += norm
                where += [i] * len(norm)
        ids, offsets = [], []
        word: list[int] = []  # positions in chars

        def flush():
            if word:
                for k, s, e in self._pieces("".join(chars[j] for j in word)):
                    ids.append(k)
                    offsets.append((where[word[s]], where[word[e - 1]] + 1))
                word.clear()

        for j, c in enumerate(chars):
            if c == " ":
                flush()
            elif _punct(c):
                flush()
                word.append(j)
                flush()
            else:
                word.append(j)
        flush()
        return Encoding(ids, offsets)
