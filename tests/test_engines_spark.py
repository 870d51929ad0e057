"""Each trace's SQL is written once: DuckDB and Spark must give identical edges."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import differing_rows

pyspark = pytest.importorskip("pyspark", reason="the spark extra is not installed")
if not shutil.which("java"):
    pytest.skip("Spark needs Java", allow_module_level=True)

from unmask.engines import get_engine  # noqa: E402
from unmask.ingest import ingest  # noqa: E402
from unmask.simulate import SimConfig, simulate  # noqa: E402
from unmask.simulate.writers import write  # noqa: E402
from unmask.schema import INPUT_TABLES  # noqa: E402
from unmask.store import Case  # noqa: E402
from unmask.network.significance import trace_pvalues  # noqa: E402
from unmask.traces import TRACES, run_trace  # noqa: E402

pytestmark = pytest.mark.spark


def _edges(res):
    cols = ["account_a", "account_b", "trace", "weight", "n_objects", "first_at", "last_at"]
    rows = res.edges.select(cols).to_pylist()
    out = sorted((tuple(r[c] for c in cols), round(r_w, 9)) for r, r_w in
                 zip(rows, res.edges.column("rarity_weight").to_pylist()))
    return out


def test_duckdb_and_spark_give_identical_edges(tmp_path):
    files, _ = write(simulate(SimConfig(posts=3000, seed=9)), tmp_path / "sim")
    with Case(tmp_path / "c.duckdb") as case:
        ingest(case, files)
        spark = get_engine("spark")
        # every table registered from the driver goes through a Parquet file here (on a large case,
        # the way that spares the driver's heap); the whole-run test below keeps them in memory
        spark.in_memory_rows = 0
        # shuffle partitions grow with the case (8 up to 2M posts, 40 at 10M); the answers must not
        # depend on them, so this run uses a 10M case's 40 and the whole-run test below the default 8
        spark.size_for(1_000_000)
        assert spark.spark.conf.get("spark.sql.shuffle.partitions") == "8"
        spark.size_for(10_000_000)
        assert spark.spark.conf.get("spark.sql.shuffle.partitions") == "40"
        # DuckDB runs the rhythm null's shifted worlds one per pass, Spark all in one pass
        case.engine.rhythm_pass_rows = 1
        try:
            for table in INPUT_TABLES:
                spark.register(table, case.table(table))
            for name in sorted(TRACES):
                a = run_trace(case.engine, name, min_weight=1, shuffles=2, seed=3)
                b = run_trace(spark, name, min_weight=1, shuffles=2, seed=3)
                assert _edges(a) == _edges(b), name
                assert a.stats["window_pairs"] == b.stats["window_pairs"], name
                if a.rhythm_expected is not None or b.rhythm_expected is not None:
                    np.testing.assert_array_equal(np.asarray(a.rhythm_expected, float),
                                                  np.asarray(b.rhythm_expected, float), err_msg=name)
                    np.testing.assert_array_equal(np.asarray(a.rhythm_var, float),
                                                  np.asarray(b.rhythm_var, float), err_msg=name)
                # the null's expectations, computed in each engine, and the p-values from them
                order = lambda r: np.lexsort((r.edges.column("account_b").to_numpy(zero_copy_only=False),  # noqa: E731
                                              r.edges.column("account_a").to_numpy(zero_copy_only=False)))
                ia, ib = order(a), order(b)
                np.testing.assert_allclose(a.edges.column("expected").to_numpy()[ia],
                                           b.edges.column("expected").to_numpy()[ib], rtol=1e-9, err_msg=name)
                pa_, pb_ = trace_pvalues(a).column("p_value").to_numpy(), trace_pvalues(b).column("p_value").to_numpy()
                np.testing.assert_allclose(pa_[ia], pb_[ib], rtol=1e-9, err_msg=name)
                ev = lambda r: sorted(map(tuple, (x.values() for x in r.evidence.to_pylist())))  # noqa: E731
                assert ev(a) == ev(b), name
            scratch = spark._scratch
            assert scratch is not None and any(Path(scratch).iterdir())
        finally:
            spark.close()
        assert not Path(scratch).exists()


def test_run_with_engine_spark_on_the_parquet_layout_matches_duckdb(tmp_path):
    """`unmask run --engine spark --layout parquet`: Spark reads the input tables where they lie and
    gives the same edges (p- and q-values included), links, networks, operations and report as
    `unmask run` on DuckDB; only the report's engine line differs. Cascades included (seed 9)."""
    from click.testing import CliRunner

    from unmask.cli import cli
    from unmask.report.html import write_report

    files, _ = write(simulate(SimConfig(posts=3000, seed=9)), tmp_path / "sim")
    runs = {"duckdb": ["--out", str(tmp_path / "duckdb")],
            "spark": ["--out", str(tmp_path / "spark"), "--engine", "spark", "--layout", "parquet"]}
    for args in runs.values():
        res = CliRunner().invoke(cli, ["run", *map(str, files), *args, "--seed", "2", "--quiet"])
        assert res.exit_code == 0, res.output
    lake = tmp_path / "spark" / "case"
    assert (lake / "posts" / "kind=retweet").is_dir()
    with Case(tmp_path / "duckdb" / "case.duckdb", read_only=True) as a, Case(lake, read_only=True) as b:
        assert b.get_meta("detect")["engine"] == "spark" and b.layout == "parquet"
        ra = write_report(a, tmp_path / "a.html", generated_at="fixed").read_text()
        rb = write_report(b, tmp_path / "b.html", generated_at="fixed").read_text()
        assert a.count("edges") > 0
    assert "engine spark" in rb and rb.replace("engine spark", "engine duckdb") == ra
    with Case(tmp_path / "duckdb" / "case.duckdb", read_only=True) as a:
        for t in ("edges", "edge_evidence", "fused_edges", "clusters", "groups", "operations"):
            assert differing_rows(a, lake / "case.duckdb", t) == [0, 0], t

    # --inputs-at: Spark reads the input tables from another place. A copy without the retweets
    # gives co_link's edges and no co_retweet edge, so the copy is what was read.
    elsewhere = tmp_path / "bucket"
    for name in ("posts", "post_links"):
        shutil.copytree(lake / name, elsewhere / name)
    shutil.rmtree(elsewhere / "posts" / "kind=retweet")
    case_file = tmp_path / "duckdb" / "case.duckdb"
    found = {}
    for engine, extra in (("duckdb", []), ("spark", ["--inputs-at", elsewhere.as_uri()])):
        res = CliRunner().invoke(cli, ["detect", "--case", str(case_file), "--traces", "co_link,co_retweet",
                                       "--min-weight", "co_link=1", "--reset", "--engine", engine, *extra, "--quiet"])
        assert res.exit_code == 0, res.output
        with Case(case_file, read_only=True) as a:
            found[engine] = {t: a.engine.query(f"SELECT account_a, account_b, p_value FROM edges WHERE trace = '{t}' "
                                               "ORDER BY ALL").to_pylist() for t in ("co_link", "co_retweet")}
    assert found["duckdb"]["co_link"] and found["duckdb"]["co_retweet"]
    assert found["spark"]["co_link"] == found["duckdb"]["co_link"]
    assert found["spark"]["co_retweet"] == []


