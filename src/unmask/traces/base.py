"""What every trace shares: the co-action computation, written once as engine-neutral SQL.

Window semantics: two actions co-act when they act on the same object, come from different
accounts, and ``|t_a - t_b| <= window`` (a sliding window, not fixed bins). Each action is
paired with at most ``max_neighbors`` later actions on its object inside the window: below
that cap the result is exact; above it (hot objects, e.g. a post retweeted by 50,000 accounts)
the pairs kept are each action's nearest followers in time, and the number skipped is reported
in the trace's statistics. Memory is bounded by ``actions x max_neighbors``, never by the
square of an object's popularity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pyarrow as pa

EDGE_COLUMNS = ("account_a", "account_b", "trace", "weight", "rarity_weight", "n_objects", "first_at", "last_at")


@dataclass
class Trace:
    """A registered trace: name, documented defaults and its actions as SQL.

    ``actions(engine)`` returns SQL with columns ``account_id, object, post_id, t`` (t in epoch ms)
    over the canonical ``posts`` table. ``prepare(engine)`` may register helper tables first.
    """

    name: str
    description: str
    window_s: float
    min_weight: int
    actions: Callable
    prepare: Callable | None = None
    directed: bool = False
    rhythm_null: bool = False  # also test against week-shifted timelines (objects that recur daily)
    params: dict = field(default_factory=dict)


@dataclass
class TraceResult:
    trace: str
    edges: pa.Table
    evidence: pa.Table
    stats: dict
    account_actions: pa.Table  # account_id, trace, k: actions per account, for the null model
    rhythm_expected: list | None = None  # expected weight per edge under the rhythm null


def coaction(engine, trace: Trace, window_s: float, min_weight: int, max_neighbors: int = 100,
             evidence_k: int = 5, shuffles: int = 10, seed: int = 0) -> TraceResult:
    """Run one co-action trace on ``engine``; see the module docstring for the semantics."""
    w = int(round(window_s * 1000))
    K = int(max_neighbors)
    name = trace.name
    if trace.prepare:
        trace.prepare(engine)
    engine.create_table(f"_act_{name}", trace.actions(engine))
    _pairs(engine, name, f"_act_{name}", w, K)
    result = _finish(engine, name, window_s, min_weight, K, evidence_k, trace.params, keep_act=True)
    if trace.rhythm_null and shuffles > 0:
        result.stats["rhythm_null"] = rhythm_null(engine, trace, result, w, K, shuffles, seed)
    engine.drop(f"_act_{name}")
    return result


def _codes(engine, n, source, objects=None):
    """Integer codes for a co-action run: ``_accd_{n}`` numbers accounts in their sort order (so
    ``acc_a < acc_b`` exactly when ``account_a < account_b``), ``_objn_{n}`` numbers objects and
    counts their accounts and actions (``n_acc``, ``n_act``, from ``objects`` if given), and ``_rank_{n}`` numbers each
    object's actions by (time, account, post) as ``rn``. Pairs and edges are then built on
    integers; the strings come back only for the edges and evidence that are kept."""
    engine.create_table(f"_accd_{n}", f"""
        SELECT account_id, row_number() OVER (ORDER BY account_id) AS acc
        FROM (SELECT DISTINCT account_id FROM {source}) d""")
    engine.create_table(f"_objn_{n}", f"""
        SELECT object, n_acc, n_act, row_number() OVER (ORDER BY object) AS oid
        FROM (SELECT object, count(DISTINCT account_id) AS n_acc, count(*) AS n_act
              FROM {objects or source} GROUP BY object) o""")
    engine.create_table(f"_rank_{n}", f"""
        SELECT o.oid, d.acc, s.post_id, s.t, o.n_acc,
               row_number() OVER (PARTITION BY o.oid ORDER BY s.t, d.acc, s.post_id) AS rn
        FROM {source} s JOIN _objn_{n} o ON o.object = s.object JOIN _accd_{n} d ON d.account_id = s.account_id""")


def _pairs(engine, name, source, w, K, suffix=""):
    """Within-window pairs of actions in ``source`` on the same object (see module docstring).

    ``Engine.create_reach`` counts each action's later actions on its object within ``t + w``
    (a range window in SQL, a sorted search on DuckDB); each action is joined to at most ``K``
    of them by rank. ``rn_a``/``rn_b`` are the ranks of account_a's and account_b's posts.
    """
    n = name + suffix
    _codes(engine, n, source)
    engine.create_reach(f"_reach_{n}", f"_rank_{n}", w)
    engine.create_table(f"_pairs_{n}", f"""
        SELECT CASE WHEN a.acc < b.acc THEN a.acc ELSE b.acc END AS acc_a,
               CASE WHEN a.acc < b.acc THEN b.acc ELSE a.acc END AS acc_b,
               a.oid AS oid,
               CASE WHEN a.acc < b.acc THEN a.rn ELSE b.rn END AS rn_a,
               CASE WHEN a.acc < b.acc THEN b.rn ELSE a.rn END AS rn_b,
               CASE WHEN a.acc < b.acc THEN b.t - a.t ELSE a.t - b.t END AS dt_ms,
               a.t AS t1, b.t AS t2, a.n_acc AS n_acc
        FROM (SELECT oid, rn, acc, t, n_acc,
                     {engine.explode_range(f'CASE WHEN n_within > {K} THEN {K} ELSE n_within END')} AS d
              FROM _reach_{n} WHERE n_within > 0) a
        JOIN _rank_{n} b ON b.oid = a.oid AND b.rn = a.rn + a.d
        WHERE a.acc <> b.acc""")


WEEK_MS = 7 * 86_400_000
DAY_MS = 86_400_000


def rhythm_null(engine, trace, result, w, K, shuffles, seed) -> dict:
    """Expected co-actions per edge when each account's timeline is shifted by whole weeks.

    A circular shift by whole weeks (whole days for periods under four weeks) keeps every
    account's hour-of-day and weekday rhythm and its volume, and breaks only the alignment
    between accounts. Scheduled bots that post on the hour stay aligned, so their
    synchronisation is explained by rhythm; accounts that act together on events do not.
    """
    import numpy as np

    name = trace.name
    span = engine.query(f"SELECT min(t) AS lo, max(t) AS hi FROM _act_{name}").to_pylist()[0]
    if span["lo"] is None or result.edges.num_rows == 0:
        result.rhythm_expected = [] if result.edges.num_rows == 0 else None
        return {"shuffles": shuffles, "note": "no candidate edges"}
    length = span["hi"] - span["lo"] + 1
    unit = WEEK_MS if length >= 4 * WEEK_MS else DAY_MS
    slots = int(length // unit) + 1
    if slots < 2:
        return {"shuffles": 0, "note": "period shorter than two days: rhythm null skipped"}
    accounts = result.account_actions.column("account_id").to_pylist()
    rng = np.random.default_rng(seed)
    rows = {"account_id": [], "r": [], "shift": []}
    for r in range(shuffles):
        rows["account_id"] += accounts
        rows["r"] += [r] * len(accounts)
        rows["shift"] += (rng.integers(1, slots, len(accounts)) * unit).tolist()
    engine.register("_shift", pa.table({"account_id": pa.array(rows["account_id"], pa.string()),
                                        "r": pa.array(rows["r"], pa.int64()),
                                        "shift": pa.array(rows["shift"], pa.int64())}))
    period = slots * unit
    # Only accounts on a candidate edge matter: a pair's shifted co-actions depend on its own two timelines.
    engine.register("_cand_acc", pa.table({"account_id": pa.array(sorted(
        set(result.edges.column("account_a").to_pylist()) | set(result.edges.column("account_b").to_pylist())),
        pa.string())}))
    engine.create_table(f"_act_{name}_s", f"""
        SELECT a.account_id, CAST(s.r AS STRING) || '|' || a.object AS object, a.post_id,
               {span['lo']} + ((a.t - {span['lo']} + s.shift) % {period}) AS t
        FROM _act_{name} a JOIN _shift s ON s.account_id = a.account_id
        WHERE a.account_id IN (SELECT account_id FROM _cand_acc)""")
    _pairs(engine, name, f"_act_{name}_s", w, K, suffix="_s")
    engine.register("_cand", result.edges.select(["account_a", "account_b"]))
    counts = engine.query(f"""
        SELECT c.account_a, c.account_b, CAST(substr(o.object, 1, instr(o.object, '|') - 1) AS BIGINT) AS r,
               count(*) AS n
        FROM _pairs_{name}_s p JOIN _objn_{name}_s o ON o.oid = p.oid
             JOIN _accd_{name}_s da ON da.acc = p.acc_a JOIN _accd_{name}_s db ON db.acc = p.acc_b
             JOIN _cand c ON c.account_a = da.account_id AND c.account_b = db.account_id
        GROUP BY c.account_a, c.account_b, CAST(substr(o.object, 1, instr(o.object, '|') - 1) AS BIGINT)""")
    for t in _TEMP + ("_act_",):
        engine.drop(f"{t}{name}_s")
    found = {(a, b, r): n for a, b, r, n in zip(*(counts.column(c).to_pylist() for c in ("account_a", "account_b",
                                                                                         "r", "n")))}
    shift = {}
    for acc_id, r, sh in zip(rows["account_id"], rows["r"], rows["shift"]):
        shift[(acc_id, r)] = sh
    expected = []
    for a, b in zip(result.edges.column("account_a").to_pylist(), result.edges.column("account_b").to_pylist()):
        # Only worlds where the two timelines really moved apart count: an equal shift would
        # reproduce the observed alignment and say nothing about chance.
        apart = [r for r in range(shuffles) if shift[(a, r)] != shift[(b, r)]]
        expected.append(sum(found.get((a, b, r), 0) for r in apart) / len(apart) if apart else float("nan"))
    result.rhythm_expected = expected
    return {"shuffles": shuffles, "unit": "week" if unit == WEEK_MS else "day", "seed": seed}


_TEMP = ("_rank_", "_reach_", "_objn_", "_accd_", "_pairs_", "_edges_")


def _finish(engine, name, window_s, min_weight, K, evidence_k, params, keep_act=False):
    """Aggregate pairs into edges, keep an evidence sample, and gather the null-model inputs.

    Reads ``_pairs_{name}`` (acc_a, acc_b, oid, rn_a, rn_b, dt_ms, t1, t2, n_acc), the codes of
    :func:`_codes` and ``_reach_{name}`` (one row per action with its ``n_within``).
    """
    counts = engine.query(f"""SELECT account_id, '{name}' AS trace, count(*) AS k FROM _act_{name}
                              GROUP BY account_id ORDER BY account_id""")
    n_accounts = counts.num_rows
    # When no account acts twice on one object, a pair's co-actions are on distinct objects and
    # n_objects equals the weight: the (costly) distinct count is only needed otherwise.
    repeats = engine.query(f"SELECT count(*) AS n FROM _objn_{name} WHERE n_act > n_acc").column(0)[0].as_py()
    n_objects = "count(DISTINCT oid)" if repeats else "count(*)"
    engine.create_table(f"_edges_{name}", f"""
        SELECT acc_a, acc_b, count(*) AS weight,
               sum(ln(({n_accounts} + 1.0) / (n_acc + 0.0))) AS rarity_weight,
               {n_objects} AS n_objects,
               min(CASE WHEN t1 < t2 THEN t1 ELSE t2 END) AS first_at,
               max(CASE WHEN t1 < t2 THEN t2 ELSE t1 END) AS last_at
        FROM _pairs_{name} GROUP BY acc_a, acc_b""")
    edges = engine.query(f"""
        SELECT da.account_id AS account_a, db.account_id AS account_b, '{name}' AS trace, e.weight,
               e.rarity_weight, e.n_objects, e.first_at, e.last_at
        FROM _edges_{name} e JOIN _accd_{name} da ON da.acc = e.acc_a JOIN _accd_{name} db ON db.acc = e.acc_b
        WHERE e.weight >= {int(min_weight)} ORDER BY e.acc_a, e.acc_b""")
    evidence = engine.query(f"""
        SELECT da.account_id AS account_a, db.account_id AS account_b, '{name}' AS trace, o.object,
               pa.post_id AS post_a, pb.post_id AS post_b, s.dt_ms
        FROM (SELECT p.*, row_number() OVER (PARTITION BY p.acc_a, p.acc_b
                                             ORDER BY abs(p.dt_ms), p.oid, p.rn_a, p.rn_b) AS k,
                     count(*) OVER (PARTITION BY p.acc_a, p.acc_b) AS w
              FROM _pairs_{name} p) s
             JOIN _accd_{name} da ON da.acc = s.acc_a JOIN _accd_{name} db ON db.acc = s.acc_b
             JOIN _objn_{name} o ON o.oid = s.oid
             JOIN _rank_{name} pa ON pa.oid = s.oid AND pa.rn = s.rn_a
             JOIN _rank_{name} pb ON pb.oid = s.oid AND pb.rn = s.rn_b
        WHERE s.k <= {int(evidence_k)} AND s.w >= {int(min_weight)} ORDER BY s.acc_a, s.acc_b, s.k""")
    stats = engine.query(f"""
        SELECT count(*) AS actions, count(DISTINCT oid) AS objects,
               count(DISTINCT acc) AS accounts, sum(n_within) AS window_pairs,
               sum(CASE WHEN n_within > {K} THEN n_within - {K} ELSE 0 END) AS pairs_skipped_hot,
               sum(CASE WHEN n_within > {K} THEN 1 ELSE 0 END) AS actions_capped
        FROM _reach_{name}""").to_pylist()[0]
    stats = {k: int(v or 0) for k, v in stats.items()}
    stats["candidate_pairs"] = int(engine.query(f"SELECT count(*) AS n FROM _edges_{name}").column(0)[0].as_py())
    stats["cross_pairs"] = int(engine.query(f"SELECT count(*) AS n FROM _pairs_{name}").column(0)[0].as_py())
    stats.update(window_s=window_s, min_weight=min_weight, max_neighbors=K, **params)
    for t in _TEMP + (() if keep_act else ("_act_",)):
        engine.drop(f"{t}{name}")
    return TraceResult(name, edges, evidence, stats, counts)
