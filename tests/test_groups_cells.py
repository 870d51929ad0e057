"""Groups tested as groups, networks split into cells, and the calibration of the whole pipeline."""

import itertools

import pytest

from unmask.network import cells, groups
from unmask.store import Case


def test_group_pvalue_known_answers():
    # No links inside: nothing to explain.
    assert groups.group_pvalue(0, 0.0) == 1.0
    # Links exactly at the BH cut-off (strength 0) are what false links are: no evidence.
    assert groups.group_pvalue(12, 0.0) == 1.0
    # One link of strength t: P(Exp(1) >= t) = e^-t.
    assert groups.group_pvalue(1, 2.0) == pytest.approx(2.718281828459045 ** -2, rel=1e-9)
    # Three links: P(Gamma(3) >= t) = e^-t (1 + t + t^2 / 2).
    assert groups.group_pvalue(3, 4.0) == pytest.approx(2.718281828459045 ** -4 * (1 + 4 + 8), rel=1e-9)
    # Strength lowers it: the same three links, each far beyond the BH cut-off.
    assert groups.group_pvalue(3, 30.0) < 1e-8


def test_dense_group_passes_and_a_group_of_false_links_does_not():
    ring = [f"r{i}" for i in range(8)]
    sig = [(a, b, 1e-12) for a, b in itertools.combinations(ring, 2)]  # 28 strong links
    # A busy background: 300 accounts with 12 links each, at the BH cut-off (p = p*)...
    hubs = [f"h{i:03d}" for i in range(300)]
    sig += [(hubs[i], hubs[(i + d) % 300], 1e-3) for i in range(300) for d in (1, 2, 3, 5, 8, 13)]
    dense = hubs[:14]  # ...of which fourteen consecutive accounts hold many links among themselves
    res = groups.test_groups({1: ring, 2: dense}, sig, alpha=0.05)
    assert res[1]["links"] == 28 and res[1]["q"] < 1e-20
    assert res[2]["links"] >= 40 and res[2]["strength"] == pytest.approx(0.0)
    assert res[2]["p"] == 1.0 and res[2]["q"] > 0.05
    assert res[2]["mu"] > 0 and res[1]["mu"] > 0


def test_cells_split_a_network_by_what_its_members_share():
    left = [f"left{i}" for i in range(6)]
    right = [f"right{i}" for i in range(6)]
    links = [(a, b, 1.0) for side in (left, right) for a, b in itertools.combinations(side, 2)]
    links.append(("left0", "right0", 0.05))  # one faint tie between the personas
    loner = "loner"  # no shared content, but strongly fused to the right-hand cell
    fused = [("loner", "right3", 50.0), ("loner", "left3", 2.0)]
    got = cells.split(left + right + [loner], links, fused, seed=0)
    assert len({got[a] for a in left}) == 1 and len({got[a] for a in right}) == 1
    assert got["left0"] != got["right0"]
    assert got[loner] == got["right3"]


def test_profiles_and_similarity_find_personas_in_a_case(tmp_path):
    from tracekit import make_case, post

    rows, k = [], 0
    for side, tags in (("L", ["resist", "bluewave"]), ("R", ["maga", "kag"])):
        for i in range(5):
            for j in range(6):
                rows.append(post(f"p{k}", f"{side}{i}", k * 100.0, f"post {k}", hashtags=[tags[j % 2], f"{side}x{j}"]))
                k += 1
    with make_case(tmp_path, rows) as case:
        members = [f"{s}{i}" for s in "LR" for i in range(5)]
        got = cells.cells_of(case.engine, members, [], seed=0)
    assert len({got[f"L{i}"] for i in range(5)}) == 1 and len({got[f"R{i}"] for i in range(5)}) == 1
    assert got["L0"] != got["R0"]


def test_a_world_without_operations_flags_nobody(tmp_path):
    """Calibration: many cascades, hashtag bursts and share waves, and no operation: no candidate
    operation, and the links kept are few for the pairs tested."""
    from unmask import api
    from unmask.simulate import SimConfig, simulate
    from unmask.simulate.writers import write
    from unmask.store import Case

    cfg = SimConfig(posts=30000, seed=41, operations=0, op_share=0.0, viral_cascades=40, hashtag_bursts=20,
                    share_buttons=30, negative_strength=2.0)
    files, _ = write(simulate(cfg), tmp_path / "data")
    res = api.run(files, tmp_path / "run", seed=1, report=False)
    assert res["analyse"]["candidate_operations"] == 0
    with Case(tmp_path / "run" / "case.duckdb", read_only=True) as case:
        assert case.engine.scalar("SELECT count(*) FROM account_scores WHERE flagged") == 0
    assert res["analyse"]["significant_links"] <= 0.05 * res["analyse"]["candidate_pairs"] * 0.05


