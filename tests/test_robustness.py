"""The bugs users hit with real data, each pinned by a test, and the inference the generic adapter does."""

import json

import pytest

from unmask import api
from unmask.cli import main
from unmask.errors import UnmaskError
from unmask.ingest import ingest
from unmask.store import Case

PEER = ("message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
        "1,u1,alice,,,\"hello #ایران #سلام_دنیا world @bob\",1000,\n"
        "2,u2,bob,1,,\"hello #ایران world\",1010,\n"
        "3,u3,carol,1,,\"RT @alice: hello\",1020,\n"
        "4,u4,dave,,1,\"@alice no #مرحبا\",1030,\n"
        "5,u5,erin,,,\"RT @alice: hello copy https://example.org/a?x=1.\",1040,\n")


def _peer_case(tmp_path, **kw):
    (tmp_path / "peer.csv").write_text(PEER, encoding="utf-8")
    case = Case(tmp_path / "c.duckdb")
    (res,) = ingest(case, [tmp_path / "peer.csv"], mapping={"ref_post_id": "repost_id", "reply_to_post_id": "reply_id"},
                    time_mode="epoch_s", **kw)
    return case, res


def test_reference_column_makes_retweets_and_replies(tmp_path):
    case, res = _peer_case(tmp_path)
    kinds = {r["post_id"]: r["kind"] for r in case.engine.query("SELECT post_id, kind FROM posts").to_pylist()}
    assert kinds == {"1": "original", "2": "retweet", "3": "retweet", "4": "reply", "5": "retweet"}
    assert any("kind inferred" in n for n in res.mapping["notes"])
    stored = json.loads(case.engine.scalar("SELECT mapping FROM provenance"))
    assert any("kind inferred" in n for n in stored["notes"])  # stated in the provenance too
    case.close()


def test_entities_come_from_the_text_in_any_script(tmp_path):
    case, res = _peer_case(tmp_path)
    rows = {r["post_id"]: r for r in case.engine.query("SELECT * FROM posts").to_pylist()}
    assert rows["1"]["hashtags"] == ["ایران", "سلام_دنیا"] and rows["1"]["mentions"] == ["bob"]
    assert rows["4"]["hashtags"] == ["مرحبا"]
    assert rows["5"]["ref_account_id"] == "alice"  # from the 'RT @alice:' prefix
    assert any("extracted from the text" in n for n in res.mapping["notes"])
    case.close()


def test_epoch_seconds_before_2000_load_when_the_unit_is_given(tmp_path):
    case, res = _peer_case(tmp_path)
    assert res.rows_rejected == 0 and case.count("posts") == 5
    assert str(case.engine.scalar("SELECT min(created_at) FROM posts")).startswith("1970-01-01 00:16:40")
    case.close()


def test_a_file_without_retweets_says_so(tmp_path):
    (tmp_path / "plain.csv").write_text("post_id,account_id,created_at,text\n1,a,2020-01-01,hello\n")
    with Case(tmp_path / "c.duckdb") as case:
        (res,) = ingest(case, [tmp_path / "plain.csv"])
    assert any(n.startswith("no retweets, replies, links") for n in res.mapping["notes"])


def test_run_refuses_to_clobber_and_resumes(tmp_path, sim_small, capsys):
    out = tmp_path / "run"
    api.run(sim_small["files"], out, seed=1, report=False)
    with pytest.raises(UnmaskError, match="--overwrite"):
        api.run(sim_small["files"], out, seed=1, report=False)
    with pytest.raises(SystemExit) as exc:
        main(["run", *map(str, sim_small["files"]), "--out", str(out), "--quiet"])
    assert exc.value.code == 2 and "already holds a case" in capsys.readouterr().err
    with Case(out / "case.duckdb") as case:
        assert api.finished_steps(case) == ["ingest", "detect", "analyse", "checks"]
        case.set_meta("steps", ["ingest", "detect"])  # as if killed during analyse
        case.engine.execute("DROP TABLE operations")
    res = api.run(sim_small["files"], out, seed=1, report=False, resume=True)
    assert res["resumed_after"] == "detect" and "ingest" not in res["seconds"] and "detect" not in res["seconds"]
    with Case(out / "case.duckdb", read_only=True) as case:
        assert case.has_table("operations") and api.finished_steps(case)[-1] == "checks"
    again = api.run(sim_small["files"], out, seed=1, report=False, overwrite=True)
    assert "ingest" in again["seconds"]


def test_an_interrupted_step_leaves_the_case_as_it_was(tmp_path, sim_small, monkeypatch):
    out = tmp_path / "run"
    api.run(sim_small["files"], out, seed=1, report=False)
    with Case(out / "case.duckdb") as case:
        before = case.count("clusters")

        def boom(*a, **k):
            raise KeyboardInterrupt

        monkeypatch.setattr(api.scores, "cell_summary", boom)  # Ctrl-C half-way through analyse
        with pytest.raises(KeyboardInterrupt):
            with api.step(case, "analyse"):
                case.engine.execute("DELETE FROM clusters")
                api.analyse(case)
    with Case(out / "case.duckdb", read_only=True) as case:
        assert case.count("clusters") == before and api.finished_steps(case)[-1] == "checks"


def test_evaluate_json_is_strict(tmp_path, sim_run, capsys):
    labels = tmp_path / "labels.csv"
    with Case(sim_run["out"] / "case.duckdb", read_only=True) as case:
        ids = [r["account_id"] for r in case.engine.query("SELECT account_id FROM accounts LIMIT 3").to_pylist()]
    labels.write_text("account_id,label\n" + "".join(f"{a},organic\n" for a in ids))
    main(["evaluate", "--case", str(sim_run["out"] / "case.duckdb"), "--labels", str(labels), "--json"])
    text = capsys.readouterr().out.strip()
    assert "NaN" not in text and json.loads(text)["auc"] is None


def test_the_spill_folder_goes_with_the_engine(tmp_path):
    """Each engine's spill folder is removed on close, when the engine is dropped unclosed, and when
    a process exits without closing it (an unclosed case left one folder in /tmp per run)."""
    import gc
    import subprocess
    import sys
    from pathlib import Path

    from unmask.engines.duckdb_engine import DuckDBEngine

    closed = DuckDBEngine(tmp_path / "a.duckdb")
    session = closed.session()
    folder = Path(closed._temp)
    assert folder.is_dir()
    session.close()
    assert folder.is_dir()  # a session's close leaves its owner's folder
    closed.close()
    assert not folder.exists()

    dropped = DuckDBEngine(tmp_path / "b.duckdb")
    folder = Path(dropped._temp)
    del dropped
    gc.collect()
    assert not folder.exists()

    code = ("from unmask.engines.duckdb_engine import DuckDBEngine; "
            f"e = DuckDBEngine({str(tmp_path / 'c.duckdb')!r}); print(e._temp)")
    left = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert Path(left).name.startswith("unmask-spill-")
    assert not Path(left).exists()
