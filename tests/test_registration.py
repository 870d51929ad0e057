"""Registration: an operation's dormant accounts (no coordinated action) are found by how they were
registered with its members, and an expert boost (boosters that retweet like a small audience) by its
registration batches; a newsroom registered the same way, but honest about who it is, is not flagged."""

import csv
from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import pytest

from unmask import api
from unmask.export import accounts_table
from unmask.network import registration
from unmask.simulate import SimConfig, simulate
from unmask.simulate.writers import write
from unmask.store import Case

WORLD = dict(posts=30000, operations=2, styles=["co_retweet_ring", "expert_boost"], op_min_size=30, op_max_size=30,
             dormant_share=0.3, open_campaigns=2, open_campaign_styles=["newsroom", "fan_army"], open_campaign_size=30)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("reg")
    files, labels = write(simulate(SimConfig(seed=5, **WORLD)), out / "data")
    api.run(files, out, seed=3)
    with open(labels, encoding="utf-8") as fh:
        truth = {r["account_id"]: r for r in csv.DictReader(fh)}
    with Case(out / "case.duckdb") as case:
        clusters = {r["account_id"]: r for r in case.table("clusters").to_pylist()}
        kin = case.table("registration_kin").to_pylist()
        groups = case.engine.query("SELECT * FROM groups WHERE status = 'registered'").to_pylist()
        acc = {r["account_id"]: r for r in accounts_table(case).to_pylist()}
        api.run_checks(case)  # a second time: the same registrations, none doubled, no row lost
        again = case.table("registration_kin").to_pylist()
        assert sorted(case.table("clusters").to_pylist(), key=lambda r: r["account_id"]) == \
            sorted(clusters.values(), key=lambda r: r["account_id"])
        again_groups = case.engine.scalar("SELECT count(*) FROM groups WHERE status = 'registered'")
        again_ops = case.engine.scalar("SELECT count(*) FROM operations WHERE verdict = 'registered'")
    html = (out / "report.html").read_text(encoding="utf-8")
    return truth, clusters, kin, groups, acc, html, (again, again_groups, again_ops), out


def _of(truth, group, role=None):
    return [a for a, r in truth.items() if r["group"] == group and (role is None or r["role"] == role)]


def test_dormant_accounts_are_registered_with_their_operation(world):
    truth, clusters, kin, *_ = world
    dormant = _of(truth, "op1-tehran-co-retweet-ring", "dormant")
    ring = [a for a in _of(truth, "op1-tehran-co-retweet-ring", "operator") if clusters.get(a, {}).get("status") == "flagged"]
    assert len(dormant) >= 5 and len(ring) >= 15
    network = Counter(clusters[a]["network"] for a in ring).most_common(1)[0][0]
    registered = [a for a in dormant if clusters.get(a, {}).get("status") == "registered"]
    # dormant accounts carry the operation's marks (its app 75%, bulk handles 80%, its bios) but not all
    assert len(registered) >= 0.6 * len(dormant), (len(registered), len(dormant))
    assert all(clusters[a]["network"] == network and clusters[a]["cluster"] is None for a in registered)
    by = {r["account_id"]: r for r in kin}
    for a in registered:
        assert by[a]["p"] <= 0.05 and by[a]["matched_on"] and "no coordinated action" in by[a]["evidence"]


def test_an_expert_boost_is_a_registration_group_and_a_newsroom_is_not(world):
    truth, clusters, kin, groups, acc, html, *_ = world
    boost = _of(truth, "op2-moscow-expert-boost", "operator")
    found = [a for a in boost if clusters.get(a, {}).get("status") == "registered"]
    assert len(found) >= 0.6 * len(boost), (len(found), len(boost))
    assert groups and all(g["covertness_verdict"] == "covert" and g["group_p"] <= 1e-6 for g in groups)
    assert {clusters[a]["cluster"] for a in found} <= {g["cluster"] for g in groups}
    # the newsroom was signed up in one afternoon with one uncommon app and retweets its outlet, but
    # its staff are who they say they are
    newsroom = _of(truth, "open1-newsroom")
    assert not [a for a in newsroom if acc[a]["flagged"]]
    assert not [r for r in kin if truth[r["account_id"]]["label"] == "organic"]
    # exports and the report carry the evidence
    assert all(acc[a]["flagged"] and acc[a]["group_status"] == "registered" and acc[a]["registration_p"] <= 0.05
               and acc[a]["registration_evidence"] for a in found)
    assert "Registered with this network" in html and "registration" in html


