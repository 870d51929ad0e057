import numpy as np
import pytest

from tracekit import make_case, post
from unmask.network.fusion import fuse
from unmask.network.significance import bh, trace_pvalues
from unmask.traces import run_trace


def test_bh_matches_the_definition():
    p = np.array([0.01, 0.04, 0.03, 0.5, 0.001])
    q = bh(p)
    assert np.allclose(q, [0.025, 0.05, 0.05, 0.5, 0.005])
    assert np.allclose(bh(p, m=10), np.minimum(1, [0.05, 0.1, 0.1, 1.0, 0.01]))


def test_qvalues_in_the_engine_equal_bh():
    """store_qvalues (BH in SQL, used by detect) gives bh's values, with tied p-values and m > rows."""
    import pyarrow as pa

    from unmask.engines import get_engine
    from unmask.network.significance import store_qvalues

    rng = np.random.default_rng(3)
    p = np.round(rng.uniform(0, 0.2, 500), 3)  # rounding makes many ties
    eng = get_engine("duckdb")
    eng.register("_src", pa.table({"trace": pa.array(["t"] * 500), "account_a": pa.array([f"a{i}" for i in range(500)]),
                                   "account_b": pa.array(["z"] * 500), "p_value": pa.array(p)}))
    assert store_qvalues(eng, "_src", "_out", 2000) == 500
    got = eng.query("SELECT account_a, q_value FROM _out").to_pylist()
    eng.close()
    want = dict(zip([f"a{i}" for i in range(500)], bh(p, 2000)))
    assert all(r["q_value"] == want[r["account_a"]] for r in got)
    assert len({r["q_value"] for r in got}) > 10


def _chance_world(seed, ring=False):
    rng = np.random.default_rng(seed)
    rows, n_obj = [], 400
    pop = 1.0 / np.arange(1, n_obj + 1)
    pop /= pop.sum()
    obj_t = rng.uniform(0, 10 * 86400, n_obj)
    for o in range(n_obj):
        rows.append(post(f"o{o}", "source", float(obj_t[o]), f"object {o}"))
    k = 0
    for a in range(200):
        for o in rng.choice(n_obj, 25, p=pop, replace=False):
            rows.append(post(f"r{k}", f"acc{a:03d}", float(obj_t[o] + rng.exponential(600)), kind="retweet",
                             ref=f"o{o}"))
            k += 1
    if ring:
        for o in rng.choice(np.arange(100, n_obj), 15, replace=False):
            for m in range(8):
                rows.append(post(f"ring{k}", f"ring{m}", float(obj_t[o] + 30 + rng.uniform(0, 20)),
                                 kind="retweet", ref=f"o{o}"))
                k += 1
    return rows


def test_pure_chance_gives_few_false_links_and_calibrated_p(tmp_path):
    with make_case(tmp_path, _chance_world(1)) as case:
        res = run_trace(case.engine, "co_retweet", window_s=600, min_weight=1)
    table = trace_pvalues(res)
    p = table.column("p_value").to_numpy()
    all_pairs = 200 * 199 / 2  # pairs that never co-acted have p = 1
    assert len(p) > 1000
    for alpha in (0.01, 0.05, 0.1):
        assert (p <= alpha).sum() <= alpha * all_pairs * 1.2
    q = bh(p, res.stats["candidate_pairs"])
    assert (q <= 0.05).sum() <= 3  # FDR control under the complete null


def test_planted_ring_is_found(tmp_path):
    with make_case(tmp_path, _chance_world(2, ring=True)) as case:
        res = run_trace(case.engine, "co_retweet", window_s=600, min_weight=2)
    table = trace_pvalues(res)
    q = bh(table.column("p_value").to_numpy(), res.stats["candidate_pairs"])
    sig = {(a, b) for a, b, qq in zip(table.column("account_a").to_pylist(), table.column("account_b").to_pylist(), q)
           if qq <= 0.05}
    ring = {(f"ring{i}", f"ring{j}") for i in range(8) for j in range(i + 1, 8)}
    assert ring <= sig
    assert len(sig - ring) <= 3


