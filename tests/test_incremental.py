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
