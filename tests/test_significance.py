import numpy as np

from tracekit import make_case, post
from unmask.network.fusion import fuse
from unmask.network.significance import bh, trace_pvalues
from unmask.traces import run_trace


def test_bh_matches_the_definition():
    p = np.array([0.01, 0.04, 0.03, 0.5, 0.001])
    q = bh(p)
    assert np.allclose(q, [0.025, 0.05, 0.05, 0.5, 0.005])
    assert np.allclose(bh(p, m=10), np.minimum(1, [0.05, 0.1, 0.1, 1.0, 0.01]))


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
