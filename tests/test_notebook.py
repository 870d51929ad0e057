"""The notebook API, and docs/notebook.md executed as written."""

import re
from pathlib import Path

import pytest

import unmask
from unmask.errors import UnmaskError


def test_notebook_page_runs(tmp_path, capsys):
    page = (Path(__file__).parent.parent / "docs" / "notebook.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", page, re.S)
    exec(compile(code, "docs/notebook.md", "exec"), {"OUT": tmp_path / "demo", "__name__": "__main__"})
    printed = capsys.readouterr().out
    assert "accounts joined by" in printed  # the first operation's rationale


def test_open_returns_arrow_pandas_and_refuses_missing_tables(tmp_path, sim_run):
    case = unmask.open(sim_run["out"] / "case.duckdb")
    posts = case.posts()
    assert posts.num_rows == case.posts(as_="pandas").shape[0] > 0
    acc = case.accounts()
    assert {"network", "cell", "flagged"} <= set(acc.column_names)
    assert case.edges().num_rows >= case.edges("co_retweet").num_rows
    reg = case.registration()  # accounts found by how they were registered, each with its evidence
    registered = [s for s in acc.column("group_status").to_pylist() if s == "registered"]
    assert reg.num_rows == len(registered) > 0 and all(reg.column("evidence").to_pylist())
    with pytest.raises(Exception):
        case.posts(as_="excel")
    case.close()
    from tracekit import make_case, post

    make_case(tmp_path, [post("1", "a", 0.0, "hi")]).close()
    with unmask.open(tmp_path / "c.duckdb") as bare, pytest.raises(UnmaskError, match="unmask detect"):
        bare.operations()
