"""Propaganda techniques: the shipped model on small texts, the SemEval formats and scores, the
commands, and technique profiles of a case's operations against its organic accounts."""

import json

import pytest

from unmask.cli import main
from unmask.content import analyze, predict, trained_for
from unmask.content.semeval import TECHNIQUES, read_labels, si_scores, tc_scores


def test_loaded_text_gets_spans_and_neutral_text_none():
    hot = analyze("These corrupt globalist puppets and traitors are destroying our great nation!", "hot")
    assert hot["language_trained"] and hot["spans"] and hot["density"] > 0
    assert {s["technique"] for s in hot["spans"]} <= {"Flag-Waving", "Loaded_Language", "Name_Calling,Labeling",
                                                      "Appeal_to_fear-prejudice", "Exaggeration,Minimisation"}
    span = hot["spans"][0]
    assert hot["spans"][0]["text"] == "These corrupt globalist puppets and traitors are destroying our great nation!"[
        span["start"]:span["end"]]
    assert 0 < span["confidence"] <= 1 and sum(hot["counts"].values()) == len(hot["spans"])
    calm = analyze("The meeting is scheduled for 3 pm on Tuesday in the main hall of the library.")
    assert calm["spans"] == [] and calm["counts"] == {} and calm["sentences"][0]["propaganda"] is False


@pytest.mark.parametrize("text", ["ایران آزاد خواهد شد و مردم پیروز می‌شوند", "الشعب يريد إسقاط النظام الفاسد",
                                  "Предатели и лжецы разрушают нашу великую страну!", "", "🔥🔥🔥 !!!",
                                  "x" * 200_000])
def test_other_languages_are_not_guessed(text):
    res = analyze(text)
    if not trained_for(text):
        assert res["language_trained"] is False and res["spans"] == [] and "not analysed" in res["note"]
    assert isinstance(res["density"], float)


def test_declared_language_wins():
    assert trained_for("Wake up patriots", "en") and not trained_for("Wake up patriots", "fr")


def test_si_and_tc_scores_known_answers():
    gold = [("1", 0, 10), ("1", 20, 30)]
    assert si_scores(gold, gold)["f1"] == 1.0
    half = si_scores([("1", 0, 5)], gold)  # precision 1, recall (0.5 + 0) / 2
    assert half["precision"] == 1.0 and half["recall"] == 0.25
    assert si_scores([("2", 0, 5)], gold)["f1"] == 0.0
    g = [("1", "Slogans", 0, 10), ("1", "Doubt", 20, 30), ("1", "Repetition", 20, 30)]
    p = [("1", "Slogans", 0, 10), ("1", "Doubt", 20, 30), ("1", "Doubt", 20, 30)]
    assert tc_scores(p, g)["micro_f1"] == pytest.approx(2 / 3)


def _articles(tmp_path):
    d = tmp_path / "articles"
    d.mkdir()
    (d / "article1.txt").write_text("Wake up, patriots! Our nation is under attack.\nThe vote is on Tuesday.\n")
    (d / "article2.txt").write_text("The report lists the budget. Can we really trust these so-called experts?\n")
    (tmp_path / "tc.template").write_text("1\t?\t0\t18\n2\t?\t29\t72\n")
    return d


def test_predict_and_evaluate_commands_write_the_task_formats(tmp_path, capsys):
    d = _articles(tmp_path)
    main(["text", "predict", "--task", "tc", "--articles", str(d), "--template", str(tmp_path / "tc.template"),
          "--out", str(tmp_path / "tc.pred")])
    rows = read_labels(tmp_path / "tc.pred", "tc")
    assert [(a, s, e) for a, _, s, e in rows] == [("1", 0, 18), ("2", 29, 72)]
    assert all(t in TECHNIQUES for _, t, _, _ in rows)
    main(["text", "predict", "--task", "si", "--articles", str(d), "--out", str(tmp_path / "si.pred")])
    capsys.readouterr()
    main(["text", "evaluate", "--task", "tc", "--pred", str(tmp_path / "tc.pred"), "--gold", str(tmp_path / "tc.pred")])
    assert json.loads(capsys.readouterr().out)["micro_f1"] == 1.0
    assert predict("si", {"9": "The meeting is scheduled for 3 pm on Tuesday in the main hall of the library."}) == []
    assert predict("si", {"9": "Nothing here at all, a calm and ordinary sentence about the weather today."},
                   fast=True) == []


def test_analyze_command_json_and_escaped_html(tmp_path, capsys):
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "d1", "text": "<script>alert(1)</script> These corrupt traitors lie!"}) + "\n"
                    + json.dumps({"id": "d2", "text": "سلام دنیا"}) + "\n", encoding="utf-8")
    main(["text", "analyze", str(docs), "--html", str(tmp_path / "t.html"), "--out", str(tmp_path / "t.json")])
    res = json.loads((tmp_path / "t.json").read_text())
    assert [r["id"] for r in res] == ["d1", "d2"] and res[1]["language_trained"] is False
    page = (tmp_path / "t.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json}\n")
    with pytest.raises(SystemExit) as exc:
        main(["text", "analyze", str(bad)])
    assert exc.value.code == 2 and "bad.jsonl" in capsys.readouterr().err