def _links_case(tmp_path, star_p=0.004):
    """A case whose detect found a strong ring of 8 accounts (p = 1e-15) and a star of 12 links at
    the edge of significance (p = 0.004 where BH's cut-off is 0.05 * 40 / 400 = 0.005: what false
    links look like, e.g. a popular account and its fast retweeters), among 400 tested pairs."""
    import pyarrow as pa

    from tracekit import make_case, post

    ring = [f"ring{i}" for i in range(8)]
    star = ["hub"] + [f"fan{i:02d}" for i in range(12)]
    others = [f"x{i:03d}" for i in range(60)]
    case = make_case(tmp_path, [post(f"p{i}", a, float(i)) for i, a in enumerate(ring + star + others)])
    rows = [(a, b, 1e-15) for a, b in itertools.combinations(ring, 2)]
    rows += [("hub", f, star_p) for f in star[1:]]
    rng = __import__("numpy").random.default_rng(1)
    pairs = [(a, b) for a, b in itertools.combinations(others, 2)]
    rows += [(a, b, float(p)) for (a, b), p in zip(pairs[:360], rng.uniform(0.01, 1, 360))]
    rows = [(min(a, b), max(a, b), p) for a, b, p in rows]
    n = len(rows)
    case.write_table("edges", pa.table({
        "account_a": [r[0] for r in rows], "account_b": [r[1] for r in rows], "trace": ["co_retweet"] * n,
        "weight": [3] * n, "rarity_weight": [1.0] * n, "n_objects": [3] * n, "first_at": [0] * n, "last_at": [0] * n,
        "expected": [1.0] * n, "expected_rhythm": [float("nan")] * n, "p_value": [r[2] for r in rows],
        "q_value": [min(1.0, r[2] * n) for r in rows]}))
    from unmask.api import EVIDENCE_SCHEMA

    case.write_table("edge_evidence", EVIDENCE_SCHEMA.empty_table())
    case.set_meta("detect", {"traces": ["co_retweet"], "stats": {"co_retweet": {
        "candidate_pairs": n, "window_s": 60, "min_weight": 2, "max_neighbors": 100, "pairs_skipped_hot": 0,
        "actions": 500, "objects": 200}}})
    return case, ring, star


def test_a_star_of_chance_level_links_is_not_flagged_and_a_strong_ring_is(tmp_path):
    """The whole analyse step, not a status set by hand: the ring passes the group test and beats
    every null world; the star's links are all as strong as false links are (weak), and run through
    one account (an audience): it is listed, not flagged."""
    from unmask import api
    from unmask.report.html import write_report

    case, ring, star = _links_case(tmp_path)
    with case:
        summary = api.analyse(case, seed=3, min_cluster=5)
        groups_rows = {tuple(sorted(r["members"])): r for r in case.engine.query("""
            SELECT g.status, g.group_p, g.group_q, g.selection_p, list(c.account_id) AS members
            FROM groups g JOIN clusters c ON c.cluster = g.cluster GROUP BY ALL""").to_pylist()}
        html = write_report(case, tmp_path / "r.html").read_text()
    assert groups_rows[tuple(sorted(ring))]["status"] == "coordinated"  # covert or open: the checks say
    assert groups_rows[tuple(sorted(ring))]["selection_p"] == pytest.approx(1 / 20)
    weak = groups_rows[tuple(sorted(star))]
    assert weak["status"] == "audience" and weak["group_q"] > 0.05, weak
    assert summary["weak_groups"] == 1 and summary["audience_groups"] == 1 and summary["candidate_operations"] == 1
    assert summary["group_null_worlds"]["worlds"] == 19
    assert "Weak groups and audiences (not flagged)" in html and "an audience of hub" in html


def test_a_star_of_strong_links_is_an_audience_not_a_group(tmp_path):
    """Twelve accounts each strongly linked to one account (superfans, each faster on it than its
    audience) and to nobody else: every link passes, the group test passes, and still the twelve do
    not act together. It is an audience of its hub, listed and not flagged; the ring is flagged."""
    from unmask import api

    case, ring, star = _links_case(tmp_path, star_p=1e-15)
    with case:
        summary = api.analyse(case, seed=3, min_cluster=5)
        rows = {tuple(sorted(r["members"])): r for r in case.engine.query("""
            SELECT g.status, g.group_q, g.hub, list(c.account_id) AS members
            FROM groups g JOIN clusters c ON c.cluster = g.cluster GROUP BY ALL""").to_pylist()}
    assert rows[tuple(sorted(star))]["group_q"] <= 0.05  # as a group of links it would pass
    assert rows[tuple(sorted(star))]["status"] == "audience" and rows[tuple(sorted(star))]["hub"] == "hub"
    assert rows[tuple(sorted(ring))]["status"] == "coordinated" and rows[tuple(sorted(ring))]["hub"] is None
    assert summary["candidate_operations"] == 1 and summary["audience_groups"] == 1


