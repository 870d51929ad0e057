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

import struct
from dataclasses import dataclass, field
from typing import Callable

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

EDGE_COLUMNS = ("account_a", "account_b", "trace", "weight", "rarity_weight", "n_objects", "first_at", "last_at")


@dataclass
class Trace:
    """A registered trace: name, documented defaults and its actions as SQL.

    ``actions(engine)`` returns SQL with columns ``account_id, object, post_id, t`` (t in epoch ms)
    over the canonical ``posts`` table, and ``stratum`` when ``stratified`` (the popularity null then
    keeps each account's actions within their stratum: for a retweet or a reply, the author of the
    referenced post). ``prepare(engine)`` may register helper tables first.
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
    optional: bool = False  # run only when asked for (costly, or needs an extra)
    stratified: bool = False  # actions carry a ``stratum`` (the referenced post's author) for the null
    # traces that count the same posts share a family; fusion combines a family once (network.fusion)
    family: str = ""
    # when the object is a function of the time (a time bucket), the SQL of that function: the
    # rhythm null then recomputes each shifted action's object from its shifted time
    time_object: Callable | None = None
    # actions carry ``pace``: for a reaction, seconds from the first reaction to the same post (NULL
    # for other actions); the popularity null then expects two accounts to meet as often as their
    # own paces make them (the pace factor of ``_popularity_null``), not as two of the stratum's do
    paced: bool = False


@dataclass
class TraceResult:
    """A trace's edges (Arrow), statistics and null-model inputs.

    The evidence sample (up to k rows per edge: millions of rows on a large case) stays in the
    engine as integer codes, with the run's code tables (``_accd_/_objn_/_rank_`` + ``key``):
    :meth:`evidence_batches` turns it into ids a batch at a time (:func:`unmask.api.detect` writes
    each batch into the case), :attr:`evidence` gathers it, and :meth:`release` drops the tables.
    """

    trace: str
    edges: pa.Table
    key: str
    engine: object
    stats: dict
    account_actions: pa.Table  # account_id, trace, k: actions per account, for the null model
    rhythm_expected: list | None = None  # expected weight per edge under the rhythm null
    rhythm_worlds: object = None  # per edge, the shifted worlds in which its two timelines moved apart
    rhythm_var: object = None  # per edge, the variance of its count between those worlds
    account_ids: pa.Array | None = None  # the account ids in code order (``_accd_`` by ``acc``)

    def evidence_batches(self, rows: int = 500_000, pairs: pa.Table | None = None):
        """The evidence as Arrow tables of up to ``rows`` rows (account_a, account_b, trace, object,
        post_a, post_b, dt_ms), ordered by pair and rank; with ``pairs`` (account_a, account_b, as in
        :attr:`edges`), only those pairs' evidence. The engine gives each row's positions in
        the run's code tables (a post's position is the number of ranked actions on earlier objects
        plus its rank), and codes become ids by Arrow ``take``, batch by batch: only the integers
        (29 bytes a row) are held whole."""
        k, q = self.key, self.engine.query
        if pairs is not None and pairs.num_rows == 0:
            return
        accounts = self.account_ids
        if accounts is None:
            accounts = q(f"SELECT account_id FROM _accd_{k} ORDER BY acc").column(0).combine_chunks()
        only = ""
        if pairs is not None:  # the pairs' account codes are positions in _accd_ (plus one)
            self.engine.register(f"_ev_pairs_{k}", pa.table({
                c: pa.compute.add(pa.compute.index_in(pairs.column(f"account_{c[-1]}"), value_set=accounts), 1)
                for c in ("acc_a", "acc_b")}))
            only = f"JOIN _ev_pairs_{k} x ON x.acc_a = e.acc_a AND x.acc_b = e.acc_b"
        big = self.engine.fetch  # every coded object and post: large on a large case
        objects = big(f"SELECT object FROM _objn_{k} ORDER BY oid").column(0).combine_chunks()
        posts = big(f"SELECT post_id FROM _rank_{k} ORDER BY oid, rn").column(0).combine_chunks()
        pos = "INTEGER" if len(posts) < 2**31 - 1 else "BIGINT"
        coded = big(f"""
            WITH o AS (SELECT oid, CAST(sum(count(*)) OVER (ORDER BY oid) - count(*) AS BIGINT) AS start
                       FROM _rank_{k} GROUP BY oid)
            SELECT e.acc_a - 1 AS ia, e.acc_b - 1 AS ib, e.oid - 1 AS io, CAST(0 AS TINYINT) AS z,
                   CAST(o.start + e.rn_a - 1 AS {pos}) AS pa, CAST(o.start + e.rn_b - 1 AS {pos}) AS pb,
                   CAST(e.dt_ms AS BIGINT) AS dt_ms
            FROM _evidence_{k} e JOIN o ON o.oid = e.oid {only}
            ORDER BY e.acc_a, e.acc_b, e.k""")
        if pairs is not None:
            self.engine.unregister(f"_ev_pairs_{k}")
        trace = _one(self.trace)
        for batch in coded.to_batches(max_chunksize=rows):  # fetched whole: the caller may query between batches
            c = batch.column
            yield pa.table({"account_a": accounts.take(c("ia")), "account_b": accounts.take(c("ib")),
                            "trace": trace.take(c("z")), "object": objects.take(c("io")),
                            "post_a": posts.take(c("pa")), "post_b": posts.take(c("pb")), "dt_ms": c("dt_ms")})

    @property
    def evidence(self) -> pa.Table:
        """The whole evidence sample as one Arrow table (see :meth:`evidence_batches`)."""
        parts = list(self.evidence_batches())
        return pa.concat_tables(parts) if parts else pa.table({
            c: pa.array([], pa.int64() if c == "dt_ms" else pa.string())
            for c in ("account_a", "account_b", "trace", "object", "post_a", "post_b", "dt_ms")})

    def release(self) -> None:
        for t in ("_evidence_", "_accd_", "_objn_", "_rank_"):
            self.engine.drop(f"{t}{self.key}")


_RUNS = iter(range(1, 1 << 62))  # helper tables are named per run, so a result never reads another's


def coaction(engine, trace: Trace, window_s: float, min_weight: int, max_neighbors: int = 100,
             evidence_k: int = 5, shuffles: int = 10, seed: int = 0) -> TraceResult:
    """Run one co-action trace on ``engine``; see the module docstring for the semantics."""
    w = int(round(window_s * 1000))
    K = int(max_neighbors)
    name = trace.name
    key = f"{name}_{next(_RUNS)}"
    if trace.prepare:
        trace.prepare(engine)
    actions = trace.actions(engine)
    if not trace.stratified:
        actions = f"SELECT account_id, object, post_id, t, '' AS stratum FROM ({actions}) x"
    engine.create_table(f"_act_{name}", actions)
    objects = _codes(engine, key, f"_act_{name}")
    engine.create_reach(f"_reach_{key}", f"_rank_{key}", w)
    counts = engine.query(f"SELECT account_id, '{name}' AS trace, k FROM _accd_{key} ORDER BY acc")
    result = _finish(engine, name, key, window_s, min_weight, K, evidence_k, trace.params, objects, counts,
                     source=f"_act_{name}", pairs=f"({_pair_sql(engine, key, K)})",
                     ids=counts.column("account_id").combine_chunks(), paced=trace.paced)
    if trace.rhythm_null and shuffles > 0:
        result.stats["rhythm_null"] = rhythm_null(engine, trace, result, w, K, shuffles, seed)
    engine.drop(f"_act_{name}")
    return result


def _codes(engine, n, source, objects=None, min_accounts=2, count=True) -> int | None:
    """Integer codes for a co-action run: ``_accd_{n}`` numbers accounts in their sort order (so
    ``acc_a < acc_b`` exactly when ``account_a < account_b``) and counts their actions (``k``),
    ``_objn_{n}`` numbers the objects that at least ``min_accounts`` accounts act on (no other
    object can link two accounts) and counts their accounts and actions (``n_acc``, ``n_act``,
    from ``objects`` if given), and ``_rank_{n}`` numbers each such object's actions by (time,
    account, post) as ``rn``. Pairs and edges are then built on integers; the strings come back
    only for what is kept.

    Objects are first counted in one grouping; accounts are counted only on objects with enough
    actions to pass (most links and texts are posted once), in two plain groupings, which cost
    less than ``count(DISTINCT)`` on both engines. Returns the number of distinct objects (None
    when not asked to ``count`` them: the query is a statement, a job on Spark).
    """
    m = int(min_accounts)
    engine.create_table(f"_accd_{n}", f"""
        SELECT account_id, count(*) AS k, CAST(row_number() OVER (ORDER BY account_id) AS INTEGER) AS acc
        FROM {source} GROUP BY account_id""")
    engine.create_table(f"_objg_{n}", f"SELECT object, count(*) AS n_act FROM {objects or source} GROUP BY object")
    total = int(engine.query(f"SELECT count(*) AS n FROM _objg_{n}").column(0)[0].as_py()) if count else None
    engine.create_table(f"_objn_{n}", f"""
        SELECT object, CAST(n_acc AS INTEGER) AS n_acc, n_act,
               CAST(row_number() OVER (ORDER BY object) AS INTEGER) AS oid
        FROM (SELECT object, count(*) AS n_acc, sum(c) AS n_act
              FROM (SELECT object, account_id, count(*) AS c FROM {objects or source}
                    WHERE object IN (SELECT object FROM _objg_{n} WHERE n_act >= {m})
                    GROUP BY object, account_id) a
              GROUP BY object) g
        WHERE n_acc >= {m}""")
    engine.drop(f"_objg_{n}")
    engine.create_table(f"_rank_{n}", f"""
        SELECT o.oid, d.acc, s.post_id, s.t, o.n_acc,
               CAST(row_number() OVER (PARTITION BY o.oid ORDER BY s.t, d.acc, s.post_id) AS INTEGER) AS rn
        FROM {source} s JOIN _objn_{n} o ON o.object = s.object JOIN _accd_{n} d ON d.account_id = s.account_id""")
    return total


def _pair_sql(engine, n, K) -> str:
    """Within-window pairs of actions on the same object (see module docstring), as SQL over the
    codes of :func:`_codes` (``_rank_{n}``) and ``_reach_{n}``.

    ``Engine.create_reach`` counts each action's later actions on its object within ``t + w``
    (a range window in SQL, an ASOF join on DuckDB); each action is joined to at most ``K``
    of them by rank. ``rn_a``/``rn_b`` are the ranks of account_a's and account_b's posts. The
    pairs are never stored whole (on a large case they are hundreds of millions of rows): the
    callers aggregate them as they stream, and read them again only for what they keep.
    """
    return f"""
        SELECT CASE WHEN a.acc < b.acc THEN a.acc ELSE b.acc END AS acc_a,
               CASE WHEN a.acc < b.acc THEN b.acc ELSE a.acc END AS acc_b,
               a.oid AS oid,
               CASE WHEN a.acc < b.acc THEN a.rn ELSE b.rn END AS rn_a,
               CASE WHEN a.acc < b.acc THEN b.rn ELSE a.rn END AS rn_b,
               CASE WHEN a.acc < b.acc THEN b.t - a.t ELSE a.t - b.t END AS dt_ms,
               a.t AS t1, a.n_acc AS n_acc
        FROM (SELECT oid, rn, acc, t, n_acc,
                     {engine.explode_range(f'CASE WHEN n_within > {K} THEN {K} ELSE n_within END')} AS d
              FROM _reach_{n} WHERE n_within > 0) a
        JOIN _rank_{n} b ON b.oid = a.oid AND b.rn = a.rn + a.d
        WHERE a.acc <> b.acc"""


WEEK_MS = 7 * 86_400_000
DAY_MS = 86_400_000


def rhythm_null(engine, trace, result, w, K, shuffles, seed) -> dict:
    """Expected co-actions per edge when each account's timeline is shifted by whole weeks.

    A circular shift by whole weeks (whole days for periods under four weeks) keeps every
    account's hour-of-day and weekday rhythm and its volume, and breaks only the alignment
    between accounts. Scheduled bots that post on the hour stay aligned, so their
    synchronisation is explained by rhythm; accounts that act together on events do not.

    The circle is whole units long, so it is longer than the data by a gap ``g`` of less than a
    unit, and in a world where two timelines moved apart their two gaps fall on different days: the
    two overlap on ``P - 2g`` of the circle's ``P`` days, where the real timelines overlap on the
    whole span, ``P - g``: without a correction two accounts that post steadily all period were
    expected 12% fewer co-actions than their real alignment gives (31 days on a 35-day circle), and
    two heavy users of a scheduling tool, who meet thousands of times on the quarter hour, looked
    coordinated. Each world's counts are scaled by :func:`profile_coverage` for the world's shift
    between the two timelines, from the hourly volume of the trace's actions: ``(P - g) / (P - 2g)``
    (:func:`coverage`) where the volume is flat, and what the profile gives where it is not (a short
    collection with a thin last day), at most 2. Filling
    the gap with a copy of the week before it was tried and not kept: a copy realigns real
    co-actions (one timeline's copy meets the other's original one week on), and an operation's
    own coordination then explained itself.
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
    accounts = result.account_actions.column("account_id").combine_chunks().cast(pa.string())
    rng = np.random.default_rng(seed)
    by_world = np.stack([rng.integers(1, slots, len(accounts)) * unit for _ in range(shuffles)])  # worlds x accounts
    period = slots * unit
    # Only accounts on a candidate edge matter: a pair's shifted co-actions depend on its own two timelines.
    ends = pa.concat_arrays([result.edges.column("account_a").combine_chunks().cast(pa.string()),
                             result.edges.column("account_b").combine_chunks().cast(pa.string())])
    n = f"{name}_s"
    candidates = pa.compute.unique(ends)
    engine.register(f"_cand_acc_{n}", pa.table({"account_id": candidates}))
    engine.register(f"_cand_{n}", pa.table({"i": pa.array(np.arange(result.edges.num_rows, dtype=np.int64)),
                                            "account_a": result.edges.column("account_a"),
                                            "account_b": result.edges.column("account_b")}))
    shifted = f"{span['lo']} + ((a.t - {span['lo']} + s.shift) % {period})"
    obj = trace.time_object(shifted) if trace.time_object else "a.object"
    found = []
    # Several shifted worlds per pass: a world's objects carry its number, so they never meet
    # another world's, and the counts are those of one world at a time. How many worlds go in one
    # pass is the engine's (rows of the candidates' actions per pass, ``Engine.rhythm_pass_rows``):
    # DuckDB keeps memory and spill near one world's on a large case, Spark takes them all in one
    # pass (each statement has a fixed cost there). Each pass's pairs are counted per candidate edge
    # as they stream.
    # the candidates' actions in one world: their counts are already here (``k``, per account)
    on_edge = pa.compute.is_in(accounts, value_set=candidates)
    rows = int(pa.compute.sum(result.account_actions.column("k").filter(on_edge)).as_py() or 0)
    budget = engine.rhythm_pass_rows
    per_pass = shuffles if budget is None else max(1, min(shuffles, int(budget // max(rows, 1))))
    digits = len(str(max(shuffles - 1, 0)))  # the world's number, zero-padded, opens each object
    for lo in range(0, shuffles, per_pass):
        worlds = range(lo, min(shuffles, lo + per_pass))
        engine.register(f"_shift_{n}", pa.table({
            "account_id": pa.concat_arrays([accounts] * len(worlds)),
            "r": pa.array(np.repeat(np.array(worlds, dtype=np.int64), len(accounts))),
            "shift": pa.array(np.concatenate([by_world[r] for r in worlds]).astype(np.int64))}))
        engine.create_table(f"_act_{n}", f"""
            SELECT a.account_id, concat(lpad(CAST(s.r AS STRING), {digits}, '0'), ':', CAST({obj} AS STRING)) AS object,
                   a.post_id, {shifted} AS t
            FROM _act_{name} a JOIN _shift_{n} s ON s.account_id = a.account_id
            WHERE a.account_id IN (SELECT account_id FROM _cand_acc_{n})""")
        _codes(engine, n, f"_act_{n}", count=False)
        engine.create_reach(f"_reach_{n}", f"_rank_{n}", w)
        engine.create_table(f"_candc_{n}", f"""
            SELECT c.i, da.acc AS acc_a, db.acc AS acc_b FROM _cand_{n} c
            JOIN _accd_{n} da ON da.account_id = c.account_a JOIN _accd_{n} db ON db.account_id = c.account_b""")
        # Per edge and world: its co-actions there, counted in the engine (the world is the
        # object's prefix).
        found.append(engine.fetch(f"""
            SELECT c.i, CAST(left(o.object, {digits}) AS BIGINT) AS r, count(*) AS n
            FROM ({_pair_sql(engine, n, K)}) p JOIN _candc_{n} c ON c.acc_a = p.acc_a AND c.acc_b = p.acc_b
            JOIN _objn_{n} o ON o.oid = p.oid
            GROUP BY c.i, CAST(left(o.object, {digits}) AS BIGINT)"""))
        engine.unregister(f"_shift_{n}")
        for t in ("_act_", "_rank_", "_reach_", "_objn_", "_accd_", "_candc_"):
            engine.drop(f"{t}{n}")
    engine.unregister(f"_cand_{n}")
    engine.unregister(f"_cand_acc_{n}")
    found = pa.concat_tables(found)
    # the worlds where the two timelines really moved apart, per edge (shuffles x edges)
    index = {}
    for end in ("account_a", "account_b"):
        pos = pa.compute.index_in(result.edges.column(end), value_set=accounts)
        index[end] = pos.to_numpy(zero_copy_only=False).astype(np.int64)
    apart = np.empty((shuffles, result.edges.num_rows), bool)
    for r in range(shuffles):  # one world at a time: memory of one row of shifts per edge
        apart[r] = by_world[r, index["account_a"]] != by_world[r, index["account_b"]]
    i = found.column("i").to_numpy().astype(np.int64)
    r = found.column("r").to_numpy().astype(np.int64)
    n = found.column("n").to_numpy().astype(float)
    keep = apart[r, i]
    order = np.lexsort((r[keep], i[keep]))  # sums of scaled counts in one order, whatever the engine's
    i, r, n = i[keep][order], r[keep][order], n[keep][order]
    # each world's count scaled by the coverage of its shift (the two timelines' difference, in units)
    scales = profile_coverage(_hourly_volume(engine, f"_act_{name}", span["lo"], period), unit // HOUR_MS)
    shift = (by_world[r, index["account_a"][i]] - by_world[r, index["account_b"][i]]) % period // unit
    n = n * scales[shift]
    total = np.bincount(i, weights=n, minlength=result.edges.num_rows)
    squares = np.bincount(i, weights=n ** 2, minlength=result.edges.num_rows)
    n_apart = apart.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(n_apart > 0, total / np.maximum(n_apart, 1), np.nan)  # NaN: never apart
        # the count's variance between worlds (worlds with no co-action count as zeros)
        var = np.where(n_apart > 1, (squares - n_apart * expected ** 2) / np.maximum(n_apart - 1, 1), np.nan)
    result.rhythm_expected = expected
    result.rhythm_worlds = n_apart
    result.rhythm_var = np.maximum(var, 0.0)
    return {"shuffles": shuffles, "unit": "week" if unit == WEEK_MS else "day", "seed": seed,
            "worlds_per_pass": per_pass, "actions_per_world": rows,
            "coverage_scale": round(float(np.median(scales[1:])), 6),
            "coverage_scale_range": [round(float(scales[1:].min()), 6), round(float(scales[1:].max()), 6)],
            "flat_coverage_scale": round(coverage(length, period), 6)}


COVERAGE_MAX = 2.0
HOUR_MS = 3_600_000


def _hourly_volume(engine, table, lo, period):
    """The trace's actions per hour of the circle (``period`` ms from ``lo``), as a numpy array."""
    import numpy as np

    hours = int(period // HOUR_MS)
    v = np.zeros(hours)
    got = engine.query(f"SELECT CAST(floor((t - {lo}) / {HOUR_MS}) AS BIGINT) AS h, count(*) AS n "
                       f"FROM {table} GROUP BY 1")
    h = got.column("h").to_numpy(zero_copy_only=False).astype(np.int64)
    v[np.clip(h, 0, hours - 1)] += got.column("n").to_numpy(zero_copy_only=False).astype(float)
    return v


def profile_coverage(volume, unit_hours: int):
    """Per shift of ``s`` whole units (index ``s``; 0 for no shift): how many more co-actions two
    accounts that follow the case's volume meet in the real alignment than when one is shifted by
    ``s`` units round the circle, ``sum V(t) V(t + 1) / sum V(t) V(t + s + 1)`` for the hourly
    volume ``V`` (an hour against the next, so that no hour's count multiplies itself: its own
    noise, and a burst within it, would weigh in the square and not in the shifts), kept within 1
    and :data:`COVERAGE_MAX`.

    With a flat volume over the span and an empty gap ``g`` it is :func:`coverage`'s
    ``(P - g) / (P - 2g)``. It also holds where the data do not fill their span evenly: a
    three-day collection whose fourth day holds only trailing reactions and whose first starts at
    night (the flat form 1.013 there, this one about 1.4: the shifted worlds moved dense hours onto
    empty ones). The cap keeps a case of years, whose volume sits in a few months, from expecting
    more than twice the shifted worlds' counts.
    """
    import numpy as np

    v = np.asarray(volume, float)
    units = len(v) // unit_hours
    # sum_t V(t) V(t - s U - 1) for every shift s at once: the circle as units x hours, each unit
    # against each unit shifted back an hour (products of whole counts: exact in any order); shift s
    # is the sum of the product matrix's s-th wrapped diagonal. 25 years of weeks: 1,300 x 1,300.
    a = v[: units * unit_hours].reshape(units, unit_hours)
    b = np.roll(v, 1)[: units * unit_hours].reshape(units, unit_hours)
    m = a @ b.T
    i = np.arange(units)
    cross = m[i[:, None], (i[:, None] - i[None, :]) % units].sum(axis=0)  # [s] = sum_i m[i, i - s]
    own = float(cross[0])
    out = np.ones(units)
    if own <= 0:  # no two neighbouring hours with actions: nothing to measure the profile by
        return out
    with np.errstate(divide="ignore"):
        out[1:] = np.where(cross[1:] > 0, np.clip(own / np.where(cross[1:] > 0, cross[1:], 1.0), 1.0, COVERAGE_MAX),
                           COVERAGE_MAX)
    return out


def coverage(length: int, period: int) -> float:
    """:func:`profile_coverage` for a flat volume: ``(P - g) / (P - 2g)`` for a span of ``length`` on a
    circle of ``period`` (``g`` the gap), exact for accounts that act at a steady rate all period
    (see :func:`rhythm_null`), at most :data:`COVERAGE_MAX`. Reported beside the profile's scales."""
    gap = period - length
    return float(min(COVERAGE_MAX, (period - gap) / max(period - 2 * gap, 1)))


def _finish(engine, name, key, window_s, min_weight, K, evidence_k, params, objects, counts, source=None,
            pairs=None, ids=None, paced=False):
    """Aggregate pairs into edges, keep an evidence sample, and compute each edge's null expectation.

    ``pairs`` is a relation (a table name, or SQL in parentheses; ``_pairs_{key}`` by default) with
    acc_a, acc_b, oid, rn_a, rn_b, dt_ms, t1 (the earlier action's time) and n_acc. With a minimum
    weight above 1 it is read twice and SQL pairs are never stored whole: once counted into weights,
    once more for the pairs of the edges kept (``_kept_``, ``weight >= min_weight``), which alone
    feed the edges' other aggregates, the evidence and the repeat correction; ``_edges_`` holds only
    kept edges. Also reads
    the codes of :func:`_codes` and ``_reach_{key}`` (one row per action with its ``n_within``);
    ``counts`` (account_id, trace, k) are the actions per account. The expectation (``expected``,
    the popularity null's lambda) comes from ``_lam_{key}`` (acc_a, acc_b, lam) when the caller
    made one (a trace with a null of its own), else from :func:`_popularity_null` over ``source``
    (the actions, with their ``stratum``). ``ids`` are the account ids in code order when the caller
    has them (else they are read from ``_accd_{key}``). Each helper table is dropped as soon as it has served,
    so that the engine's memory goes to the next step; the code tables stay for the evidence until
    ``release``.
    """
    pairs = pairs or f"_pairs_{key}"
    stats = engine.query(f"""
        SELECT sum(n_within) AS window_pairs,
               sum(CASE WHEN n_within > {K} THEN n_within - {K} ELSE 0 END) AS pairs_skipped_hot,
               sum(CASE WHEN n_within > {K} THEN 1 ELSE 0 END) AS actions_capped
        FROM _reach_{key}""").to_pylist()[0]
    if source is not None:
        _stratum_reach(engine, key, source)
    stats = {k: int(v or 0) for k, v in stats.items()}
    stats.update(actions=int(pa.compute.sum(counts.column("k")).as_py() or 0), objects=objects,
                 accounts=counts.num_rows)
    n_accounts = counts.num_rows
    if min_weight <= 1:  # every pair is kept: read them once
        engine.create_table(f"_kept_{key}", f"SELECT * FROM {pairs} p")
        pairs = f"_kept_{key}"
    # Weights first, with nothing else: most pairs co-act once (on a hot object nearly all), and a
    # count is the cheapest aggregate over hundreds of millions of them.
    engine.create_table(f"_weights_{key}", f"SELECT acc_a, acc_b, count(*) AS weight FROM {pairs} p GROUP BY acc_a, acc_b")
    totals = engine.query(f"SELECT count(*) AS n, sum(weight) AS w FROM _weights_{key}").to_pylist()[0]
    stats["cross_pairs"] = int(totals["w"] or 0)
    stats["candidate_pairs"] = int(totals["n"] or 0)
    if min_weight > 1:  # only the pairs of kept edges matter from here on
        # The kept edges' keys as a table of their own, whose size the engine then knows: it builds
        # the join's hash table on them and streams the pairs past it. Joined to a filter of the
        # weights, DuckDB built it on the pairs instead (at 10M posts, synchronized_posting: 194M
        # pairs, estimated at 9.9M, against 0.6M kept keys, estimated at 34M): 53 s against 27 s.
        engine.create_table(f"_keep_{key}", f"SELECT acc_a, acc_b FROM _weights_{key} WHERE weight >= {int(min_weight)}")
        engine.drop(f"_weights_{key}")
        engine.create_table(f"_kept_{key}", f"""
            SELECT p.* FROM {pairs} p JOIN _keep_{key} e ON e.acc_a = p.acc_a AND e.acc_b = p.acc_b""")
        engine.drop(f"_keep_{key}")
    else:
        engine.drop(f"_weights_{key}")
    engine.drop(f"_pairs_{key}")
    engine.drop(f"_reach_{key}")
    engine.create_table(f"_edges_{key}", f"""
        SELECT acc_a, acc_b, count(*) AS weight,
               -- fixed-point terms: the sum is exact, so its value does not depend on the order
               -- in which parallel workers add them (a float sum differs in the last bits)
               CAST(sum(CAST(ln(({n_accounts} + 1.0) / (n_acc + 0.0)) AS DECIMAL(18, 12))) AS DOUBLE)
                   AS rarity_weight,
               min(t1) AS first_at, max(t1 + abs(dt_ms)) AS last_at
        FROM _kept_{key} GROUP BY acc_a, acc_b""")
    # A pair's co-actions are on distinct objects unless an account acted twice on one object:
    # the (costly) distinct count runs only over the pairs on such objects.
    engine.create_table(f"_repeats_{key}", f"""
        SELECT p.acc_a, p.acc_b, count(DISTINCT p.oid) - count(*) AS fix
        FROM _kept_{key} p JOIN (SELECT oid FROM _objn_{key} WHERE n_act > n_acc) r ON r.oid = p.oid
        GROUP BY p.acc_a, p.acc_b""")
    engine.create_table(f"_evidence_{key}", f"""
        SELECT acc_a, acc_b, oid, rn_a, rn_b, dt_ms, CAST(k AS INTEGER) AS k FROM (
            SELECT p.*, row_number() OVER (PARTITION BY p.acc_a, p.acc_b
                                           ORDER BY abs(p.dt_ms), p.oid, p.rn_a, p.rn_b) AS k
            FROM _kept_{key} p WHERE {int(evidence_k)} > 0) s
        WHERE k <= {int(evidence_k)}""")
    engine.drop(f"_kept_{key}")
    stats.update(window_s=window_s, min_weight=min_weight, max_neighbors=K, **params)
    if source is not None:
        stats["strata"] = _popularity_null(engine, key, source, window_s if paced else None)
    if ids is None:
        ids = engine.query(f"SELECT account_id FROM _accd_{key} ORDER BY acc").column(0).combine_chunks()
    edges = _edge_table(engine, name, key, ids)
    for t in ("_edges_", "_repeats_", "_lam_"):
        engine.drop(f"{t}{key}")
    return TraceResult(name, edges, key, engine, stats, counts, account_ids=ids)


def _stratum_reach(engine, key, source) -> None:
    """``_accr_{key}``: per account and stratum, the popularity null's term
    ``reach = sum over its actions in the stratum of 2 W_o / (n_o - 1)``, and ``mass``, the sum of
    their objects' ``n_o`` (``reach / mass`` is the within-window chance of two actions on the
    account's objects, on average: the pace factor's baseline).

    ``n_o`` is the number of actions on the action's object and ``W_o`` the number of pairs of them
    within the window (counted before the hot-object cap). A random action of another account in
    the same stratum lands on object ``o`` with probability ``n_o / M_s`` (``M_s``: the stratum's
    actions) and then falls within the window of a given action there with probability about
    ``2 W_o / (n_o (n_o - 1))``. Each coded object gets its stratum by the stratum's code in
    ``_strc_{key}`` (kept for :func:`_popularity_null`). One statement: on Spark each is a job.
    """
    # strata as integer codes (a stratum is an id string, such as a retweeted author's): the tables
    # below hold one row per account and stratum, and per edge and shared stratum
    engine.create_table(f"_strc_{key}", f"""
        SELECT stratum, row_number() OVER (ORDER BY stratum) AS sid FROM (SELECT DISTINCT stratum FROM {source}) s""")
    engine.create_table(f"_accr_{key}", f"""
        WITH ow AS (SELECT oid, sum(n_within) AS w, count(*) AS n FROM _reach_{key} GROUP BY oid),
             os AS (SELECT o.oid, c.sid FROM _objn_{key} o
                    JOIN (SELECT object, min(stratum) AS stratum FROM {source} GROUP BY object) s
                      ON s.object = o.object
                    JOIN _strc_{key} c ON c.stratum = s.stratum)
        SELECT r.acc, s.sid, sum({_fixed(f"CAST(2 * o.w AS DOUBLE) / CAST(o.n - 1 AS DOUBLE)")}) AS reach,
               sum(o.n) AS mass
        FROM _reach_{key} r JOIN ow o ON o.oid = r.oid JOIN os s ON s.oid = r.oid
        WHERE o.n > 1 GROUP BY r.acc, s.sid""")


FIXED = 1e9  # fixed-point units per 1.0 in sums that must not depend on the order of parallel additions

# A reaction's pace: seconds from the first reaction to the same post, in these bins (the last is
# read as ending a day after the post's first reaction, for the overlap of two bins).
PACE_BINS = (0.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0)
PACE_PRIOR = 2.0  # pseudo-reactions at the stratum's own paces, in an account's pace histogram


def pace_overlap(window_s: float) -> list:
    """``O[i][j]``: the probability that two times drawn uniformly from pace bins ``i`` and ``j`` are
    within ``window_s`` of each other. Exact: for ``x`` in bin ``i`` the share of bin ``j`` within
    the window is piecewise linear in ``x``, so the trapezoid rule over its breakpoints integrates it."""
    w = float(window_s)
    bins = list(zip(PACE_BINS[:-1], PACE_BINS[1:]))

    def share(x, lo, hi):
        return max(0.0, min(hi, x + w) - max(lo, x - w)) / (hi - lo)

    out = []
    for a, b in bins:
        row = []
        for lo, hi in bins:
            xs = sorted({a, b, *(v for v in (lo - w, lo + w, hi - w, hi + w) if a < v < b)})
            area = sum((x1 - x0) * (share(x0, lo, hi) + share(x1, lo, hi)) / 2 for x0, x1 in zip(xs, xs[1:]))
            row.append(area / (b - a))
        out.append(row)
    return out


def pace_bin(expr: str) -> str:
    """The pace bin of ``expr`` (seconds), as engine-neutral SQL."""
    cases = " ".join(f"WHEN {expr} < {hi!r} THEN {i}" for i, hi in enumerate(PACE_BINS[1:-1]))
    return f"CASE {cases} ELSE {len(PACE_BINS) - 2} END"


def reaction_pace(engine, posts: str = "posts") -> str:
    """``(ref_post_id, first_t)``: each reacted-to post's first reaction (epoch ms), as SQL over ``posts``,
    for a trace's actions to join: a reaction's pace is ``(t - first_t) / 1000``. The first reaction,
    not the post itself, which is often not in the data (an archive holds its own accounts' posts)."""
    from unmask.traces.sqltext import t_ms

    return f"""(SELECT ref_post_id, min({t_ms(engine)}) AS first_t FROM {posts}
               WHERE kind <> 'original' AND ref_post_id IS NOT NULL GROUP BY ref_post_id)"""


def _fixed(expr: str) -> str:
    """A non-negative double as an integer number of 1e-9 units: summed exactly, in any order, on
    either engine (both round half away from zero, and an integer sum has no rounding at all)."""
    return f"CAST(round(({expr}) * {FIXED!r}) AS BIGINT)"


def _real(expr: str) -> str:
    """A fixed-point integer (see :func:`_fixed`) back as a double."""
    return f"(CAST({expr} AS DOUBLE) / {FIXED!r})"


PRIOR = 1.0  # pseudo-actions, at the strata's overall shares, in an account's preference for each stratum


def _popularity_null(engine, key, source, pace_window=None) -> int:
    """``_lam_{key}``: each kept edge's expected co-actions under the stratified popularity null.

    Each object keeps its crowd and how its actions bunch in time; each account keeps its volume
    ``k_b`` and its preference for each stratum (a stratum is, for a retweet, the retweeted post's
    author: whom the account follows; traces without strata have one). Account ``b``'s actions
    land in stratum ``s`` in proportion to ``(k_bs - 1 + PRIOR * M_s / M) / (k_b - 1 + PRIOR)`` and on
    the stratum's objects by popularity, so ``b`` is expected to co-act
    ``sum_s k_b * pref_bs * reach_as / M_s`` times with ``a``; the larger direction is used.

    The ``- 1`` leaves out one of ``b``'s own actions in the stratum: the co-action under test is
    no evidence that ``b`` follows the author. A regular of a news account (many retweets of it)
    is expected to share its posts with the other regulars; an account that retweeted an author
    once, at the same second as twenty others, is judged as if it had picked the author at random
    (``PRIOR``: the global null). With one stratum this is exactly the unstratified popularity null
    (``k_b * reach_a / M``). Summed in fixed point (the same value whatever the order of parallel
    additions). Returns the number of strata.

    Reactions (a trace with ``paced`` actions, ``pace_window`` its window) also keep each account's
    pace: the within-window chance ``2 W_o / (n_o (n_o - 1))`` is that of two of the stratum's
    reactions, but a regular with notifications on retweets every post within seconds, and two such
    regulars meet on every post they both retweet. Each shared stratum's term is multiplied by the
    pair's pace factor there, ``max(1, h_a O h_b / max(H_s O H_s, reach_as / mass_as))``: ``h`` an
    account's histogram of paces in the stratum (:data:`PACE_BINS`, shrunk towards the stratum's
    ``H_s`` with :data:`PACE_PRIOR` pseudo-reactions), ``O`` the chance that two paces of two bins
    fall within the window (:func:`pace_overlap`), ``reach_as / mass_as`` the within-window chance on
    ``a``'s own objects (what ``reach`` already expects there). Two accounts of the stratum's usual
    pace get 1 (the null as above), and so do accounts whose own objects are all reacted to within
    seconds (an operation's posts: their bunching is already expected); never below 1, so a pace can
    only explain co-actions, never make them suspect. What it gives up: boosters who retweet a
    popular author's posts within seconds, among its slower audience, are expected to meet as often
    as superfans are; their evidence must then be which posts they pick, and what else they share.
    """
    alpha = f"CAST({PRIOR!r} AS DOUBLE)"  # doubles throughout: both engines then do the same arithmetic
    engine.create_table(f"_acck_{key}", f"""
        SELECT d.acc, c.sid, count(*) AS k
        FROM {source} a JOIN _accd_{key} d ON d.account_id = a.account_id JOIN _strc_{key} c ON c.stratum = a.stratum
        GROUP BY d.acc, c.sid""")
    if pace_window is not None:
        _pace_tables(engine, key, source, pace_window)
    engine.drop(f"_strc_{key}")
    strm = f"(SELECT sid, sum(k) AS m FROM _acck_{key} GROUP BY sid)"  # each stratum's actions
    got = engine.query(f"SELECT count(*) AS n, sum(m) AS m FROM {strm} s").to_pylist()[0]
    strata = int(got["n"])
    total = f'CAST({float(got["m"] or 1.0)!r} AS DOUBLE)'
    # per account: its actions (kt, counted by _codes), its whole reach over every stratum (rt) and
    # the number of strata it acted in (ns)
    engine.create_table(f"_acct_{key}", f"""
        SELECT d.acc, d.k AS kt, coalesce(r.rt, 0) AS rt, coalesce(n.ns, 0) AS ns
        FROM _accd_{key} d LEFT JOIN (SELECT acc, sum(reach) AS rt FROM _accr_{key} GROUP BY acc) r ON r.acc = d.acc
        LEFT JOIN (SELECT acc, count(*) AS ns FROM _acck_{key} GROUP BY acc) n ON n.acc = d.acc""")
    # The strata each kept edge's two accounts share, in statements of their own (in one query with
    # the rest, the planner may pair the accounts of a crowded stratum before it meets the edges):
    # each edge is spread over the strata of whichever account has fewer (a fan of fifty authors who
    # co-acts with a fan of two gives two rows, not fifty), then meets the other account's.
    engine.create_table(f"_eside_{key}", f"""
        SELECT e.acc_a, e.acc_b, ta.ns <= tb.ns AS a_fewer
        FROM _edges_{key} e JOIN _acct_{key} ta ON ta.acc = e.acc_a JOIN _acct_{key} tb ON tb.acc = e.acc_b""")
    engine.create_table(f"_ea_{key}", f"""
        SELECT e.acc_a, e.acc_b, e.a_fewer, k.sid, k.k
        FROM _eside_{key} e JOIN _acck_{key} k ON k.acc = CASE WHEN e.a_fewer THEN e.acc_a ELSE e.acc_b END""")
    engine.drop(f"_eside_{key}")
    engine.create_table(f"_eshare_{key}", f"""
        SELECT e.acc_a, e.acc_b, e.sid,
               CASE WHEN e.a_fewer THEN e.k ELSE o.k END AS ka_k, CASE WHEN e.a_fewer THEN o.k ELSE e.k END AS kb_k
        FROM _ea_{key} e JOIN _acck_{key} o
          ON o.acc = CASE WHEN e.a_fewer THEN e.acc_b ELSE e.acc_a END AND o.sid = e.sid""")
    engine.drop(f"_ea_{key}")
    # per edge and direction: over the shared strata, sum of pref-weighted reach (s1) and plain reach (s2)
    pace_joins, dot = "", None
    if pace_window is not None:
        nb = len(PACE_BINS) - 1
        dot = " + ".join(f"coalesce(pa.g{j}, sp.g{j}) * coalesce(pb.h{j}, sp.h{j})" for j in range(nb))
        pace_joins = f"""
                 LEFT JOIN _spc_{key} sp ON sp.sid = e.sid
                 LEFT JOIN _pace_{key} pa ON pa.acc = e.acc_a AND pa.sid = e.sid
                 LEFT JOIN _pace_{key} pb ON pb.acc = e.acc_b AND pb.sid = e.sid"""

    def factor_of(r):
        """The pace factor of the direction whose reach is ``r``'s: the pair's within-window chance at
        its paces against the larger of the stratum's (two of its reactions at their usual paces)
        and that of ``r``'s own objects (``reach / mass``: an operation's own posts, all retweeted
        within seconds, already expect it). Nothing without paces."""
        if dot is None:
            return ""
        base = f"greatest(sp.ts, coalesce({_real(f'{r}.reach')} / CAST({r}.mass AS DOUBLE), 0.0))"
        return f" * (CASE WHEN sp.sid IS NULL THEN 1.0 ELSE greatest(1.0, ({dot}) / {base}) END)"

    engine.create_table(f"_lam_{key}", f"""
        WITH sh AS (
            SELECT e.acc_a, e.acc_b,
                   sum({_fixed(f"{_real('coalesce(ra.reach, 0)')} * (e.kb_k - 1 + {alpha} * m.m / {total}) / m.m{factor_of('ra')}")})
                       AS s1_ab,
                   sum(coalesce(ra.reach, 0)) AS s2_ab,
                   sum({_fixed(f"{_real('coalesce(rb.reach, 0)')} * (e.ka_k - 1 + {alpha} * m.m / {total}) / m.m{factor_of('rb')}")})
                       AS s1_ba,
                   sum(coalesce(rb.reach, 0)) AS s2_ba
            FROM _eshare_{key} e
                 JOIN {strm} m ON m.sid = e.sid
                 LEFT JOIN _accr_{key} ra ON ra.acc = e.acc_a AND ra.sid = e.sid
                 LEFT JOIN _accr_{key} rb ON rb.acc = e.acc_b AND rb.sid = e.sid{pace_joins}
            GROUP BY e.acc_a, e.acc_b)
        SELECT sh.acc_a, sh.acc_b,
               CAST(tb.kt AS DOUBLE) / (tb.kt - 1 + {alpha}) * ({_real('sh.s1_ab')}
                   + {alpha} * {_real('ta.rt - sh.s2_ab')} / {total}) AS lam_ab,
               CAST(ta.kt AS DOUBLE) / (ta.kt - 1 + {alpha}) * ({_real('sh.s1_ba')}
                   + {alpha} * {_real('tb.rt - sh.s2_ba')} / {total}) AS lam_ba
        FROM sh JOIN _acct_{key} ta ON ta.acc = sh.acc_a JOIN _acct_{key} tb ON tb.acc = sh.acc_b""")
    for t in ("_acck_", "_accr_", "_acct_", "_eshare_") + (("_pace_", "_spc_") if pace_window is not None else ()):
        engine.drop(f"{t}{key}")
    return strata


def _pace_tables(engine, key, source, window_s) -> None:
    """``_spc_{key}`` (sid, h0.., g0.., ts): each stratum's pace histogram ``H`` (shares of its paced
    actions per bin), ``g = H O`` and ``ts = H O H``; ``_pace_{key}`` (acc, sid, h0.., g0..): each
    account's shrunk histogram ``h = (counts + PACE_PRIOR * H) / (n + PACE_PRIOR)`` and ``g = h O``
    in each stratum it reacted in. ``O`` is :func:`pace_overlap` of the window, as literals."""
    nb = len(PACE_BINS) - 1
    O = pace_overlap(window_s)
    counts = ", ".join(f"sum(CASE WHEN b = {i} THEN 1 ELSE 0 END) AS c{i}" for i in range(nb))
    engine.create_table(f"_pacec_{key}", f"""
        SELECT d.acc, c.sid, count(*) AS n, {counts}
        FROM (SELECT account_id, stratum, {pace_bin('pace')} AS b FROM {source} WHERE pace IS NOT NULL) a
             JOIN _accd_{key} d ON d.account_id = a.account_id JOIN _strc_{key} c ON c.stratum = a.stratum
        GROUP BY d.acc, c.sid""")

    # g_j = sum_i h_i O[i][j], with the overlaps as literals
    g = ", ".join("(" + " + ".join(f"h{i} * {O[i][j]!r}" for i in range(nb)) + f") AS g{j}" for j in range(nb))

    shares = ", ".join(f"CAST(sum(c{i}) AS DOUBLE) / CAST(sum(n) AS DOUBLE) AS h{i}" for i in range(nb))
    engine.create_table(f"_spch_{key}", f"SELECT sid, {shares} FROM _pacec_{key} GROUP BY sid")
    ts = " + ".join(f"h{j} * ({' + '.join(f'h{i} * {O[i][j]!r}' for i in range(nb))})" for j in range(nb))
    hs = ", ".join(f"h{i}" for i in range(nb))
    engine.create_table(f"_spc_{key}", f"""
        SELECT sid, {hs}, {g}, greatest({ts}, 1e-12) AS ts FROM _spch_{key}""")
    prior = f"CAST({PACE_PRIOR!r} AS DOUBLE)"
    shrunk = ", ".join(f"(CAST(p.c{i} AS DOUBLE) + {prior} * s.h{i}) / (CAST(p.n AS DOUBLE) + {prior}) AS h{i}"
                       for i in range(nb))
    engine.create_table(f"_pace_{key}", f"""
        SELECT acc, sid, {hs}, {g} FROM (
            SELECT p.acc, p.sid, {shrunk} FROM _pacec_{key} p JOIN _spch_{key} s ON s.sid = p.sid) x""")
    engine.drop(f"_pacec_{key}")
    engine.drop(f"_spch_{key}")


def _edge_table(engine, name, key, ids) -> pa.Table:
    """The kept edges: the engine gives account codes as positions in ``_accd_`` (``ids``) and ``n_objects``
    (the weight, corrected where an account acted twice on one object); ids come by an Arrow take.

    Nothing here converts through numpy: pyarrow imports pandas on its first numpy conversion,
    which would cost a small trace a quarter of its run time."""
    coded = engine.fetch(f"""
        SELECT e.acc_a - 1 AS ia, e.acc_b - 1 AS ib, CAST(0 AS TINYINT) AS z, e.weight, e.rarity_weight,
               e.weight + coalesce(r.fix, 0) AS n_objects, e.first_at, e.last_at,
               CASE WHEN l.lam_ab > l.lam_ba THEN l.lam_ab ELSE l.lam_ba END AS expected
        FROM _edges_{key} e LEFT JOIN _repeats_{key} r ON r.acc_a = e.acc_a AND r.acc_b = e.acc_b
             LEFT JOIN _lam_{key} l ON l.acc_a = e.acc_a AND l.acc_b = e.acc_b
        ORDER BY e.acc_a, e.acc_b""")
    return pa.table({"account_a": ids.take(coded.column("ia")), "account_b": ids.take(coded.column("ib")),
                     "trace": _one(name).take(coded.column("z")),
                     **{c: coded.column(c) for c in EDGE_COLUMNS[3:]}, "expected": coded.column("expected")})


def _one(value: str) -> pa.Array:
    """A one-entry string array; taken at a column of zeros it makes a constant column. Built from
    its buffers: pyarrow's first conversion from Python or numpy objects imports pandas, and a
    query would cost a statement (a job on Spark)."""
    data = value.encode()
    return pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(struct.pack("=ii", 0, len(data))),
                                                  pa.py_buffer(data)])
