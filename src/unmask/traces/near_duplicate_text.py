"""near_duplicate_text: MinHash LSH over character 5-gram shingles, with script-aware normalisation.

Texts (retweets left out, at least ``min_length`` characters after normalisation) are hashed
into ``bands x rows`` MinHash values. Posts sharing a band bucket are joined to the bucket's
first post when their estimated Jaccard similarity is at least ``threshold``; the groups (stars
around the smallest representative, so loosely similar texts do not chain) become the objects of
an ordinary co-action (same group, within the window). Normalisation, in engine-neutral SQL
(:func:`normalise_sql`), folds case, removes URLs, mentions, Arabic diacritics and tatweel, and
unifies Arabic/Persian letter variants (ي/ی, ك/ک) and Cyrillic ё/е, so edits that only swap
those do not hide a copy.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from unmask.traces.base import Trace
from unmask.traces.sqltext import t_ms

SHINGLE = 5
BANDS, ROWS = 10, 4
THRESHOLD = 0.5
MIN_LENGTH = 30


def _perm_params(n, seed=1234567):
    rng = np.random.default_rng(seed)
    return (rng.integers(1, 2**61, n, dtype=np.uint64) | np.uint64(1)), rng.integers(0, 2**61, n, dtype=np.uint64)


def minhash(texts: list[str], n_perm=BANDS * ROWS, chunk=50_000) -> np.ndarray:
    """MinHash signatures (n_texts x n_perm, uint32) of character shingles, vectorised per chunk."""
    a, b = _perm_params(n_perm)
    out = np.empty((len(texts), n_perm), dtype=np.uint32)
    base = np.uint64(1_000_003)
    for start in range(0, len(texts), chunk):
        part = [t if len(t) >= SHINGLE else t.ljust(SHINGLE) for t in texts[start:start + chunk]]
        lens = np.fromiter((len(t) for t in part), dtype=np.int64, count=len(part))
        cps = np.frombuffer("".join(part).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        h = np.zeros(len(cps) - SHINGLE + 1, dtype=np.uint64)
        for j in range(SHINGLE):
            h = h * base + cps[j: len(cps) - SHINGLE + 1 + j]
        nsh = lens - SHINGLE + 1
        doc = np.repeat(np.arange(len(part)), lens)[: len(h)]
        valid = np.nonzero(np.arange(len(h)) - starts[doc] < nsh[doc])[0]
        h = (h[valid] >> np.uint64(32)).astype(np.uint32) ^ h[valid].astype(np.uint32)
        seg = np.concatenate([[0], np.cumsum(nsh)[:-1]])
        a32, b32 = a.astype(np.uint32) | np.uint32(1), b.astype(np.uint32)
        v = np.empty_like(h)
        for p in range(n_perm):  # 32-bit multiply-add with wrap-around: one pass per permutation
            np.multiply(h, a32[p], out=v)
            np.add(v, b32[p], out=v)
            out[start:start + len(part), p] = np.minimum.reduceat(v, seg)
    return out


def groups(texts: list[str], threshold=THRESHOLD) -> np.ndarray:
    """A group label per text (the smallest index in its group); singletons keep their own index."""
    return group_signatures(minhash(texts), threshold)


def group_signatures(sig: np.ndarray, threshold=THRESHOLD) -> np.ndarray:
    """Star groups from MinHash signatures (see :func:`groups`)."""
    def band_keys():
        for band in range(BANDS):
            key = np.zeros(len(sig), dtype=np.uint64)
            for c in range(ROWS):
                key = (key ^ sig[:, band * ROWS + c].astype(np.uint64)) * np.uint64(0x100000001B3)
            yield key

    def similar(member, rep, chunk=200_000):  # in chunks: a hot bucket can hold millions of members
        out = np.empty(len(member), bool)
        for s in range(0, len(member), chunk):
            m, r = member[s:s + chunk], rep[s:s + chunk]
            out[s:s + chunk] = (sig[m] == sig[r]).mean(axis=1) >= threshold
        return out

    return star_groups(len(sig), band_keys(), similar)


def star_groups(n, band_keys, similar) -> np.ndarray:
    """LSH star groups: in each band, rows sharing a key are compared with the bucket's first row
    (ties keep row order), and ``similar(members, reps)`` says which join it. Each row takes the
    smallest representative it joined; singletons keep their own index.

    Stars, not connected components: long chains of loosely similar texts never merge into one
    giant group."""
    label = np.arange(n)
    if n == 0:
        return label
    src, dst = [], []
    for key in band_keys:
        order = np.argsort(key, kind="stable")
        ks = key[order]
        first = np.concatenate([[True], ks[1:] != ks[:-1]])
        rep = order[np.maximum.accumulate(np.where(first, np.arange(n), 0))]
        member, rep = order[~first], rep[~first]
        keep = similar(member, rep)
        src.append(member[keep])
        dst.append(rep[keep])
    np.minimum.at(label, np.concatenate(src), np.concatenate(dst))
    return label


FOLD_FROM, FOLD_TO = "يىكةأإآёЁ", "ییکهاااее"  # Arabic/Persian letter variants, Cyrillic yo


def normalise_sql(engine, expr="text") -> str:
    """The normalisation described in the module docstring, as engine-neutral SQL."""
    r = engine.regexp_replace_all
    s = f"lower({expr})"
    s = r(s, "'https?://[^ ]+|www[.][^ ]+|(^rt )?@[A-Za-z0-9_]+:?'", "' '")
    s = r(s, "'[\u064b-\u065f\u0670\u06d6-\u06ed\u0640]'", "''")
    for a, b in zip(FOLD_FROM, FOLD_TO):  # plain replace: several times faster than translate()
        s = f"replace({s}, '{a}', '{b}')"
    s = r(s, "'[ \t\r\n\u200c-\u200f]{2,}|[\t\r\n\u200c-\u200f]'", "' '")
    return f"trim({s})"


BATCH = 25_000  # texts per MinHash batch: bounds the shingle arrays held at once


def prepare(engine, min_length=MIN_LENGTH, threshold=THRESHOLD):
    """Group near-duplicate posts into ``_neardup`` (post_id, object); only signatures are kept
    (160 bytes a post)."""
    register_groups(engine, "_neardup", "nd:", min_length, minhash,
                    lambda sig: group_signatures(sig, threshold))


def register_groups(engine, table, prefix, min_length, featurize, group):
    """The shared text-grouping step: normalised texts (retweets left out, at least ``min_length``
    characters) stream from the engine in batches, ``featurize`` turns each batch into rows of
    features, rows are put in post-id order (the same groups on every engine), ``group`` labels
    them, and posts in groups of two or more are registered as ``table`` (post_id, object =
    ``prefix`` + the group's first post)."""
    import pyarrow.compute as pc

    sql = f"""SELECT post_id, nt FROM (
                SELECT post_id, {normalise_sql(engine)} AS nt FROM posts
                WHERE kind <> 'retweet' AND text IS NOT NULL) x
              WHERE length(nt) >= {int(min_length)}"""
    ids, parts = [], []
    for batch in engine.query_batches(sql, BATCH):  # unordered, so the engine streams without a sort
        ids.append(batch.column(0))
        parts.append(featurize(batch.column(1).to_pylist()))
    post_ids = pa.chunked_array(ids, pa.string()).combine_chunks()
    if not parts:
        engine.register(table, pa.table({"post_id": pa.array([], pa.string()), "object": pa.array([], pa.string())}))
        return
    features = np.concatenate(parts)
    del parts
    order = pc.sort_indices(post_ids).to_numpy()
    post_ids, features = post_ids.take(pa.array(order)), features[order]
    labels = group(features)
    del features
    multi = np.nonzero(np.bincount(labels, minlength=len(labels))[labels] > 1)[0]
    engine.register(table, pa.table({
        "post_id": post_ids.take(pa.array(multi)),
        "object": pc.binary_join_element_wise(prefix, post_ids.take(pa.array(labels[multi])), ""),
    }))


def actions(engine):
    return f"""SELECT p.account_id, n.object, p.post_id, {t_ms(engine, 'p.created_at')} AS t
               FROM posts p JOIN _neardup n ON n.post_id = p.post_id"""


TRACE = Trace("near_duplicate_text", "near-identical text (MinHash LSH)", window_s=3600, min_weight=2,
              actions=actions, rhythm_null=True, prepare=prepare,
              params={"shingle": SHINGLE, "bands": BANDS, "rows": ROWS, "threshold": THRESHOLD,
                      "min_length": MIN_LENGTH}, family="text")
