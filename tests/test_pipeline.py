import json

import pytest

from unmask import api
from unmask.evaluate import ari_nmi, auc, evaluate
from unmask.report.html import write_report
from unmask.store import Case


def test_run_writes_case_and_report(sim_run):
    out = sim_run["out"]
    assert (out / "case.duckdb").exists() and (out / "report.html").exists()
    res = sim_run["result"]
    assert sum(r["rows_loaded"] for r in res["ingest"]) > 12000  # tweets plus users
    # the default world has open campaigns too: coordinated groups that hide nothing are listed
    # as open, not counted as candidate operations. Its six operations are found as candidate
    # operations or as registration groups: in this small world one 30-account network sits at the
    # group test's resolution (19 null worlds: p 0.039 before the rhythm null's coverage scale, 0.051
    # after, bench/RESULTS.md stop 41), and its accounts are then found by how they were registered
    a = res["analyse"]
    assert a["candidate_operations"] >= 3 and a["open_networks"] >= 1, a
    assert a["candidate_operations"] + a["registration_groups"] >= 5, a


# An expert boost (boosters who retweet their experts' every post within a minute, each joining at
# random) is, in retweets, a small fan base: the stratified null explains it (docs/methods.md), so
# these tests ask for the styles that coordinate beyond what an audience does.
BEYOND_AUDIENCE = ["co_retweet_ring", "copypasta", "hashtag_flood", "link_laundering", "reply_attack"]


def test_planted_operations_are_found_with_few_organic_flags(tmp_path):
    """A 40k-post world with fan bases (below that, an operation that is a large share of a trace
    raises its own popularity null: see docs/methods.md): operations found, organic accounts, the
    popular accounts' regulars among them, not flagged."""
    from unmask.simulate import SimConfig, simulate
    from unmask.simulate.writers import write

    files, labels = write(simulate(SimConfig(posts=40000, seed=3, styles=BEYOND_AUDIENCE, operations=5)),
                          tmp_path / "data")
    api.run(files, tmp_path / "run", seed=1, report=False)
    with Case(tmp_path / "run" / "case.duckdb", read_only=True) as case:
        ev = evaluate(case, labels, min_posts=10)
        allev = evaluate(case, labels)
    assert ev["precision"] >= 0.95 and ev["recall"] >= 0.8, ev
    assert ev["organic_fpr"] <= 0.005, ev
    assert allev["auc"] >= 0.85 and allev["nmi"] > 0.6
    assert set(allev["per_operation"]) == {l for l in _labels(labels) if l != "organic"}
    assert min(allev["per_operation"].values()) > 0.3, allev["per_operation"]
    assert allev["network"]["homogeneity"] == pytest.approx(1.0) and allev["cell"]["homogeneity"] >= 0.95
    assert all(g["precision"] == 1.0 for g in allev["group_precision"])


def test_small_world_still_flags_only_operations(sim_run):
    with Case(sim_run["out"] / "case.duckdb", read_only=True) as case:
        ev = evaluate(case, sim_run["labels"], min_posts=10)
    assert ev["precision"] >= 0.95 and ev["recall"] >= 0.3 and ev["flagged_groups"] >= 2, ev


def _labels(path):
    import csv

    with open(path) as fh:
        return {r["label"] for r in csv.DictReader(fh)}


def test_raw_thresholds_would_flag_many_organic_accounts(sim_run):
    """The simulator's hard negatives defeat a fixed cut on raw co-action counts."""
    with Case(sim_run["out"] / "case.duckdb", read_only=True) as case:
        case.engine.execute(f"CREATE TEMP TABLE labels AS SELECT * FROM read_csv('{sim_run['labels']}', all_varchar=true)")
        raw = case.engine.scalar("""
            SELECT count(DISTINCT l.account_id) FROM labels l JOIN edges e
              ON l.account_id IN (e.account_a, e.account_b)
            WHERE l.label = 'organic' AND e.weight >= 2""")
        organic = case.engine.scalar("SELECT count(*) FROM labels WHERE label = 'organic'")
        kept = case.engine.scalar("""
            SELECT count(*) FROM labels l JOIN account_scores s USING (account_id)
            WHERE l.label = 'organic' AND s.flagged""")
    assert raw >= 0.02 * organic  # four times the 0.5% organic false-positive target
    assert kept <= 0.005 * organic


