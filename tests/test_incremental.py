"""Incremental detect: a re-run costs the traces it names; per-case tables wait for new posts."""

import pytest

from unmask import api
from unmask.ingest import ingest
from unmask.store import Case


@pytest.fixture()
def detected(tmp_path, sim_small):
    case = Case(tmp_path / "c.duckdb")
    ingest(case, sim_small["files"])
    api.detect(case)
    api.analyse(case)
    api.run_checks(case)
    yield case
    case.close()


def test_rerun_of_one_trace_keeps_the_others_and_the_per_case_tables(detected, monkeypatch):
    case = detected
    before = case.get_meta("detect")["traces"]
    text_edges = case.engine.query("SELECT * FROM edges WHERE trace = 'co_text' ORDER BY account_a, account_b")
    import unmask.media.amplification as amp
    import unmask.persona.checks as persona

    def boom(*a, **k):
        raise AssertionError("per-case work repeated")

    monkeypatch.setattr(persona, "_profiles", boom)
    monkeypatch.setattr(amp, "link_table", boom)
    monkeypatch.setattr(persona.location, "country_languages", boom)
    det = api.detect(case, traces=["co_link"], windows={"co_link": 30})
    api.analyse(case)
    api.run_checks(case)  # would raise if behavioural zones or link tables were recomputed
    assert set(det["kept"]) == set(before) - {"co_link"}
    assert case.get_meta("detect")["stats"]["co_link"]["window_s"] == 30
    after = case.engine.query("SELECT * FROM edges WHERE trace = 'co_text' ORDER BY account_a, account_b")
    assert after.drop(["q_value"]).equals(text_edges.drop(["q_value"]))
    assert case.engine.scalar("SELECT count(*) FROM edge_evidence WHERE trace = 'co_text'") > 0


def test_reset_forgets_and_new_posts_refresh(detected, tmp_path):
    case = detected
    api.detect(case, traces=["co_retweet"], keep=False)
    assert case.get_meta("detect")["traces"] == ["co_retweet"]
    assert case.engine.scalar("SELECT count(DISTINCT trace) FROM edges") <= 1
    import unmask.persona.checks as persona

    assert persona.profiles_current(case)
    extra = tmp_path / "more.csv"
    extra.write_text("post_id,account_id,created_at,text\nnew1,newcomer,2018-03-05T10:00:00Z,a new post\n")
    ingest(case, [extra])
    assert not persona.profiles_current(case)
    api.analyse(case)
    api.run_checks(case)
    assert persona.profiles_current(case)
    assert case.engine.scalar("SELECT count(*) FROM personas WHERE account_id = 'newcomer'") == 1


def test_traces_older_than_the_posts_are_recomputed_not_fused_stale(detected, tmp_path):
    """detect --traces T after a new ingest: the other traces were detected on fewer posts, so they
    are recomputed (with their own parameters) instead of being fused, stale, with T."""
    case = detected
    api.detect(case, traces=["co_retweet", "co_link"], windows={"co_retweet": 45}, keep=False)
    extra = tmp_path / "more.csv"
    extra.write_text("post_id,account_id,created_at,text\nnew1,newcomer,2018-03-05T10:00:00Z,a new post\n")
    ingest(case, [extra])
    det = api.detect(case, traces=["co_link"])
    assert det["recomputed_stale"] == ["co_retweet"] and det["kept"] == []
    meta = case.get_meta("detect")
    assert meta["posts"] == case.count("posts") and meta["stats"]["co_retweet"]["window_s"] == 45
    # with no new posts, the next single-trace run keeps the others again
    again = api.detect(case, traces=["co_link"])
    assert again["kept"] == ["co_retweet"] and again["recomputed_stale"] == []


def test_evidence_is_sampled_for_the_edges_that_can_carry_a_link(tmp_path, sim_small):
    """Evidence rows exist for exactly the edges with p <= evidence_p, and are the same rows that
    evidence_p = 1 (every edge) keeps for them."""
    case = Case(tmp_path / "e.duckdb")
    ingest(case, sim_small["files"])
    q = case.engine.query
    api.detect(case, traces=["co_retweet", "co_text"], min_weights={"co_retweet": 1}, keep=False, evidence_p=1)
    every = q("SELECT * FROM edge_evidence ORDER BY ALL")
    unsampled = case.engine.scalar("""SELECT count(*) FROM edges g WHERE NOT EXISTS (SELECT 1 FROM edge_evidence e
                                      WHERE e.trace = g.trace AND e.account_a = g.account_a AND e.account_b = g.account_b)""")
    assert unsampled == 0
    weak = case.engine.scalar("SELECT count(*) FROM edges WHERE p_value > 0.05")
    assert weak > 0 and case.engine.scalar("SELECT count(*) FROM edges WHERE p_value <= 0.05") > 0
    api.detect(case, traces=["co_retweet", "co_text"], min_weights={"co_retweet": 1}, keep=False, evidence_p=0.05)
    assert case.get_meta("detect")["evidence_p"] == 0.05
    case.engine.register("_every", every)
    expected = q("""SELECT e.* FROM _every e JOIN edges g USING (trace, account_a, account_b)
                    WHERE g.p_value <= 0.05 ORDER BY ALL""")
    assert expected.num_rows > 0
    assert q("SELECT * FROM edge_evidence ORDER BY ALL").equals(expected)
    assert q("SELECT DISTINCT trace, account_a, account_b FROM edge_evidence ORDER BY ALL").equals(
        q("SELECT trace, account_a, account_b FROM edges WHERE p_value <= 0.05 ORDER BY ALL"))
    case.close()


def test_report_states_each_traces_own_evidence_cut(tmp_path, sim_small):
    """A trace kept from an earlier detect keeps the evidence cut it was detected with, and the
    report's parameters say so on its own row."""
    import re

    from unmask.report.html import write_report

    case = Case(tmp_path / "r.duckdb")
    ingest(case, sim_small["files"])
    api.detect(case, traces=["co_retweet"], keep=False, evidence_p=1)
    api.detect(case, traces=["co_text"], keep=True, evidence_p=0.05)
    stats = case.get_meta("detect")["stats"]
    assert stats["co_retweet"]["evidence_p"] == 1.0 and stats["co_text"]["evidence_p"] == 0.05
    api.analyse(case, seed=1)
    html = write_report(case, tmp_path / "r.html").read_text()
    rows = dict(re.findall(r"<tr><td>(co_retweet|co_text)</td><td>(window [^<]*)</td></tr>", html))
    assert rows["co_retweet"].endswith("evidence for p &le; 1.0")
    assert rows["co_text"].endswith("evidence for p &le; 0.05")
    case.close()