def test_fusion_keeps_per_trace_evidence_and_rewards_agreement():
    import pyarrow as pa

    def t(name, rows):
        return pa.table({"account_a": [r[0] for r in rows], "account_b": [r[1] for r in rows],
                         "trace": [name] * len(rows), "weight": [r[2] for r in rows], "p_value": [r[3] for r in rows]})

    fused = fuse([t("co_retweet", [("a", "b", 5, 1e-3), ("c", "d", 9, 1e-12)]),
                  t("co_text", [("a", "b", 3, 1e-3)])], traces=["co_retweet", "co_text"], m_pairs=2)
    rows = {(r["account_a"], r["account_b"]): r for r in fused.to_pylist()}
    assert rows[("a", "b")]["n_traces"] == 2 and "co_text:3" in rows[("a", "b")]["traces"]
    single = fuse([t("co_retweet", [("a", "b", 5, 1e-3)])], traces=["co_retweet", "co_text"],
                  m_pairs=1).column("p_fused")[0].as_py()
    assert rows[("a", "b")]["p_fused"] < single  # two agreeing traces beat one
    assert rows[("c", "d")]["p_fused"] < 1e-10  # one strong trace carries a pair alone
    # the evidence text lists a pair's traces in name order, whatever order the rows came in
    assert rows[("a", "b")]["traces"] == "co_retweet:5:0.001;co_text:3:0.001"
    assert [(r["account_a"], r["account_b"]) for r in fused.to_pylist()] == [("a", "b"), ("c", "d")]
    with pytest.raises(ValueError, match="co_text"):  # edges of a trace that did not run are an error
        fuse([t("co_text", [("a", "b", 3, 1e-3)])], traces=["co_retweet"], m_pairs=1)


def _cascade_world(seed, n_acc=300, n_obj=500, per_account=30):
    """Pure chance with crowded objects: popular posts are retweeted in bursts of minutes (viral
    cascades), rare ones over hours, and half the accounts have a taste for popular posts."""
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, n_obj + 1) ** 1.1
    obj_t = rng.uniform(0, 10 * 86400, n_obj)
    spread = np.where(np.arange(n_obj) < 25, 120.0, 4 * 3600.0)  # the 25 most popular: cascades
    rows = [post(f"o{o}", "source", float(obj_t[o]), f"object {o}") for o in range(n_obj)]
    k = 0
    for a in range(n_acc):
        taste = pop ** (1.4 if a % 2 else 1.0)
        for o in rng.choice(n_obj, per_account, p=taste / taste.sum(), replace=False):
            rows.append(post(f"r{k}", f"acc{a:03d}", float(obj_t[o] + rng.exponential(spread[o])), kind="retweet",
                             ref=f"o{o}"))
            k += 1
    return rows


def test_crowded_objects_do_not_make_links_and_candidate_p_values_are_uniform(tmp_path):
    """The null knows object popularity and timing: cascades that every account joins make no
    significant link, and the p-values of the pairs that co-acted are (conservatively) uniform."""
    with make_case(tmp_path, _cascade_world(5)) as case:
        res = run_trace(case.engine, "co_retweet", window_s=60, min_weight=1)
    table = trace_pvalues(res)
    p = table.column("p_value").to_numpy()
    assert len(p) == res.stats["candidate_pairs"] > 2000
    for t in (0.01, 0.05, 0.1, 0.25, 0.5):
        assert (p <= t).mean() <= t * 1.1 + 0.005, t
    q = bh(p, res.stats["candidate_pairs"])
    assert (q <= 0.05).sum() == 0


