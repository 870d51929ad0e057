"""Each trace's SQL is written once: DuckDB and Spark must give identical edges."""

import shutil

import numpy as np
import pytest

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
        finally:
            spark.close()


def test_detect_with_engine_spark_from_the_cli_matches_duckdb(tmp_path):
    """`unmask detect --engine spark`: the case's input tables go to Spark and the results come back
    into the case, the same as with DuckDB (co_link reads post_links, co_retweet posts)."""
    from click.testing import CliRunner

    from unmask.cli import cli

    files, _ = write(simulate(SimConfig(posts=3000, seed=9)), tmp_path / "sim")
    edges = {}
    for engine in ("duckdb", "spark"):
        path = tmp_path / f"{engine}.duckdb"
        with Case(path) as case:
            ingest(case, files)
        res = CliRunner().invoke(cli, ["detect", "--case", str(path), "--traces", "co_link,co_retweet", "--engine",
                                       engine, "--min-weight", "co_link=1", "--evidence-p", "1", "--quiet"])
        assert res.exit_code == 0, res.output
        with Case(path, read_only=True) as case:
            edges[engine] = case.engine.query(
                "SELECT account_a, account_b, trace, weight, n_objects, p_value FROM edges "
                "ORDER BY trace, account_a, account_b").to_pylist()
            evidence = case.engine.query("SELECT trace, count(*) AS n FROM edge_evidence GROUP BY trace").to_pylist()
        assert {r["trace"] for r in edges[engine]} == {"co_link", "co_retweet"}
        assert {r["trace"] for r in evidence} == {"co_link", "co_retweet"}
    assert edges["duckdb"] == edges["spark"]