def test_checks_rerun_leave_the_registrations_as_they_were(world):
    _, _, kin, groups, _, _, (again, again_groups, again_ops), out = world
    assert again == kin and again_groups == len(groups) == again_ops
    # an account registered from a small cluster gets its small cluster back when registration is undone
    with Case(out / "case.duckdb") as case:
        registration.reset(case)
        a = kin[0]["account_id"]
        case.engine.execute("INSERT INTO clusters (account_id, cluster, cluster_size, is_candidate, status) "
                            "VALUES (?, 999, 2, false, 'small')", [a])
        registration.attach(case)
        assert case.engine.scalar("SELECT status FROM clusters WHERE account_id = ?", [a]) == "registered"
        registration.reset(case)
        assert case.engine.query("SELECT cluster, status FROM clusters WHERE account_id = ?", [a]).to_pylist() == \
            [{"cluster": 999, "status": "small"}]


def test_batches_split_on_gaps_and_need_three():
    t0 = datetime(2020, 1, 1)
    times = [t0, t0 + timedelta(hours=2), t0 + timedelta(hours=20), t0 + timedelta(days=3),
             t0 + timedelta(days=3, hours=1), t0 + timedelta(days=9)]
    assert registration.batches(times) == [(t0, t0 + timedelta(hours=20), 3)]
    assert registration.batches(times, min_batch=2) == [
        (t0, t0 + timedelta(hours=20), 3), (t0 + timedelta(days=3), t0 + timedelta(days=3, hours=1), 2)]


def _null_accounts(seed, n=4000, bulk=0.1):
    """A case where how accounts were registered says nothing: creation times (spread over three years,
    a third of them in sign-up waves) independent of apps, handles and bios."""
    rng = np.random.default_rng(seed)
    t0 = datetime(2016, 1, 1)
    waves = rng.uniform(0, 3 * 365, 12)
    days = np.where(rng.random(n) < 0.33, waves[rng.integers(0, 12, n)] + rng.uniform(0, 2, n),
                    rng.uniform(0, 3 * 365, n))
    apps = ["Twitter for iPhone", "Twitter for Android", "Twitter Web App", "TweetDeck", "Twitter for iPad",
            "Buffer", "Hootsuite Inc."]
    app = rng.choice(len(apps), n, p=[0.44, 0.34, 0.12, 0.04, 0.03, 0.02, 0.01])
    bios = ["Proud mom. Love my dogs.", "Football, family and friends", "Living my best life every day"]
    out = []
    for i in range(n):
        u = rng.random()
        out.append({"account_id": f"a{i:05d}", "created_at": t0 + timedelta(days=float(days[i])),
                    "main_client": apps[app[i]], "handle": f"name{rng.integers(10**7, 10**8)}" if rng.random() < bulk
                    else f"person_{i}", "description": bios[int(u * 30)] if u < 0.1 else f"my own words {i}",
                    "network": None, "flagged": None})
    return out


def test_chance_registers_no_account_in_null_cases():
    """Family-wise: in cases where creation is independent of the marks (sign-up waves included), the
    share of cases where chance makes any registration batch, or registers any account with a network
    of accounts that share a mark, stays at or under alpha."""
    alpha, cases = 0.05, 60
    batch_hits = kin_hits = 0
    for seed in range(cases):
        accounts = _null_accounts(seed)
        # audiences that say nothing: 20 accounts, each amplified by 60 accounts drawn at random
        rng = np.random.default_rng(2000 + seed)
        ids = [r["account_id"] for r in accounts]
        heard = {ids[t]: {ids[a] for a in rng.choice(len(ids), 60, replace=False)}
                 for t in rng.choice(len(ids), 20, replace=False)}
        batch_hits += bool(registration.scan(accounts, accounts, alpha, heard)[0])
        # a flagged "network" of 25 accounts that share a mark (bulk handles), created whenever they were
        rng = np.random.default_rng(1000 + seed)
        bulk = [r for r in accounts if registration.HANDLE_DIGITS.match(r["handle"])]
        for i in rng.choice(len(bulk), 25, replace=False):
            bulk[i].update(network=1, flagged=True)
        # and audiences that say nothing either: 20 accounts, each amplified by 60 accounts drawn at
        # random (members among them), so the network shares amplified accounts with everyone else
        ids = [r["account_id"] for r in accounts]
        fans = {ids[t]: {ids[a] for a in rng.choice(len(ids), 60, replace=False)} | {r["account_id"] for r in
                bulk if r["network"] == 1 and rng.random() < 0.3} for t in rng.choice(len(ids), 20, replace=False)}
        kin_hits += registration.kin_of(accounts, alpha, fans).num_rows > 0
    # at most alpha in expectation; 8 of 60 or more would happen by chance under 5% only with p < 0.04
    assert batch_hits <= 7 and kin_hits <= 7, (batch_hits, kin_hits)


