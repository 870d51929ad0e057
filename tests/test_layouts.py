"""The two layouts of a case hold the same tables: one DuckDB file, or a folder whose input tables
are Parquet datasets partitioned by post kind (which Spark reads where they lie)."""

from contextlib import contextmanager

import pyarrow.dataset as ds
import pytest
from conftest import differing, differing_rows

from unmask import api
from unmask.errors import UnmaskError
from unmask.ingest import ingest, loader
from unmask.report.html import write_report
from unmask.schema import INPUT_TABLES
from unmask.store import Case

ORDER = {"posts": "post_id", "post_links": "post_id, link_key"}


def _tables(case):
    return {t: case.engine.query(f"SELECT * FROM {t} ORDER BY {ORDER[t]}") for t in INPUT_TABLES}


def test_parquet_layout_holds_the_same_input_tables(sim_small, tmp_path):
    with Case(tmp_path / "c.duckdb") as a, Case(tmp_path / "lake", layout="parquet") as b:
        ra, rb = ingest(a, sim_small["files"]), ingest(b, sim_small["files"])
        assert [r.as_dict() for r in ra] == [r.as_dict() for r in rb]
        assert b.layout == "parquet" and a.layout == "duckdb"
        ta, tb = _tables(a), _tables(b)
        for t in INPUT_TABLES:
            assert ta[t].schema == tb[t].schema, t
            assert ta[t].equals(tb[t]), t
        assert a.engine.query("SELECT * FROM accounts ORDER BY account_id").equals(
            b.engine.query("SELECT * FROM accounts ORDER BY account_id"))
    # on disk: one folder per post kind, readable by any Parquet reader
    kinds = {p.name for p in (tmp_path / "lake" / "posts").iterdir()}
    assert {"kind=original", "kind=retweet"} <= kinds
    lake = ds.dataset(tmp_path / "lake" / "posts", format="parquet", partitioning="hive")
    assert lake.count_rows() == ta["posts"].num_rows
    assert lake.count_rows(filter=ds.field("kind") == "retweet") == sum(
        k == "retweet" for k in ta["posts"].column("kind").to_pylist())
    # reopened, the folder is the Parquet layout without being told
    with Case(tmp_path / "lake", read_only=True) as again:
        assert again.layout == "parquet" and again.count("posts") == ta["posts"].num_rows


def test_reingest_counts_duplicates_in_the_parquet_layout(sim_small, tmp_path):
    with Case(tmp_path / "lake", layout="parquet") as case:
        first = ingest(case, sim_small["files"][:1])[0]
        n = case.count("posts")
        again = ingest(case, sim_small["files"][:1])[0]
        assert again.rows_duplicate == first.rows_loaded and case.count("posts") == n


def test_an_interrupted_ingest_leaves_no_parquet_files(sim_small, tmp_path, monkeypatch):
    def boom(eng):
        raise RuntimeError("interrupted after the posts were written")

    with Case(tmp_path / "lake", layout="parquet") as case:
        monkeypatch.setattr(loader, "_merge_accounts", boom)
        with pytest.raises(RuntimeError):
            ingest(case, sim_small["files"][:1])
        assert not list((tmp_path / "lake").glob("*/*/*.parquet"))
        assert case.count("posts") == 0 and case.count("post_links") == 0
        monkeypatch.undo()
        ingest(case, sim_small["files"][:1])
        assert case.count("posts") > 0


def test_layouts_cannot_be_mixed_up(tmp_path):
    Case(tmp_path / "c.duckdb").close()
    with pytest.raises(UnmaskError, match="duckdb layout"):
        Case(tmp_path / "c.duckdb", layout="parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UnmaskError, match="no case.duckdb"):
        Case(tmp_path / "empty", read_only=True)
    with pytest.raises(UnmaskError, match="unknown case layout"):
        Case(tmp_path / "x", layout="sqlite")


def test_run_in_the_parquet_layout_gives_the_same_results_and_report(sim_run, tmp_path):
    res = api.run(sim_run["files"], tmp_path / "out", seed=1, layout="parquet", report=False)
    assert res["case"].endswith("case")
    with Case(sim_run["out"] / "case.duckdb", read_only=True) as a, Case(tmp_path / "out" / "case",
                                                                          read_only=True) as b:
        assert b.layout == "parquet"
        ra = write_report(a, tmp_path / "a.html", generated_at="fixed").read_text()
        rb = write_report(b, tmp_path / "b.html", generated_at="fixed").read_text()
    assert ra.count("<tr") > 10 and ra == rb
    with Case(sim_run["out"] / "case.duckdb", read_only=True) as a:
        for t in ("edges", "fused_edges", "clusters", "groups", "operations", "account_scores"):
            assert differing_rows(a, tmp_path / "out" / "case" / "case.duckdb", t) == [0, 0], t
            assert a.count(t) > 0, t
    with pytest.raises(UnmaskError, match="already holds a case"):
        api.run(sim_run["files"], tmp_path / "out", seed=1, report=False)


def test_spark_options_are_refused_without_the_spark_engine(tmp_path):
    from unmask.errors import ParameterError

    with Case(tmp_path / "c.duckdb") as case:
        for opts in ({"spark_master": "spark://host:7077"}, {"inputs_at": "s3a://bucket/case"}):
            with pytest.raises(ParameterError, match="--engine spark only"):
                api.detect(case, traces=["co_retweet"], **opts)


@pytest.mark.parametrize("layout", ["duckdb", "parquet"])
def test_traces_run_on_their_own_connection_with_the_same_edges(sim_small, tmp_path, monkeypatch, layout):
    """detect runs its traces on another connection to the case, outside the step's transaction
    (where DuckDB plans temporary tables without their statistics): same edges and evidence as on
    the case's own connection, in either layout; rows appended in the open transaction are seen."""
    traces = ["co_retweet", "fast_retweet", "co_text", "synchronized_posting"]
    with Case(tmp_path / "a", layout=layout) as case:
        ingest(case, sim_small["files"])
        n = case.count("posts")
        with case.transaction(), case.reader() as eng:
            assert eng is not case.engine
            eng.create_table("_only_there", "SELECT 1 AS x")
            assert case.engine.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_only_there'") == 0
            assert eng.scalar("SELECT count(*) FROM posts") == n
        with api.step(case, "detect"):
            api.detect(case, traces=traces)
        for t in ("edges", "edge_evidence"):
            case.engine.create_table(f"_ours_{t}", f"SELECT * FROM {t}")
            assert case.engine.scalar(f"SELECT count(*) FROM _ours_{t}"), t

        @contextmanager
        def own(self):
            yield self.engine

        monkeypatch.setattr(Case, "reader", own)
        with api.step(case, "detect"):
            api.detect(case, traces=traces)
        for t in ("edges", "edge_evidence"):
            assert differing(case.engine, t, f"_ours_{t}") == [0, 0], t
        monkeypatch.undo()
        # rows appended in the open transaction are not committed: the traces then use the case's own connection
        with pytest.raises(RuntimeError, match="roll back"):
            with case.transaction():
                case.append("posts", "SELECT * REPLACE ('copy:' || post_id AS post_id) FROM posts LIMIT 10")
                with case.reader() as eng:
                    assert eng is case.engine and eng.scalar("SELECT count(*) FROM posts") == n + 10
                raise RuntimeError("roll back")
        assert case.count("posts") == n
