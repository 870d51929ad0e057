import xml.etree.ElementTree as ET

import json

import igraph as ig
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from unmask.errors import ParameterError
from unmask.export import export
from unmask.ingest import ingest
from unmask.store import Case


@pytest.fixture(scope="module")
def case(sim_run):
    with Case(sim_run["out"] / "case.duckdb", read_only=True) as c:
        yield c


def test_gexf_and_graphml_carry_attributes(case, tmp_path):
    (gexf,) = export(case, "gexf", tmp_path / "n.gexf")
    root = ET.parse(gexf).getroot()
    ns = {"g": "http://gexf.net/1.3"}
    titles = {a.get("title") for a in root.iter("{http://gexf.net/1.3}attribute")}
    assert {"cluster", "score", "persona_flags", "p_fused", "co_retweet_weight", "co_retweet_p"} <= titles
    n_edges = len(root.findall(".//g:edge", ns))
    (graphml,) = export(case, "graphml", tmp_path / "n.graphml")
    g = ig.Graph.Read_GraphML(str(graphml))
    assert g.ecount() == n_edges > 0 and "cluster" in g.vs.attributes() and "co_text_p" in g.es.attributes()
    significant = case.get_meta("analyse")["significant_links"]
    assert n_edges == significant


def test_parquet_tables_and_account_columns(case, tmp_path):
    files = export(case, "parquet", tmp_path / "pq")
    assert {f.stem for f in files} == {"posts", "accounts", "edges", "clusters", "cluster_members", "groups", "cells",
                                       "covertness", "registration_kin"}
    acc = pq.read_table(tmp_path / "pq" / "accounts.parquet")
    assert {"behaviour_utc_offset", "behaviour_tz_confidence", "claimed_utc_offset", "persona_flags",
            "state_media_share", "score", "cluster", "network", "cell", "group_status"} <= set(acc.column_names)
    # registered accounts (no coordinated action; created with a flagged network's members, with its
    # marks) are flagged with their evidence, and have no cell
    registered = acc.filter(pc.equal(acc.column("group_status"), "registered"))
    assert registered.num_rows > 0 and all(registered.column("flagged").to_pylist())
    assert registered.column("cell").null_count == registered.num_rows
    assert all(p <= 0.05 for p in registered.column("registration_p").to_pylist())
    assert all(e for e in registered.column("registration_evidence").to_pylist())
    flagged = acc.filter(pc.and_(acc.column("flagged"), pc.not_equal(acc.column("group_status"), "registered")))
    assert flagged.num_rows > 0 and flagged.column("cell").null_count == 0
    assert set(flagged.column("group_status").to_pylist()) == {"flagged"}
    # the two axes, per account and per group: coordination p and covertness with its factors
    assert set(flagged.column("covertness_verdict").to_pylist()) <= {"covert", "unassessed"}
    assert all(p is not None and p <= 0.05 for p in flagged.column("coordination_p").to_pylist())
    open_ = acc.filter(pc.equal(acc.column("group_status"), "open"))
    assert set(open_.column("covertness_verdict").to_pylist()) <= {"open"} and not any(open_.column("flagged").to_pylist())
    groups = pq.read_table(tmp_path / "pq" / "groups.parquet")
    assert {"group_p", "group_q", "status", "coordination_p", "covertness", "covertness_verdict"} <= set(groups.column_names)
    cov = pq.read_table(tmp_path / "pq" / "covertness.parquet").to_pylist()
    assert cov and all(json.loads(r["factors"]) for r in cov if r["verdict"] != "unassessed")
    assert pq.read_table(tmp_path / "pq" / "posts.parquet").num_rows == case.count("posts")
    csvs = export(case, "csv", tmp_path / "csv")
    assert (tmp_path / "csv" / "edges.csv").read_text().count("\n") == case.count("edges") + 1
    assert len(csvs) == 9


def test_io_archive_export_round_trips(case, tmp_path):
    tweets, users = export(case, "io-archive", tmp_path / "arch")
    flagged = case.engine.scalar("SELECT count(*) FROM posts JOIN account_scores s USING (account_id) WHERE s.flagged")
    with Case(tmp_path / "again.duckdb") as again:
        res = ingest(again, [tweets, users])
        assert res[0].format == "io-archive" and res[0].rows_loaded == flagged and res[0].rows_rejected == 0
        assert res[1].format == "io-archive-users"


def test_unknown_format(case, tmp_path):
    with pytest.raises(ParameterError):
        export(case, "pdf", tmp_path / "x")