def test_a_planted_batch_is_found_in_a_null_case():
    """The same null case with six accounts signed up within hours with one uncommon app: found."""
    accounts = _null_accounts(7)
    t = datetime(2017, 5, 3, 9)
    for k, r in enumerate(accounts[:6]):
        r.update(created_at=t + timedelta(hours=k), main_client="PostPlanner X")
    sig, starts = registration.scan(accounts, accounts, 0.05)
    assert starts > 100 and len(sig) == 1 and sig[0][0] <= 0.05 / starts
    assert {r["account_id"] for r in sig[0][5]} == {r["account_id"] for r in accounts[:6]}


def test_an_audience_that_carries_a_mark_is_a_batch_though_created_apart():
    """Six accounts with one uncommon app, created months apart (no creation window holds them), are
    among the 15 accounts that amplify one account: the audience's window finds them, with that account
    named; without the audiences, nothing is found."""
    accounts = _null_accounts(9)
    for k, r in enumerate(accounts[:6]):
        r.update(created_at=datetime(2016, 2, 1) + timedelta(days=150 * k), main_client="PostPlanner X")
    target = accounts[-1]
    rng = np.random.default_rng(4)
    heard = {target["account_id"]: {r["account_id"] for r in accounts[:6]}
             | {accounts[i]["account_id"] for i in rng.choice(range(100, 3900), 9, replace=False)}}
    assert registration.scan(accounts, accounts, 0.05)[0] == []
    sig, starts = registration.scan(accounts, accounts, 0.05, heard)
    assert len(sig) == 1 and sig[0][2] is None and sig[0][0] <= 0.05 / starts
    assert f"among the accounts amplifying @{target['handle']}" in sig[0][1] and "PostPlanner X" in sig[0][1]
    assert {r["account_id"] for r in sig[0][5]} == {r["account_id"] for r in accounts[:6]}


def test_an_experts_boosters_and_the_expert_are_registered_with_the_network():
    """A null case with a flagged network of ten accounts posting with one uncommon app: four more
    accounts with that app, created at other times, amplify the account the network amplifies
    (among its 40 organic fans), and that account (the "expert") posts with the app too. The four and
    the expert are registered with the network, the fans are not; without the audiences, nobody is."""
    accounts = _null_accounts(11)
    for i, r in enumerate(accounts[:10]):
        r.update(main_client="PostPlanner X", network=1, flagged=True, description=f"my own words {i}",
                 handle=f"person_{i}")
    boosters, expert = accounts[10:14], accounts[14]
    for r in boosters + [expert]:
        r.update(main_client="PostPlanner X")
    rng = np.random.default_rng(3)
    organic = [accounts[i]["account_id"] for i in rng.choice(range(100, len(accounts)), 40, replace=False)]
    fans = {expert["account_id"]: {r["account_id"] for r in accounts[:6] + boosters} | set(organic)}
    kin = registration.kin_of(accounts, 0.05, fans).to_pylist()
    assert {r["account_id"] for r in kin} == {r["account_id"] for r in boosters + [expert]}
    assert all(r["network"] == 1 and r["p"] <= 0.05 and "PostPlanner X" in r["matched_on"] for r in kin)
    by = {r["account_id"]: r["evidence"] for r in kin}
    assert all(f"amplifies @{expert['handle']}" in by[r["account_id"]] for r in boosters)
    assert "amplified twice or more by" in by[expert["account_id"]]
    assert registration.kin_of(accounts, 0.05).num_rows == 0
