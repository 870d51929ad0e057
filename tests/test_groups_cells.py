"""Groups tested as groups, networks split into cells, and the calibration of the whole pipeline."""

import itertools

import pytest

from unmask.network import cells, groups


def test_group_pvalue_known_answers():
    # No links inside: nothing to explain.
    assert groups.group_pvalue(0, 0.0, 3.0) == 1.0
    # One weak link where one false link is expected: P(N >= 1) = 1 - e^-1, times P(Exp(1) >= 0) = 1.
    assert groups.group_pvalue(1, 0.0, 1.0) == pytest.approx(1 - 2.718281828459045 ** -1, rel=1e-9)
    # Poisson(0.5) tail at 3 links, strength 0: 1 - e^-0.5 (1 + 0.5 + 0.125).
    assert groups.group_pvalue(3, 0.0, 0.5) == pytest.approx(1 - 2.718281828459045 ** -0.5 * 1.625, rel=1e-9)
    # Strength lowers it: the same three links, each far beyond the BH cut-off.
    assert groups.group_pvalue(3, 30.0, 0.5) < 1e-8


def test_dense_group_passes_and_a_group_the_false_links_explain_does_not():
    ring = [f"r{i}" for i in range(8)]
    sig = [(a, b, 1e-12) for a, b in itertools.combinations(ring, 2)]  # 28 strong links
    # A busy background: 300 accounts with 12 links each, at the BH cut-off (p = p*).
    hubs = [f"h{i:03d}" for i in range(300)]
    sig += [(hubs[i], hubs[(i + d) % 300], 1e-3) for i in range(300) for d in (1, 2, 3, 5, 8, 13)]
    busy = [hubs[i] for i in range(0, 300, 25)]  # twelve busy accounts...
    sig.append((hubs[50], hubs[100], 1e-3))  # ...with one weak link among them
    res = groups.test_groups({1: ring, 2: busy}, sig, alpha=0.05)
    assert res[1]["links"] == 28 and res[1]["q"] < 1e-20
    assert res[2]["links"] == 1 and res[2]["strength"] == pytest.approx(0.0)
    assert res[2]["p"] == pytest.approx(1 - 2.718281828459045 ** -res[2]["mu"], rel=1e-6)
    assert res[2]["q"] > 0.05
    assert res[2]["mu"] > res[1]["mu"] / 4


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


def test_weak_groups_are_listed_in_the_report_and_not_flagged(sim_run, tmp_path):
    import shutil

    from unmask.report.html import write_report
    from unmask.store import Case

    shutil.copy(sim_run["out"] / "case.duckdb", tmp_path / "c.duckdb")
    with Case(tmp_path / "c.duckdb") as case:
        weak = case.engine.scalar("SELECT max(cluster) FROM groups")
        case.engine.execute(f"UPDATE groups SET status = 'weak' WHERE cluster = {weak}")
        html = write_report(case, tmp_path / "r.html").read_text()
        flagged = case.engine.scalar("SELECT count(*) FROM clusters WHERE status = 'flagged' AND is_candidate")
        assert flagged == case.engine.scalar("SELECT count(*) FROM clusters WHERE is_candidate")
    assert "Weak groups (not flagged)" in html and f"<td>{weak}</td>" in html