def test_audience_hub_needs_a_star_of_many():
    """A star of ten leaves is an audience; one link among three leaves (a triangle with the hub is
    not enough, a path of three leaves is) makes it a group; a star of three is too small to tell."""
    from unmask.network.groups import AUDIENCE_LEAVES, audience_hub

    leaves = [f"f{i:02d}" for i in range(AUDIENCE_LEAVES)]
    star = [("h", f) for f in leaves]
    assert audience_hub(["h"] + leaves, star) == "h"
    assert audience_hub(["h"] + leaves, star + [("f00", "f01")]) == "h"  # two leaves linked: no three
    assert audience_hub(["h"] + leaves, star + [("f00", "f01"), ("f01", "f02")]) is None
    assert audience_hub(["h", "a", "b", "c"], [("h", "a"), ("h", "b"), ("h", "c")]) is None


def test_selection_pvalue_counts_the_worlds_that_beat_a_group():
    from unmask.network.groupnull import selection_pvalue

    worlds = [{"best_p": p} for p in (1.0, 1.0, 1e-3, 1e-9)]
    assert selection_pvalue(1e-12, worlds) == pytest.approx(1 / 5)
    assert selection_pvalue(1e-5, worlds) == pytest.approx(2 / 5)
    assert selection_pvalue(0.5, worlds) == pytest.approx(3 / 5)
    assert selection_pvalue(0.5, []) == 1.0


def test_null_worlds_find_groups_where_chance_links_are_dense(tmp_path):
    """At a lax FDR, null p-values on a dense candidate graph pass BH and Leiden makes groups of
    them: the null worlds see those groups, so a group no stronger than they are is not flagged,
    whatever its own group test says."""
    import numpy as np
    import pyarrow as pa

    from unmask.network.groupnull import best_null_groups
    from unmask.engines import get_engine

    accounts = [f"a{i:02d}" for i in range(12)]
    pairs = list(itertools.combinations(accounts, 2))
    eng = get_engine("duckdb")
    eng.register("edges", pa.table({"account_a": [a for a, _ in pairs], "account_b": [b for _, b in pairs],
                                    "trace": ["co_retweet"] * len(pairs), "weight": [2] * len(pairs),
                                    "p_value": np.ones(len(pairs))}))
    best = best_null_groups(eng, ["co_retweet"], m_pairs=len(pairs), alpha=0.95, resolution=1.0, seed=1,
                            min_cluster=5, n_significant=0, worlds=10)
    eng.close()
    assert len(best) == 10 and sum(b["best_p"] < 1.0 for b in best) >= 5, best


def test_persona_types_join_the_waves_of_one_persona_across_networks():
    """Cells 1 and 3 (two waves of one persona, in two networks) share hashtags and a presentation;
    cell 2 posts other things: 1 and 3 are one type, 2 another."""
    from collections import Counter

    from unmask.network.persona_types import assign

    cell_of = {f"w1-{i}": 1 for i in range(6)} | {f"other-{i}": 2 for i in range(5)} | {f"w2-{i}": 3 for i in range(4)}
    wave = Counter({"h:maga": 2.0, "h:qanon": 1.5, "@:123": 1.0, "claimed_country=US": 1.0})
    features = {1: wave, 3: Counter({**wave, "h:wave2": 1.0}),
                2: Counter({"h:resist": 2.0, "d:bluenews.example": 1.5, "claimed_country=US": 1.0})}
    types = assign(cell_of, features, seed=0)
    assert types[1] == types[3] != types[2]
    assert types[1] == 1  # numbered by size: the persona in two waves has the most accounts


def test_a_run_gives_persona_types_and_evaluate_scores_them(sim_run):
    from unmask.evaluate import evaluate
    from unmask.store import Case

    with Case(sim_run["out"] / "case.duckdb", read_only=True) as case:
        flagged = case.engine.query("SELECT persona_type, cell FROM clusters WHERE status = 'flagged'").to_pylist()
        types = case.table("persona_types").to_pylist()
        ev = evaluate(case, sim_run["labels"])
    assert flagged and all(r["persona_type"] is not None for r in flagged if r["cell"] is not None)
    assert sum(t["accounts"] for t in types) == sum(1 for r in flagged if r["cell"] is not None)
    assert ev["persona_type"]["accounts"] == ev["cell"]["accounts"] > 0
    assert ev["persona_type"]["homogeneity"] >= 0.9