def test_spark_streams_a_query_result_in_batches(monkeypatch):
    """near_duplicate_text reads every normalised text through query_batches: on Spark (local mode)
    the result must never come whole through the driver's heap (a 3M-post case ran the 1 GB heap
    out that way). Spark's tasks write it to the scratch folder, it is read back in batches of the
    size asked for, and the files go once it is read."""
    import pyarrow as pa
    from pyspark.sql.classic.dataframe import DataFrame

    def whole(self):
        raise AssertionError("query_batches fetched the whole result")

    monkeypatch.setattr(DataFrame, "toArrow", whole)
    monkeypatch.setattr(DataFrame, "collect", whole)
    spark = get_engine("spark")
    n = 25_000
    try:
        spark.register("_nums", pa.table({"i": pa.array(range(n), pa.int64()),
                                          "s": pa.array([f"text {i}" for i in range(n)])}))
        batches = list(spark.query_batches("SELECT i, s FROM _nums WHERE i % 2 = 0", 3000))
        spark.unregister("_nums")
        left = list(Path(spark._scratch).iterdir())
    finally:
        spark.close()
    assert left == []
    assert len(batches) >= 5 and all(0 < b.num_rows <= 3000 for b in batches)
    got = pa.Table.from_batches(batches)
    assert got.schema.names == ["i", "s"]
    assert sorted(got.column("i").to_pylist()) == list(range(0, n, 2))
    assert sorted(got.column("s").to_pylist()) == sorted(f"text {i}" for i in range(0, n, 2))


def test_the_scratch_folder_goes_with_the_engine():
    """An engine never closed (a run stopped by an error: a driver out of heap kills the JVM, and
    close() could not reach the folder) must not leave its scratch folder in /tmp: it goes when the
    engine is collected, or at exit."""
    import gc

    spark = get_engine("spark")
    folder = Path(spark._scratch_folder())
    (folder / "part.parquet").write_bytes(b"x")
    assert folder.is_dir()
    del spark
    gc.collect()
    assert not folder.exists()


def test_partitions_the_caller_sets_are_kept():
    """size_for scales the shuffle partitions with the case unless the engine was made with its own
    (a cluster's user who knows its cores); then a 10M case keeps the caller's number."""
    from unmask.engines.spark_engine import SparkEngine

    spark = SparkEngine(config={"spark.sql.shuffle.partitions": "3"})
    try:
        spark.size_for(10_000_000)
        assert spark.spark.conf.get("spark.sql.shuffle.partitions") == "3"
    finally:
        spark.close()
    scaled = get_engine("spark")
    try:
        scaled.size_for(10_000_000)
        assert scaled.spark.conf.get("spark.sql.shuffle.partitions") == "40"
    finally:
        scaled.close()