def test_the_null_knows_how_crowded_and_bunched_an_object_is(tmp_path):
    """Three co-retweets inside three viral cascades (40 accounts within a minute each) earn a pair
    far less than three co-retweets of posts nobody else touched."""
    rows, k = [], 0
    for c in range(3):  # cascades: crowd0..crowd39 plus x and y, all within a minute
        rows.append(post(f"v{c}", "src", c * 86400.0, f"viral {c}"))
        for a in ["x", "y"] + [f"crowd{i:02d}" for i in range(40)]:
            rows.append(post(f"r{k}", a, c * 86400.0 + 5 + (k % 50), kind="retweet", ref=f"v{c}"))
            k += 1
    for c in range(3):  # rare posts: only u and v, 20 s apart
        rows.append(post(f"n{c}", "src", c * 86400.0 + 40000, f"niche {c}"))
        rows.append(post(f"r{k}", "u", c * 86400.0 + 40010, kind="retweet", ref=f"n{c}"))
        rows.append(post(f"r{k + 1}", "v", c * 86400.0 + 40030, kind="retweet", ref=f"n{c}"))
        k += 2
    for a in ("u", "v", "x", "y"):  # the same volume for all four: 6 retweets each
        for j in range(3):
            rows.append(post(f"s{a}{j}", "src", 500000.0 + j * 7000, f"solo {a} {j}"))
            rows.append(post(f"r{k}", a, 500010.0 + j * 7000 + ord(a), kind="retweet", ref=f"s{a}{j}"))
            k += 1
    with make_case(tmp_path, rows) as case:
        res = run_trace(case.engine, "co_retweet", window_s=60, min_weight=1)
    table = {(r["account_a"], r["account_b"]): r for r in trace_pvalues(res).to_pylist()}
    crowd, rare = table[("x", "y")], table[("u", "v")]
    assert crowd["weight"] == rare["weight"] == 3
    assert crowd["expected"] > 20 * rare["expected"]
    assert crowd["p_value"] > 0.3 and rare["p_value"] < 0.02


def test_vectorised_fusion_matches_the_definition():
    """fuse() on random per-trace links equals the definition computed pair by pair: per family the
    best trace times the family's size, then min(1, 2 * min(Brown, Tippett)) across families."""
    import pyarrow as pa
    from scipy.stats import chi2

    rng = np.random.default_rng(3)
    names = [f"a{i:02d}" for i in range(30)]
    traces = ["co_text", "near_duplicate_text", "co_retweet", "co_link"]  # families: text (2), retweet, link
    family = {"co_text": "text", "near_duplicate_text": "text", "co_retweet": "retweet", "co_link": "link"}
    tables, per_pair = [], {}
    for trace in traces:
        rows = set()
        while len(rows) < 60:
            i, j = sorted(rng.choice(30, 2, replace=False))
            rows.add((names[i], names[j]))
        rows = sorted(rows)
        w = rng.integers(1, 9, len(rows))
        p = 10.0 ** -rng.uniform(0, 12, len(rows))
        tables.append(pa.table({"account_a": [r[0] for r in rows], "account_b": [r[1] for r in rows],
                                "trace": [trace] * len(rows), "weight": w, "p_value": p}))
        for r, ww, pp in zip(rows, w, p):
            per_pair.setdefault(r, {})[trace] = (int(ww), float(pp))
    fused = {(r["account_a"], r["account_b"]): r for r in fuse(tables, traces=traces, m_pairs=500).to_pylist()}
    assert sorted(fused) == sorted(per_pair)
    fams = ["link", "retweet", "text"]
    size = {"link": 1, "retweet": 1, "text": 2}
    pairs = sorted(per_pair)
    pf = np.ones((len(pairs), 3))
    for i, pair in enumerate(pairs):
        for t, (_, pv) in per_pair[pair].items():
            k = fams.index(family[t])
            pf[i, k] = min(pf[i, k], pv)
    pf = np.minimum(1.0, pf * np.array([size[f] for f in fams]))
    x = -2 * np.log(pf)
    cov = np.cov(x, rowvar=False)
    var = 4 * 3 + 2 * sum(min(4.0, max(0.0, cov[i, j])) for i in range(3) for j in range(i + 1, 3))
    c, k = var / 12.0, 72.0 / var
    for i, pair in enumerate(pairs):
        brown = chi2.sf(x[i].sum() / c, k)
        pmin = pf[i].min()
        tip = 3 * pmin if pmin < 1e-12 else 1 - (1 - pmin) ** 3
        want = min(1.0, 2 * min(brown, tip))
        got = fused[pair]
        assert got["p_fused"] == pytest.approx(want, rel=1e-9)
        d = per_pair[pair]
        assert got["n_traces"] == len(d)
        assert got["traces"] == ";".join(f"{t}:{w}:{pv:.3g}" for t, (w, pv) in sorted(d.items()))


