"""Open coordination is not an operation: a covert operation and an open campaign of the same
strength and size, the first flagged and the second listed as open, and the verdicts swap when
their personas do."""

import csv
from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import pytest

from unmask import api
from unmask.evaluate import evaluate
from unmask.export import accounts_table
from unmask.network import covertness
from unmask.report.html import write_report
from unmask.simulate import SimConfig, simulate
from unmask.simulate.writers import write
from unmask.store import Case

# One co-retweet ring operation and one fan army (the same mechanics: most members retweet the same
# posts of many authors within seconds), both of 30 accounts, making as many coordinated posts each.
SAME_STRENGTH = dict(posts=24000, operations=1, styles=["co_retweet_ring"], op_min_size=30, op_max_size=30,
                     dormant_share=0.0, open_campaigns=1, open_campaign_styles=["fan_army"], open_campaign_size=30)


def _run(tmp_path, name, **knobs):
    files, labels = write(simulate(SimConfig(seed=11, **SAME_STRENGTH, **knobs)), tmp_path / name / "data")
    api.run(files, tmp_path / name, seed=2)
    groups = {}
    with open(labels, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            groups[r["account_id"]] = r["group"] or r["role"]
    with Case(tmp_path / name / "case.duckdb", read_only=True) as case:
        status = {r["account_id"]: r["status"] for r in case.table("clusters").to_pylist()}
        acc = {r["account_id"]: r for r in accounts_table(case).to_pylist()}
        ev = evaluate(case, labels)
    html = (tmp_path / name / "report.html").read_text(encoding="utf-8")
    per = {}
    for g in ("op1-tehran-co-retweet-ring", "open1-fan-army"):
        members = [a for a, x in groups.items() if x == g]
        per[g] = Counter(status.get(a, "unlinked") for a in members)
    return per, acc, groups, ev, html


@pytest.fixture(scope="module")
def as_planted(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("cov"), "planted")


@pytest.fixture(scope="module")
def swapped(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("cov"), "swapped", operation_personas="honest",
                open_campaign_personas="covert")


def _mostly(counter, status, share=0.8):
    return counter[status] >= share * sum(counter.values())


def test_the_covert_operation_is_flagged_and_the_open_campaign_is_listed_open(as_planted):
    per, acc, groups, ev, html = as_planted
    assert _mostly(per["op1-tehran-co-retweet-ring"], "flagged"), per
    assert _mostly(per["open1-fan-army"], "open"), per  # still reported as coordinated
    assert per["open1-fan-army"]["flagged"] == 0, per
    camp = ev["open_campaigns"]
    assert camp["flagged"] == 0 and camp["coordinated_not_flagged"] >= 24, camp
    assert ev["precision"] == 1.0
    # the exports carry both axes per account, and the factors that made the verdict
    op = [a for a, g in groups.items() if g == "op1-tehran-co-retweet-ring" and acc[a]["flagged"]]
    fans = [a for a, g in groups.items() if g == "open1-fan-army" and acc[a]["group_status"] == "open"]
    assert all(acc[a]["covertness_verdict"] == "covert" and acc[a]["covertness"] >= 0.5 for a in op)
    assert all(acc[a]["coordination_p"] <= 0.05 for a in op + fans)
    assert all(acc[a]["covertness_verdict"] == "open" and acc[a]["covertness"] < 0.5 for a in fans)
    assert sum("persona_mismatch" in (acc[a]["covertness_factors"] or "") for a in op) >= len(op) // 2
    # the report shows the open group in its own section, with the two axes side by side
    assert 'id="open-groups"' in html and "Coordinated, no sign of concealment" in html
    assert html.count('class="axes"') >= 2 and "signs of concealment" in html


def test_swapping_the_personas_swaps_the_verdicts(swapped):
    per, acc, groups, ev, html = swapped
    assert _mostly(per["op1-tehran-co-retweet-ring"], "open"), per
    assert per["op1-tehran-co-retweet-ring"]["flagged"] == 0, per
    assert _mostly(per["open1-fan-army"], "flagged"), per
    assert ev["open_campaigns"]["flagged"] >= 24  # now a false positive, and counted as one


def _member(i, **kw):
    base = {"account_id": f"a{i}", "network": 1, "cell": 1, "group_p": 1e-9, "created_at": None, "handle": None,
            "description": None, "reported_location": None, "main_client": None, "claimed_utc_offset": None,
            "claimed_place": None, "claimed_zone": None, "persona_flags": "", "links": 0, "state_media_links": 0,
            "echoes": 0, "own_offset": None, "own_flags": []}
    return base | kw


def test_a_release_without_profiles_is_unassessed_not_open():
    """Minute times and texts only (the IRA release): no factor about the accounts can be read, so
    the group is neither called open nor covert, and stays flagged on its coordination."""
    members = [_member(i) for i in range(10)]
    res = covertness.assess_group(members, None, {}, 0.05)
    assert res["verdict"] == "unassessed" and res["factors"] == {}
    assert any(m.startswith("creation_batches") for m in res["missing"])
    assert "not assessable" in covertness.summary(res)


def test_factors_read_where_the_fields_are_and_show_their_evidence():
    t0 = datetime(2017, 5, 1)
    batch = [_member(i, created_at=t0 + timedelta(hours=i), description="Reporter. Views my own.",
                     reported_location="New York", handle=f"name{10_000_000 + i}", main_client="PostPlanner X")
             for i in range(12)]
    marks = {"creation_batch": covertness._creation_batches(batch, span_days=3000),
             "handle_name_digits": {m["account_id"] for m in batch},
             "shared_uncommon_client": {m["account_id"] for m in batch}}
    res = covertness.assess_group(batch, None, marks, base_digits=0.05, client_base={"PostPlanner X": 0.01})
    assert res["verdict"] == "covert"
    assert res["factors"]["creation_batches"]["strength"] == 1.0
    assert "12 of 12" in res["factors"]["creation_batches"]["evidence"]
    assert res["factors"]["shared_uncommon_client"]["strength"] == pytest.approx(0.95)
    # the same accounts spread over nine years, on common apps, with their own handles: open
    rng = np.random.default_rng(0)
    spread = [m | {"created_at": t0 - timedelta(days=int(d)), "handle": f"person_{i}", "main_client": "Twitter for iPhone"}
              for i, (m, d) in enumerate(zip(batch, rng.integers(0, 3300, 12)))]
    res = covertness.assess_group(spread, None, {"creation_batch": covertness._creation_batches(spread, 3000)}, 0.05,
                                  {"Twitter for iPhone": 0.44})
    assert res["verdict"] == "open" and res["covertness"] < 0.2


def _posts_on_clock(rng, offset_h, n):
    """``n`` post times (ms, UTC) of someone awake 8:00-24:00 local time at UTC``offset_h``."""
    day0 = datetime(2018, 3, 1).timestamp()
    local_h = rng.uniform(8, 24, n)
    days = rng.integers(0, 200, n)
    return [int((day0 + d * 86400 + (h - offset_h) * 3600) * 1000) for d, h in zip(days, local_h)]


def test_people_of_several_zones_are_not_doubted_for_the_pools_sake():
    """Ten honest accounts, in New York, Denver, Los Angeles and Kolkata, with 15 posts each on
    their own clocks: their pool fits a zone between theirs, and the Los Angeles and Kolkata claimants
    are 3+ h from it, but read on their own claimed clocks their posts fit as well: the factor
    counts nothing. Ten operators on Tehran's clock claiming the same places: it counts them."""
    rng = np.random.default_rng(2)
    where = [("New York", -5.0)] * 3 + [("Denver", -7.0)] * 2 + [("Los Angeles", -8.0)] * 3 + [("Kolkata", 5.5)] * 2
    honest = [_member(i, reported_location=p, claimed_place=p, claimed_utc_offset=o) for i, (p, o) in enumerate(where)]

    def pooled_of(times):
        return covertness._zones(times, {"g": list(times)}, 30)["g"]

    times = {m["account_id"]: _posts_on_clock(rng, m["claimed_utc_offset"], 15) for m in honest}
    res = covertness.assess_group(honest, pooled_of(times), {}, 0.05, times=times)
    f = res["factors"]["claimed_vs_pooled_zone"]
    assert f["strength"] == 0.0 and "a mix of zones" in f["evidence"], f
    ops = {m["account_id"]: _posts_on_clock(rng, 3.5, 15) for m in honest}
    res = covertness.assess_group(honest, pooled_of(ops), {}, 0.05, times=ops)
    f = res["factors"]["claimed_vs_pooled_zone"]
    # the Kolkata claimants are within 3 h of the pool (Dubai), the eight others are far
    assert f["strength"] == pytest.approx(0.8) and "better than their claims" in f["evidence"], f
    # without the times (the old reading) the honest pool's far claimants were counted
    res = covertness.assess_group(honest, pooled_of(times), {}, 0.05)
    assert res["factors"]["claimed_vs_pooled_zone"]["strength"] > 0


def test_the_simulated_open_campaigns_have_honest_personas(sim_small):
    d = sim_small["data"]
    a = d.accounts
    camp = np.flatnonzero(a["role"] == "open_campaign")
    assert len(camp) == 3 * 30 and set(a["label"][camp]) == {"organic"}
    assert set(a["group"][camp]) == {"open1-fan-army", "open2-tweetstorm", "open3-volunteers"}
    assert (a["zone"][camp] == a["claim_zone"][camp]).all() and not a["office"][camp].any()
    created = np.sort(a["created_ms"][camp].astype(np.int64))
    assert (np.diff(created) > 0).all() and (created[-1] - created[0]) > 3 * 365 * 86_400_000
    assert not set(a["client"][camp]) & {"Twitter Web Client", "Hootsuite Inc.", "Buffer", "SocialFlow-Pro"}
    posts_per = np.bincount(d.posts["acc"], minlength=len(a["label"]))[camp]
    assert posts_per.min() >= 5


def test_networks_the_data_cannot_assess_are_named_in_the_summary(tmp_path, sim_small):
    """Posts with no profiles, clients or claims (a generic release): the candidate operations stand
    on their coordination, and the report's summary and `unmask run` say how many of them could not
    be assessed for concealment instead of calling them all concealed."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from click.testing import CliRunner

    from unmask.cli import cli

    ids = {c: pa.string() for c in ("tweetid", "userid", "retweet_tweetid")}
    posts = pacsv.read_csv(sim_small["files"][0], convert_options=pacsv.ConvertOptions(column_types=ids))
    pacsv.write_csv(posts.select(["tweetid", "userid", "tweet_time", "tweet_text", "retweet_tweetid"]),
                    tmp_path / "posts.csv")
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "posts.csv"), "--out", str(tmp_path / "r"), "--quiet",
                                   "--map", "post_id=tweetid", "--map", "account_id=userid",
                                   "--map", "created_at=tweet_time", "--map", "text=tweet_text",
                                   "--map", "ref_post_id=retweet_tweetid"])
    assert res.exit_code == 0, res.output
    with Case(tmp_path / "r" / "case.duckdb", read_only=True) as case:
        ana = case.get_meta("analyse")
    n = ana["unassessed_networks"]
    assert n >= 3 and ana["candidate_operations"] >= n and ana["open_networks"] == 0, ana
    assert f"{n} of them could not be assessed for concealment" in " ".join(res.stdout.split())
    text = " ".join((tmp_path / "r" / "report.html").read_text().split())
    assert f"or that the data cannot assess: {n} of them" in text