def test_group_pvalues_are_uniform_when_every_link_is_false():
    """False links that passed BH have p uniform below the cut-off alpha * E / m; groups made of them
    (whatever their size) get group p-values that are not below uniform."""
    import numpy as np
    from scipy.stats import kstest

    rng = np.random.default_rng(8)
    m, alpha, n_groups = 200_000, 0.05, 400
    members, sig = {}, []
    for g in range(n_groups):
        accs = [f"g{g}-{i}" for i in range(int(rng.integers(5, 12)))]
        members[g] = accs
        pairs = list(itertools.combinations(accs, 2))
        for k in rng.choice(len(pairs), int(rng.integers(4, len(pairs) + 1)), replace=False):
            sig.append((*pairs[k], None))
    cut = alpha * len(sig) / m
    sig = [(a, b, float(rng.uniform(0, cut))) for a, b, _ in sig]
    res = groups.test_groups(members, sig, alpha, m_pairs=m)
    p = np.array([res[g]["p"] for g in members])
    assert kstest(p, "uniform", alternative="greater").pvalue > 0.01
    assert (p <= 0.05).mean() <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / n_groups)


def test_client_diversity_does_not_depend_on_the_order_clients_were_counted():
    """The same client counts met in any order give the same entropy to the last bit (they come from
    an unordered query; a float sum in that order gave runs that differed in the last bits)."""
    import random
    from collections import Counter

    from unmask.network.scores import _entropy

    counts = [1, 2, 3, 5, 8, 13, 21, 34, 1000, 7]
    rng = random.Random(1)
    seen = set()
    for _ in range(200):
        rng.shuffle(counts)
        seen.add(_entropy(Counter({f"client {c}": c for c in counts})))
    assert len(seen) == 1 and 0.0 < seen.pop() < 1.0


def test_strengths_do_not_depend_on_the_order_of_the_links(sim_run):
    """A cluster's strength is the mean of its links' strengths. Summed as floats, its last bits
    followed the order the links were read in (at 3M, DuckDB's parallel sum and Spark's case gave
    different last bits); with fixed-point terms the links in any order give the same value."""
    import shutil

    from unmask.network.scores import account_scores, cluster_scores
    from unmask.store import Case

    work = sim_run["out"] / "order-test.duckdb"
    shutil.copy(sim_run["out"] / "case.duckdb", work)
    seen, totals = [], []
    with Case(work) as case:
        alpha = 0.05
        # as analyse calls it: before the registration step adds accounts with no cluster
        case.engine.execute("DELETE FROM clusters WHERE cluster IS NULL")
        for order in ("account_a, account_b", "account_b DESC, account_a DESC", "hash(account_a || account_b)",
                      "strength", "strength DESC"):
            case.engine.execute(f"CREATE OR REPLACE TABLE fused_edges AS SELECT * FROM fused_edges ORDER BY {order}")
            ops = cluster_scores(case, alpha)
            seen.append(dict(zip(ops.column("cluster").to_pylist(), ops.column("strength").to_pylist())))
            # an account's total strength too (at 3M, 44 accounts' totals differed in their last bits
            # between two runs of the same detect)
            acc = account_scores(case, alpha)
            totals.append(dict(zip(acc.column("account_id").to_pylist(), acc.column("total_strength").to_pylist())))
    assert len(seen[0]) >= 2 and all(s == seen[0] for s in seen[1:])
    assert len({round(v, 3) for v in seen[0].values()}) > 1  # clusters of different strengths
    assert sum(v > 0 for v in totals[0].values()) >= 10 and all(t == totals[0] for t in totals[1:])


def test_null_draws_meet_the_same_edges_by_stored_position_as_by_numbering(sim_run):
    """The null worlds' drawn edges are found by their stored position in ``edges`` (written sorted
    by trace and pair); the same draws numbered by a sort meet exactly the same edges."""
    import numpy as np

    from unmask.network import groupnull

    with Case(sim_run["out"] / "case.duckdb", read_only=True) as case:
        eng = case.engine
        assert "pos" in groupnull._numbered(eng) and "row_number" in groupnull._numbered(eng, by_position=False)
        counts = eng.query("SELECT trace, count(*) AS n FROM edges GROUP BY trace ORDER BY trace").to_pylist()
        assert len(counts) >= 3
        rng = np.random.default_rng(5)
        draws = []
        for w in range(3):
            for r in counts:
                c = min(r["n"], 200)
                draws.append((w, r["trace"], np.sort(rng.choice(r["n"], c, replace=False)), rng.uniform(0, 0.01, c)))
        by_pos = groupnull._picked_edges(eng, draws)
        real = groupnull._numbered
        try:
            groupnull._numbered = lambda engine: real(engine, by_position=False)
            by_sort = groupnull._picked_edges(eng, draws)
        finally:
            groupnull._numbered = real
    assert by_pos.keys() == by_sort.keys() and len(by_pos) == 3 * len(counts)
    for k in by_pos:
        assert by_pos[k].equals(by_sort[k]), k
        assert by_pos[k].num_rows == min(dict((r["trace"], r["n"]) for r in counts)[k[1]], 200)