def test_same_input_and_seed_same_clusters_and_report(sim_small, tmp_path):
    a = api.run(sim_small["files"], tmp_path / "a", seed=4, report=False)
    b = api.run(sim_small["files"], tmp_path / "b", seed=4, report=False)
    assert a["analyse"] == b["analyse"]
    reports = []
    for d in ("a", "b"):
        with Case(tmp_path / d / "case.duckdb", read_only=True) as case:
            clusters = case.table("clusters").to_pylist()
            reports.append((clusters, write_report(case, tmp_path / d / "r.html", generated_at="fixed").read_bytes()))
    assert reports[0][0] == reports[1][0]
    assert reports[0][1] == reports[1][1]


def test_metric_helpers():
    assert auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    ari, nmi = ari_nmi(["a", "a", "b", "b"], ["x", "x", "y", "y"])
    assert ari == 1.0 and abs(nmi - 1.0) < 1e-12
    ari, _ = ari_nmi(["a", "a", "b", "b"], ["x", "y", "x", "y"])
    assert ari < 0


def test_flagging_nobody_scores_no_agreement():
    """NMI and ARI count the accounts that are flagged or labelled as an operation's: a run that flags
    nobody scored NMI 0.96 when every unflagged account was its own singleton on both sides."""
    from unmask.evaluate import _flagged_or_labelled_agreement

    labels = {f"o{i}": "organic" for i in range(1000)} | {f"x{i}": "op1" for i in range(20)} | \
        {f"y{i}": "op2" for i in range(20)}
    nobody = [{"account_id": a, "flagged": False, "cluster": None} for a in labels]
    assert _flagged_or_labelled_agreement(nobody, labels) == (0.0, 0.0)
    perfect = [{"account_id": a, "flagged": a[0] != "o", "cluster": {"x": 1, "y": 2}.get(a[0])} for a in labels]
    assert _flagged_or_labelled_agreement(perfect, labels) == (1.0, 1.0)


def test_demo_end_to_end(tmp_path):
    res = api.demo(tmp_path / "demo", posts=20000, seed=11)
    assert (tmp_path / "demo" / "report.html").stat().st_size > 100_000
    ev = json.loads((tmp_path / "demo" / "evaluation.json").read_text())
    assert ev["precision"] >= 0.8 and res["analyse"]["candidate_operations"] >= 3


def test_small_operations_of_three_or_four_accounts_are_flagged(tmp_path):
    """Cells of three or four accounts are a common shape of an operation: with strong links, the
    default minimum network size (a triad) lets the group tests judge them, and nothing organic
    comes with them."""
    from unmask.simulate import SimConfig, simulate
    from unmask.simulate.writers import write

    cfg = SimConfig(posts=30000, seed=7, styles=["copypasta", "link_laundering", "co_retweet_ring"], operations=4,
                    op_min_size=3, op_max_size=4, dormant_share=0.0)
    files, labels = write(simulate(cfg), tmp_path / "data")
    res = api.run(files, tmp_path / "run", seed=1, report=False)
    assert res["analyse"]["min_cluster"] == 3
    with Case(tmp_path / "run" / "case.duckdb", read_only=True) as case:
        ev = evaluate(case, labels)
        sizes = case.engine.query("SELECT max(cluster_size) FROM clusters WHERE status = 'flagged'").column(0)[0].as_py()
    assert ev["precision"] == 1.0 and ev["flagged_groups"] == 4 and sizes <= 4, ev
    assert set(ev["per_operation"].values()) == {1.0}, ev["per_operation"]
