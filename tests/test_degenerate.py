"""Every command on the inputs users really have: each works (an empty report that says why,
exports with headers and no rows) or exits non-zero with one ``error:`` line. Never a traceback."""

import json
import os

import pytest

from unmask.cli import main

HEADER = "post_id,account_id,created_at,text\n"


def _inputs(d):
    (d / "header.csv").write_text(HEADER)
    (d / "allbad.csv").write_text(HEADER + "1,a,notatime,x\n2,,2020-01-01,y\n")
    (d / "one.csv").write_text(HEADER + "1,a,2020-01-01T00:00:00Z,hello\n")
    (d / "oneacc.csv").write_text(HEADER + "1,a,2020-01-01T00:00:00Z,hello\n2,a,2020-01-01T00:01:00Z,hello again\n")
    (d / "many.csv").write_text(HEADER + "".join(
        f"{i},acc{i},2020-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z,post number {i}\n" for i in range(2000)))
    (d / "random.csv").write_bytes(os.urandom(3000))
    (d / "trunc.jsonl").write_text('{"data":[{"id":"1","text":"hi","author_id":"9","created_at":"2021-06-26T00:00:00.0')
    (d / "latin1.csv").write_bytes(HEADER.encode() + "1,a,2020-01-01T00:00:00Z,café à la crème\n".encode("latin-1"))
    (d / "utf16.csv").write_bytes((HEADER + "1,a,2020-01-01T00:00:00Z,سلام\n").encode("utf-16"))
    (d / "adir").mkdir()
    return ["header.csv", "allbad.csv", "one.csv", "oneacc.csv", "many.csv", "random.csv", "trunc.jsonl",
            "latin1.csv", "utf16.csv", "missing.csv", "adir"]


def _run(capsys, *args):
    try:
        main(list(map(str, args)))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text, (args, text)
    if code:
        lines = [x for x in out.err.splitlines() if x.strip()]
        assert lines and (lines[-1].startswith("error:") or lines[-1].startswith("Error:")), (args, out.err)
    return code, text


@pytest.mark.parametrize("name", ["header.csv", "allbad.csv", "one.csv", "oneacc.csv", "many.csv", "random.csv",
                                  "trunc.jsonl", "latin1.csv", "utf16.csv", "missing.csv", "adir"])
def test_every_command_survives(tmp_path, capsys, name):
    _inputs(tmp_path)
    src, case = tmp_path / name, tmp_path / f"{name}.duckdb"
    code, _ = _run(capsys, "ingest", src, "--case", case, "--quiet")
    if name in ("random.csv", "missing.csv", "adir", "trunc.jsonl", "utf16.csv"):
        assert code != 0
    if case.exists():
        assert _run(capsys, "edges", "--case", case, "--trace", "co_retweet")[0] in (0, 2)
        assert _run(capsys, "detect", "--case", case, "--content", "--quiet")[0] == 0
        for fmt in ("gexf", "graphml", "csv", "parquet", "io-archive"):
            assert _run(capsys, "export", "--case", case, "--format", fmt, "--out", tmp_path / f"ex-{fmt}")[0] == 0
        assert _run(capsys, "report", "--case", case, "--out", tmp_path / "r.html")[0] == 0
        assert "No candidate operation" in (tmp_path / "r.html").read_text()
        assert _run(capsys, "edges", "--case", case, "--trace", "co_retweet")[0] == 0
        labels = tmp_path / "labels.csv"
        labels.write_text("account_id,label\na,organic\nacc1,organic\n")
        code, text = _run(capsys, "evaluate", "--case", case, "--labels", labels, "--json")
        if code == 0:
            json.loads(text.strip().splitlines()[-1])  # strict JSON: no NaN
    code, _ = _run(capsys, "run", src, "--out", tmp_path / "run", "--quiet")
    if code == 0:
        assert (tmp_path / "run" / "report.html").exists()


def test_csv_export_of_an_empty_case_has_headers(tmp_path, capsys):
    (tmp_path / "h.csv").write_text(HEADER)
    _run(capsys, "ingest", tmp_path / "h.csv", "--case", tmp_path / "c.duckdb", "--quiet")
    _run(capsys, "detect", "--case", tmp_path / "c.duckdb", "--quiet")
    assert _run(capsys, "export", "--case", tmp_path / "c.duckdb", "--format", "csv", "--out", tmp_path / "x")[0] == 0
    ops = (tmp_path / "x" / "clusters.csv").read_text().splitlines()
    assert len(ops) == 1 and '"rank"' in ops[0]
