import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import archive_row, write_archive
from unmask.cli import cli


def test_ingest_json_prints_exactly_one_object(tmp_path):
    path = write_archive(tmp_path / "t.csv", [archive_row(tweetid="1", userid="1", tweet_time="2018-01-01 00:00"),
                                              archive_row(tweetid="1.2E+18", userid="1", tweet_time="2018-01-01 00:00")])
    res = CliRunner().invoke(cli, ["ingest", str(path), "--case", str(tmp_path / "c.duckdb"), "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert obj["rows_read"] == obj["rows_loaded"] + obj["rows_rejected"] == 2
    assert obj["rejects"][0] == {"file": str(path), "row": 2, "column": "post_id",
                                 "reason": obj["rejects"][0]["reason"]}
    assert set(obj) >= {"rows_read", "rows_loaded", "rows_rejected", "rejects", "case"}


def test_unreadable_input_is_a_clear_error_and_nonzero_exit(tmp_path):
    bad = tmp_path / "nothing.csv"
    bad.write_text("")
    proc = subprocess.run([sys.executable, "-m", "unmask", "ingest", str(bad), "--case", str(tmp_path / "c.duckdb")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "nothing.csv" in proc.stderr and "row 0" in proc.stderr


def test_map_options_and_simulate_describe(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["simulate", "--posts", "2000", "--seed", "1", "--out", str(tmp_path / "sim"),
                              "--format", "csv", "--describe", "--set", "operations=2"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["posts"] == 2000 and len(info["operations"]) == 2
    res = runner.invoke(cli, ["ingest", str(tmp_path / "sim" / "posts.csv"), "--case", str(tmp_path / "c.duckdb"),
                              "--map", "account_id=author", "--map", "created_at=timestamp", "--map", "urls=links",
                              "--map", "hashtags=tags", "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rows_loaded"] == 2000
    res = runner.invoke(cli, ["detect", "--case", str(tmp_path / "c.duckdb"), "--traces", "co_retweet,co_text",
                              "--window", "co_retweet=2m", "--min-weight", "co_text=3", "--quiet"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["edges", "--case", str(tmp_path / "c.duckdb"), "--trace", "co_retweet", "--top", "3"])
    assert res.exit_code == 0 and "weight" in res.output
    res = runner.invoke(cli, ["evaluate", "--case", str(tmp_path / "c.duckdb"), "--labels",
                              str(tmp_path / "sim" / "labels.csv"), "--json"])
    obj = json.loads(res.stdout)
    assert {"precision", "recall", "f1", "organic_fpr", "auc", "ari", "nmi", "per_operation", "n_accounts"} <= set(obj)


def test_a_parameter_for_a_trace_not_run_is_refused(tmp_path):
    write_archive(tmp_path / "t.csv", [archive_row(tweetid="1", userid="1", tweet_time="2018-01-01 00:00")])
    runner = CliRunner()
    runner.invoke(cli, ["ingest", str(tmp_path / "t.csv"), "--case", str(tmp_path / "c.duckdb"), "--quiet"])
    proc = subprocess.run([sys.executable, "-m", "unmask", "detect", "--case", str(tmp_path / "c.duckdb"),
                           "--traces", "co_text", "--window", "co_retweet=10s", "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 2 and "co_retweet" in proc.stderr


def test_simulate_set_takes_text_knobs_such_as_dates(tmp_path):
    """--set start=2018-04-01 is a date, not JSON (it used to end in a JSONDecodeError)."""
    res = CliRunner().invoke(cli, ["simulate", "--posts", "500", "--set", "start=2018-04-01", "--set", "days=3",
                                   "--set", "operations=1", "--describe"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert "2018-03-31" <= info["period"][0] and info["period"][1] < "2018-04-06"  # the default starts 2018-03-01


def test_simulate_names_an_unknown_knob(tmp_path):
    res = CliRunner().invoke(cli, ["simulate", "--posts", "500", "--set", "unknown_knob=1", "--describe"])
    assert res.exit_code != 0
    assert "unknown_knob" in str(res.exception) + res.output and "fan_bases" in str(res.exception) + res.output


def test_null_worlds_and_group_worlds_are_options_of_detect(tmp_path, sim_small):
    """--null-worlds sets the rhythm null's shifted worlds, --group-worlds the group test's null worlds;
    both are recorded in the case, and the selection p-value's resolution follows."""
    from unmask.store import Case

    case = str(tmp_path / "c.duckdb")
    CliRunner().invoke(cli, ["ingest", *map(str, sim_small["files"]), "--case", case, "--quiet"])
    res = CliRunner().invoke(cli, ["detect", "--case", case, "--traces", "co_hashtag,co_retweet", "--null-worlds", "4",
                                   "--group-worlds", "3", "--quiet"])
    assert res.exit_code == 0, res.output
    with Case(case, read_only=True) as c:
        assert c.get_meta("detect")["stats"]["co_hashtag"]["rhythm_null"]["shuffles"] == 4
        worlds = c.get_meta("analyse")["group_null_worlds"]
        # (registration groups are not chosen from links, so they have no selection p-value)
        selection = c.engine.query("SELECT selection_p FROM groups WHERE status <> 'registered'").column(0).to_pylist()
    assert worlds["worlds"] == 3 and worlds["resolution"] == 0.25 and len(worlds["best_p"]) == 3
    assert selection and all(p in (0.25, 0.5, 0.75, 1.0) for p in selection)


@pytest.mark.parametrize("how", ["py4j error", "refused by a gone JVM"])
def test_a_spark_failure_is_one_line_that_points_at_the_driver_heap(tmp_path, monkeypatch, capsys, how):
    """A Spark driver that runs out of heap now exits (it used to hang); the error that follows (Py4J's
    own, or a refused connection inside Py4J) is reported as Spark's failure with the way out, not
    as a bug in unmask nor as a bare errno."""
    protocol = pytest.importorskip("py4j.protocol", reason="the spark extra is not installed")
    from unmask import api
    from unmask.cli import main

    if how == "py4j error":
        def failing(*args, **kwargs):
            raise protocol.Py4JNetworkError("Answer from Java side is empty")
    else:  # raised from a frame in py4j's own files, as py4j's gateway client raises it
        ns = {}
        exec(compile("def failing(*args, **kwargs):\n    raise ConnectionRefusedError(111, 'Connection refused')\n",
                     "/site-packages/py4j/clientserver.py", "exec"), ns)
        failing = ns["failing"]

    case = tmp_path / "c.duckdb"
    res = CliRunner().invoke(cli, ["ingest", str(write_archive(tmp_path / "t.csv", [archive_row()])),
                                   "--case", str(case), "--quiet"])
    assert res.exit_code == 0, res.output
    monkeypatch.setattr(api, "detect", failing)
    monkeypatch.delenv("UNMASK_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main(["detect", "--case", str(case), "--quiet"])
    err = capsys.readouterr().err
    assert exit_.value.code == 1, err
    assert "Spark failed (" in err and "OutOfMemoryError" in err and "Driver heap" in err
    assert "bug in unmask" not in err


def test_run_prints_the_row_accounting_and_the_findings(tmp_path, sim_small):
    """`unmask run` says what it read, loaded and rejected (with the first rejects) and what it found,
    as `ingest` and `detect` do: it printed only the case's and the report's paths."""
    from unmask.store import Case

    bad = write_archive(tmp_path / "extra.csv", [archive_row(tweetid="5", userid="9", tweet_time="2018-01-01 00:00"),
                                                 archive_row(tweetid="1.2E+18", userid="9", tweet_time="2018-01-01 00:00")])
    files = [*map(str, sim_small["files"]), str(bad)]
    res = CliRunner().invoke(cli, ["run", *files, "--out", str(tmp_path / "r"), "--quiet"])
    assert res.exit_code == 0, res.output
    with Case(tmp_path / "r" / "case.duckdb", read_only=True) as case:
        prov = {r["file"]: r for r in case.engine.query("SELECT file, rows_read, rows_loaded, rows_rejected "
                                                          "FROM provenance").to_pylist()}
        ana = case.get_meta("analyse")
    text = " ".join(res.stdout.split())  # rich wraps long lines
    for f in files:
        p = prov[f]
        assert f"{f}: read {p['rows_read']:,}, loaded {p['rows_loaded']:,}" in text, (f, text)
    assert prov[str(bad)]["rows_rejected"] == 1
    assert f"rejected {bad} row 2 column post_id" in text
    assert "1 rows rejected" in " ".join(res.stderr.split())
    assert (f"{ana['significant_links']:,} significant links" in text
            and f"{ana['candidate_operations']} candidate operations" in text), text
    assert ana["candidate_operations"] > 0 and f"report: {tmp_path / 'r' / 'report.html'}" in text