def _fused_null(dependent: bool, n=3000, seed=9):
    """Fused p-values of ``n`` null pairs seen by six traces (three families), the traces' p-values
    uniform and either one shared value (the same posts counted six times) or independent."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    traces = ["co_text", "near_duplicate_text", "co_link", "co_domain", "co_hashtag", "synchronized_posting"]
    base = rng.uniform(size=n)
    tables = []
    for t in traces:
        p = base if dependent else rng.uniform(size=n)
        tables.append(pa.table({"account_a": [f"a{i:05d}" for i in range(n)], "account_b": ["z"] * n,
                                "trace": [t] * n, "weight": [2] * n, "p_value": p}))
    return fuse(tables, traces=traces, m_pairs=n).column("p_fused").to_numpy()


@pytest.mark.parametrize("dependent", [True, False])
def test_fused_pvalues_are_not_below_uniform_whatever_the_dependence(dependent):
    """Six traces that count the same posts (one p-value copied six times) must not fuse into a
    smaller p-value than one of them gives (Fisher gave 7.5e-5 from six times 0.01); independent
    traces neither."""
    from scipy.stats import kstest

    fused = _fused_null(dependent)
    assert kstest(fused, "uniform", alternative="greater").pvalue > 0.01
    for t in (0.001, 0.01, 0.05):
        assert (fused <= t).mean() <= t * 1.2 + 0.002, t


def test_six_traces_on_the_same_posts_count_once():
    import pyarrow as pa

    traces = ["co_text", "near_duplicate_text", "co_link", "co_domain", "co_hashtag", "synchronized_posting"]
    rng = np.random.default_rng(4)
    n = 500
    base = rng.uniform(size=n)
    base[0] = 0.01
    tables = [pa.table({"account_a": [f"a{i:04d}" for i in range(n)], "account_b": ["z"] * n, "trace": [t] * n,
                        "weight": [2] * n, "p_value": base}) for t in traces]
    fused = fuse(tables, traces=traces, m_pairs=n).to_pylist()
    first = next(r for r in fused if r["account_a"] == "a0000")
    assert first["p_fused"] > 0.01, first  # not 7.5e-5: one piece of evidence, counted once


def test_no_expectation_is_no_evidence():
    """An edge whose null expectation is missing, zero or NaN gets p = 1, never 0."""
    from unmask.network.significance import tail_given_seen

    p = tail_given_seen(np.array([3, 3, 3, 3]), np.array([0.0, np.nan, -1.0, 0.5]))
    assert list(p[:3]) == [1.0, 1.0, 1.0] and 0 < p[3] < 1


def test_rhythm_pvalue_carries_the_uncertainty_of_few_worlds():
    from unmask.network.significance import rhythm_pvalue

    w = np.array([4.0, 4.0, 4.0])
    p = rhythm_pvalue(w, np.array([0.0, 0.0, 0.0]), np.array([10, 100, 0]))
    assert 1e-4 < p[0] < 1e-3  # zero hits in 10 worlds: no proof of a zero rate
    assert p[1] < p[0] / 10  # a hundred worlds say much more
    assert p[2] == 1.0  # timelines that never moved apart: no evidence
    # With a prior learnt from the trace's other edges (shifted counts about the popularity expectation,
    # shape 2), a rare pair's zero hits say more than Jeffreys' prior lets them, and a busy pair's less.
    rare = rhythm_pvalue(w[:1], np.zeros(1), np.array([10]), lam_pop=np.array([0.01]), prior=(2.0, 1.0))
    busy = rhythm_pvalue(w[:1], np.zeros(1), np.array([10]), lam_pop=np.array([3.0]), prior=(2.0, 1.0))
    assert rare[0] < p[0] / 100 and busy[0] > p[0]
    # Scheduled bots: hundreds of co-actions in every shifted world, how many depending on which days
    # line up (sd 80 around 386). 486 in the observed world is within that spread, not a Poisson outlier.
    bots = rhythm_pvalue(np.array([486.0]), np.array([386.0]), np.array([8]), var=np.array([6400.0]))
    assert bots[0] > 0.05 and rhythm_pvalue(np.array([486.0]), np.array([386.0]), np.array([8]))[0] < 1e-4


def _rhythm_world(seed, n_acc=150, weeks=8):
    """Every account posts on its own daily rhythm, week after week, one of a few hashtags each time:
    a world drawn from the rhythm null itself (shifting a timeline by whole weeks changes nothing
    about how it was made)."""
    rng = np.random.default_rng(seed)
    tags = [f"tag{i}" for i in range(6)]
    pop = 1.0 / np.arange(1, 7)
    rows, k = [], 0
    for a in range(n_acc):
        peak = rng.uniform(8, 22)  # the account's favourite hour
        n = rng.integers(60, 160)
        day = rng.integers(0, weeks * 7, n)
        hour = np.clip(rng.normal(peak, 1.0, n), 0, 23.99)
        for d, h in zip(day, hour):
            tag = tags[rng.choice(6, p=pop / pop.sum())]
            rows.append(post(f"p{k}", f"acc{a:03d}", float(d * 86400 + h * 3600), text=f"post {k} #{tag}",
                             hashtags=[tag]))
            k += 1
    return rows


def test_rhythm_pvalues_are_not_below_uniform_on_a_world_drawn_from_the_rhythm_null(tmp_path):
    from scipy.stats import kstest

    from unmask.network.significance import fit_rhythm_prior, rhythm_pvalue

    with make_case(tmp_path, _rhythm_world(2)) as case:
        res = run_trace(case.engine, "co_hashtag", window_s=300, min_weight=1, shuffles=10, seed=3)
    w = res.edges.column("weight").to_numpy()
    lam = res.edges.column("expected").to_numpy()
    prior = fit_rhythm_prior(res.rhythm_expected, res.rhythm_worlds, lam)
    assert prior is not None and prior[1] > 1  # aligned hours: more co-actions than popularity alone expects
    for p in (rhythm_pvalue(w, res.rhythm_expected, res.rhythm_worlds),  # Jeffreys, edge by edge
              rhythm_pvalue(w, res.rhythm_expected, res.rhythm_worlds, lam, prior),  # empirical Bayes
              rhythm_pvalue(w, res.rhythm_expected, res.rhythm_worlds, lam, prior, res.rhythm_var)):  # as detect
        assert len(p) > 2000 and (w >= 2).sum() > 300 and res.stats["rhythm_null"]["unit"] == "week"
        assert kstest(p, "uniform", alternative="greater").pvalue > 0.01, np.sort(p)[:10]
        assert (p <= 0.01).mean() <= 0.01 + 3 * np.sqrt(0.01 * 0.99 / len(p))  # within three standard errors


def test_family_dependence_is_not_set_by_the_coordinated_pairs():
    """A few pairs extreme in two families at once (volunteers who co-link and co-reply) must not
    make Brown's method treat two independent families as dependent for every other pair; two
    truly dependent null families still read as dependent (covariance near 4)."""
    from unmask.network.fusion import null_covariance

    rng = np.random.default_rng(8)
    x = -2 * np.log(rng.uniform(size=(5000, 2)))
    x[:60] = 600.0  # sixty coordinated pairs at p ~ 1e-130 in both families
    assert np.cov(x, rowvar=False)[0, 1] > 100  # the plain estimate: driven by those sixty rows
    assert abs(null_covariance(x)[0, 1]) < 0.3
    same = -2 * np.log(rng.uniform(size=5000))
    assert null_covariance(np.c_[same, same])[0, 1] == pytest.approx(4.0, abs=0.4)


def test_rhythm_null_follows_the_volume_of_a_short_uneven_collection(tmp_path):
    """Three dense days of schedulers and one late straggler: the span is 3.9 days on a 4-day
    circle, so the flat coverage (P - g) / (P - 2g) is about 1.03, but a day's shift moves a dense
    day onto the empty fourth and the shifted worlds see two thirds of the real overlap. The
    volume's own profile scales each world by that (about 1.5): the heavy pairs are expected what
    they meet, and none looks coordinated."""
    from unmask.network.significance import rhythm_pvalue
    from unmask.traces.base import coverage, profile_coverage

    rng = np.random.default_rng(5)
    rows, k = [], 0
    for a in range(6):
        for day in range(3):
            for slot in rng.choice(96, 60, replace=False):
                rows.append(post(f"p{k}", f"sched{a}", day * 86400 + slot * 900.0, text=f"post {k}"))
                k += 1
    rows.append(post("late", "straggler", 3.9 * 86400, text="late"))
    with make_case(tmp_path, rows) as case:
        res = run_trace(case.engine, "synchronized_posting", min_weight=1, shuffles=10, seed=2)
    stats = res.stats["rhythm_null"]
    assert stats["unit"] == "day" and stats["flat_coverage_scale"] < 1.1 and stats["coverage_scale"] > 1.35
    w = res.edges.column("weight").to_numpy().astype(float)
    mean = np.asarray(res.rhythm_expected, float)
    assert len(w) == 15 and w.min() > 30
    assert 0.9 < np.mean(mean / w) < 1.1, mean / w
    p = rhythm_pvalue(w, mean, res.rhythm_worlds, var=res.rhythm_var)
    assert p.min() > 0.001, p
    # the profile form is the flat one where the volume is flat with a gap
    flat = np.r_[np.full(31 * 24, 5.0), np.zeros(4 * 24)]
    assert profile_coverage(flat, 168)[1:] == pytest.approx(coverage(31 * 24, 35 * 24), rel=0.01)
    assert profile_coverage(np.zeros(48), 24)[1] == 1.0
    # every shift against the definition, sum V(t) V(t+1) / sum V(t) V(t+s+1), on an uneven volume
    v = rng.poisson(rng.gamma(0.5, 4.0, 9 * 168)).astype(float)
    own = (v * np.roll(v, 1)).sum()
    direct = [min(2.0, max(1.0, own / (v * np.roll(v, s * 168 + 1)).sum())) for s in range(1, 9)]
    assert list(profile_coverage(v, 168)[1:]) == direct


def test_rhythm_null_expects_steady_schedulers_to_meet_as_often_as_they_do(tmp_path):
    """Accounts that post through a scheduling tool, on the quarter hour, every day of a 31-day
    span: the rhythm null shifts timelines by whole weeks on a 35-day circle. Its four empty days
    took a tenth and more off every shifted world (heavy schedulers then looked coordinated); scaled
    by the coverage (P - g) / (P - 2g), the shifted worlds expect what the real alignment gives."""
    from unmask.network.significance import rhythm_pvalue

    rng = np.random.default_rng(11)
    rows, k = [], 0
    for a in range(6):
        for day in range(31):
            for slot in rng.choice(96, 40, replace=False):  # 40 of the day's quarter hours
                rows.append(post(f"p{k}", f"sched{a}", day * 86400 + slot * 900.0, text=f"post {k}"))
                k += 1
    with make_case(tmp_path, rows) as case:
        res = run_trace(case.engine, "synchronized_posting", min_weight=1, shuffles=10, seed=2)
    assert res.stats["rhythm_null"]["unit"] == "week" and res.stats["rhythm_null"]["coverage_scale"] > 1.1
    w = res.edges.column("weight").to_numpy().astype(float)
    mean = np.asarray(res.rhythm_expected, float)
    assert len(w) == 15 and w.min() > 400  # every pair meets hundreds of times
    assert 0.95 < np.mean(mean / w) < 1.05, mean / w
    p = rhythm_pvalue(w, mean, res.rhythm_worlds, var=res.rhythm_var)
    assert p.min() > 0.001, p