def test_operations_with_planted_techniques_stand_out(tmp_path):
    from unmask import api
    from unmask.simulate import SimConfig, simulate
    from unmask.simulate.writers import write
    from unmask.store import Case

    files, _ = write(simulate(SimConfig(posts=40000, seed=5, technique_share=0.5)), tmp_path / "data")
    res = api.run(files, tmp_path / "run", seed=1, with_content=True)
    assert res["content"]["analysed"] > 1000
    with Case(tmp_path / "run" / "case.duckdb", read_only=True) as case:
        nets = case.engine.query("""SELECT "group", max(profile_p) AS profile_p, count(*) FILTER (WHERE significant) AS n
                                    FROM content_profiles WHERE level = 'network' GROUP BY ALL""").to_pylist()
        organic = case.engine.query("SELECT * FROM content_profiles WHERE level = 'organic'").to_pylist()
        not_en = case.engine.scalar("""SELECT count(*) FROM content_spans s JOIN posts p USING (post_id)
                                       WHERE p.lang IS NOT NULL AND p.lang NOT IN ('en', '', 'und')""")
    assert nets and sum(n["n"] > 0 for n in nets) >= len(nets) / 2
    assert min(n["profile_p"] for n in nets) < 1e-6
    assert organic and all(r["p_value"] is None for r in organic)
    assert not_en == 0  # other languages are left out
    assert "Propaganda techniques in this network" in (tmp_path / "run" / "report.html").read_text()


def test_random_groups_of_organic_accounts_use_no_technique_more_than_chance(tmp_path):
    """Technique profiles under their null: groups of organic accounts drawn at random. Accounts
    differ in style (a heavy poster, an open campaign's members carry some techniques far more than
    the crowd), so their texts are not independent draws; counted as if they were, a fifth of such
    groups had Doubt at p < 0.05, seven were reported as using a technique significantly more than
    organic accounts, and every one had a profile p under 0.05. With the accounts' spread taken
    into account (the design effect), none is reported and small p-values are as rare as chance."""
    import csv

    import numpy as np
    import pyarrow as pa

    from unmask.content import profiles
    from unmask.ingest import ingest
    from unmask.simulate import SimConfig, simulate
    from unmask.simulate.writers import write
    from unmask.store import Case

    files, _ = write(simulate(SimConfig(posts=100000, seed=7)), tmp_path / "data")
    with open(tmp_path / "data" / "labels.csv", newline="") as f:
        organic = {r["account_id"] for r in csv.DictReader(f) if r["label"] == "organic"}
    with Case(tmp_path / "c.duckdb") as case:
        ingest(case, files)
        profiles.analyse_posts(case)
        have = sorted(organic & set(case.engine.query(
            "SELECT DISTINCT account_id FROM content_posts WHERE analysed").column(0).to_pylist()))
        size, groups = 20, 30
        assert len(have) > 3 * size * groups  # most organic accounts stay in the baseline
        pick = np.random.default_rng(2).choice(have, size * groups, replace=False)
        net = [i // size + 1 for i in range(size * groups)]
        case.write_table("clusters", pa.table({"account_id": pa.array(list(pick), pa.string()), "network": net,
                                               "cell": net, "is_candidate": [True] * len(net)}))
        rows = [r for r in profiles.profiles(case).to_pylist() if r["level"] == "network"]
    p = np.array([r["p_value"] for r in rows])
    profile_p = np.array([r["profile_p"] for r in rows if r["technique"] == TECHNIQUES[0]])
    assert len(profile_p) == groups and np.isfinite(p).all()
    assert not any(r["significant"] for r in rows)
    assert (p < 0.01).mean() <= 0.01 and (p < 0.05).mean() <= 0.05
    assert (profile_p < 0.05).mean() <= 0.10, profile_p


def test_no_organic_baseline_gives_no_technique_p_values():
    """A takedown archive holds only the operation's accounts: with fewer than MIN_BIN organic
    accounts there is nothing to compare with, so profiles carry shares and no p-value."""
    from collections import Counter

    from unmask.content.profiles import MIN_BIN, AccountSpread, binomial_tail
    from scipy.stats import binom

    few = AccountSpread([f"a{i}" for i in range(MIN_BIN - 1)], Counter(), {})
    assert not few.ok
    assert binomial_tail(3, 40, 0.02) == pytest.approx(float(binom.sf(2, 40, 0.02)))
    assert binomial_tail(0, 40, 0.02) == 1.0
