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
                  t("co_text", [("a", "b", 3, 1e-3)])], n_traces=2, m_pairs=2)
    rows = {(r["account_a"], r["account_b"]): r for r in fused.to_pylist()}
    assert rows[("a", "b")]["n_traces"] == 2 and "co_text:3" in rows[("a", "b")]["traces"]
    single = fuse([t("co_retweet", [("a", "b", 5, 1e-3)])], n_traces=2, m_pairs=1).column("p_fused")[0].as_py()
    assert rows[("a", "b")]["p_fused"] < single  # two agreeing traces beat one
    assert rows[("c", "d")]["p_fused"] < 1e-10  # one strong trace carries a pair alone


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
    """fuse() on random per-trace links equals the definition computed pair by pair."""
    import pyarrow as pa
    from scipy.stats import chi2

    rng = np.random.default_rng(3)
    names = [f"a{i:02d}" for i in range(30)]
    tables, per_pair = [], {}
    for trace in ("co_text", "co_retweet", "co_link"):
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
    fused = {(r["account_a"], r["account_b"]): r for r in fuse(tables, n_traces=3, m_pairs=500).to_pylist()}
    assert sorted(fused) == sorted(per_pair)
    for pair, d in per_pair.items():
        stat = -2 * sum(np.log(pv) for _, pv in d.values())
        pmin = min(pv for _, pv in d.values())
        tip = 3 * pmin if pmin < 1e-12 else 1 - (1 - pmin) ** 3
        want = min(1.0, 2 * min(chi2.sf(stat, 6), tip))
        got = fused[pair]
        assert got["p_fused"] == pytest.approx(want, rel=1e-9)
        assert got["n_traces"] == len(d)
        assert got["traces"] == ";".join(f"{t}:{w}:{pv:.3g}" for t, (w, pv) in sorted(d.items()))
