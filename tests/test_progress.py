"""Progress of long steps: totals known up front, units and rows counted, the running statement's share."""

import pytest

from unmask import api
from unmask.ingest import ingest
from unmask.progress import Reporter
from unmask.store import Case


class _Engine:
    def __init__(self, p):
        self.p = p

    def progress(self):
        return self.p


def test_fraction_counts_units_and_the_running_statement():
    r = Reporter()
    r.start("detect", total_units=4, total_rows=4000, engine=_Engine(50.0))
    assert r.fraction() == 0.125  # half of the first of four units
    r.advance(1000)
    assert r.fraction() == 0.375
    r.engine = _Engine(-1.0)  # nothing running
    assert r.fraction() == 0.25 and r.rows_per_second() > 0


def test_ingest_and_detect_report_their_totals(tmp_path, sim_small):
    events = []

    class Recorder(Reporter):
        def start(self, label, total_units, total_rows, engine=None):
            super().start(label, total_units, total_rows, engine)
            events.append(("start", label, total_units, total_rows))

        def advance(self, rows=0, note=None):
            super().advance(rows, note)
            events.append(("advance", self.label, rows))

    rec = Recorder()
    with Case(tmp_path / "c.duckdb") as case:
        ingest(case, sim_small["files"], progress=rec)
        assert rec.fraction() == 1.0
        api.detect(case, traces=["co_retweet", "co_text"], progress=rec)
        posts = case.count("posts")
    start = [e for e in events if e[0] == "start"]
    assert start[0][:3] == ("start", "ingest", 2) and start[0][3] > 0.5 * posts  # the estimate is close
    assert start[1] == ("start", "detect", 2, 2 * posts)
    assert [e for e in events if e[:2] == ("advance", "detect")] == [("advance", "detect", posts)] * 2
    assert sum(e[2] for e in events if e[:2] == ("advance", "ingest")) >= posts


def test_cli_bar_shows_percentage_and_rate(tmp_path, sim_small, monkeypatch):
    from unmask import cli

    seen = []
    monkeypatch.setattr(cli.Progress, "update", lambda self, task, **kw: seen.append(kw))
    cli.main(["ingest", *map(str, sim_small["files"]), "--case", str(tmp_path / "c.duckdb")])
    rates = [kw["rate"] for kw in seen if kw.get("rate")]
    assert any(kw.get("total") == 100 for kw in seen)
    assert all(r.endswith("rows/s") for r in rates)


@pytest.mark.parametrize("command", ["demo", "run"])
def test_demo_and_run_with_the_bar_print_no_traceback(tmp_path, sim_small, command):
    """The bar's polling thread stops before the case closes (it asked a closed connection and
    printed a thread traceback on every demo)."""
    import subprocess
    import sys

    args = (["demo", "--posts", "6000", "--out", str(tmp_path / "d")] if command == "demo" else
            ["run", *map(str, sim_small["files"]), "--out", str(tmp_path / "r"), "--evidence-p", "1"])
    done = subprocess.run([sys.executable, "-c", "from unmask.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=600, env={**__import__("os").environ,
                                                                             "COLUMNS": "100"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "Exception in thread" not in done.stderr, done.stderr[-2000:]
    assert "report" in done.stdout
    from unmask.store import Case

    with Case(tmp_path / ("d" if command == "demo" else "r") / "case.duckdb", read_only=True) as case:
        assert case.get_meta("detect")["evidence_p"] == (0.05 if command == "demo" else 1.0)  # run --evidence-p
