"""Every p-value unmask prints is uniform (or conservative) under its null, on real-audience worlds.

A pure-chance world: popular accounts with their regulars (fan bases), viral cascades, reply storms,
scheduled bots and travellers, and nothing organised. Every trace runs at minimum weight 1, so that
every co-acting pair is a stored candidate; its p-values must not be smaller than uniform ones
(one-sided Kolmogorov-Smirnov), fusion's neither, and nobody may be flagged.
"""

import numpy as np
import pyarrow.compute as pc
import pytest
from scipy.stats import kstest

from unmask import api
from unmask.ingest import ingest
from unmask.simulate import SimConfig, simulate
from unmask.simulate.writers import write
from unmask.store import Case
from unmask.traces import DEFAULT_TRACES

PURE_CHANCE = dict(operations=0, op_share=0.0, hashtag_bursts=0, share_buttons=0, open_campaigns=0)
MIN_PAIRS = 20  # a trace with fewer candidate pairs in the world is not tested (see TESTED)
TESTED = {"co_retweet", "fast_retweet", "co_reply", "co_domain", "co_hashtag", "synchronized_posting"}


def not_below_uniform(p) -> float:
    """The one-sided KS p-value of 'these p-values are stochastically smaller than uniform'."""
    return kstest(np.asarray(p, float), "uniform", alternative="greater").pvalue


def assert_calibrated(p, what):
    """Not below uniform as a whole (one-sided KS), and in the tail that BH reads: at most t of the
    p-values at or below t, within three standard errors, for t = 0.001, 0.01 and 0.05 (a mass of
    p = 1 from pairs seen once can hide an anti-conservative tail from KS alone)."""
    p = np.asarray(p, float)
    assert not np.any(p == 0.0), f"{what}: a p-value of exactly 0"
    assert not_below_uniform(p) > 0.01, (what, np.sort(p)[:10])
    for t in (0.001, 0.01, 0.05):
        assert (p <= t).mean() <= t + 3 * np.sqrt(t * (1 - t) / len(p)), (what, t, (p <= t).mean())


@pytest.fixture(scope="module")
def chance_case(tmp_path_factory):
    out = tmp_path_factory.mktemp("chance")
    files, labels = write(simulate(SimConfig(posts=40000, seed=23, **PURE_CHANCE)), out / "data")
    case = Case(out / "case.duckdb")
    ingest(case, files)
    api.detect(case, min_weights={t: 1 for t in DEFAULT_TRACES}, seed=5)
    summary = api.analyse(case, seed=5)
    yield {"case": case, "summary": summary, "labels": labels}
    case.close()


@pytest.mark.parametrize("trace", sorted(DEFAULT_TRACES))
def test_candidate_pvalues_of_every_trace_are_not_below_uniform(chance_case, trace):
    edges = chance_case["case"].table("edges")
    p = edges.filter(pc.equal(edges.column("trace"), trace)).column("p_value").to_numpy()
    if trace in TESTED:
        assert len(p) >= MIN_PAIRS, f"{trace}: the world should give it candidate pairs ({len(p)})"
    if len(p) < MIN_PAIRS:
        pytest.skip(f"{trace}: {len(p)} candidate pairs in a pure-chance world")
    assert_calibrated(p, trace)


def test_fused_pvalues_are_not_below_uniform_and_nobody_is_flagged(chance_case):
    case = chance_case["case"]
    fused = case.table("fused_edges").column("p_fused").to_numpy()
    assert len(fused) > 1000
    assert_calibrated(fused, "fused")
    assert chance_case["summary"]["candidate_operations"] == 0, chance_case["summary"]
    # nobody is even coordinated (flagged or open): chance alone makes no group
    coordinated = case.engine.scalar("SELECT count(*) FROM clusters WHERE status IN ('coordinated', 'flagged', 'open')")
    assert coordinated == 0
    # and the checks find no account registered together beyond chance (fans sign up over the years)
    api.run_checks(case)
    assert case.engine.scalar("SELECT count(*) FROM clusters WHERE is_candidate") == 0
    assert case.get_meta("analyse")["registration_groups"] == 0


def test_the_world_has_real_audiences(chance_case):
    """The check above means something only if the world has fan bases that co-retweet heavily."""
    case = chance_case["case"]
    heavy = case.engine.scalar("SELECT count(*) FROM edges WHERE trace = 'co_retweet' AND weight >= 3")
    fast = case.engine.scalar("SELECT count(*) FROM edges WHERE trace = 'fast_retweet' AND weight >= 3")
    assert heavy >= 100 and fast >= 20, (heavy, fast)


def test_followers_of_news_accounts_are_not_an_operation(tmp_path):
    """The reported case: 5 news accounts, 300 followers each retweeting any post with probability 0.2
    about 60 s after it. Before the conditional null every fast_retweet edge had q <= 0.05."""
    cfg = SimConfig(posts=20000, seed=31, accounts=300, fan_bases=5, fan_base_size=1.0, fan_retweet_prob=0.2,
                    fan_delay_s=60, fan_share=0.4, viral_cascades=0, reply_storms=0, benign_bots=0,
                    **PURE_CHANCE)
    files, _ = write(simulate(cfg), tmp_path / "data")
    with Case(tmp_path / "c.duckdb") as case:
        ingest(case, files)
        api.detect(case, traces=["fast_retweet", "co_retweet"], seed=1)
        summary = api.analyse(case, seed=1)
        rows = case.engine.query("""SELECT trace, count(*) AS n, min(p_value) AS p_min,
                                           count(*) FILTER (WHERE q_value <= 0.05) AS significant
                                    FROM edges GROUP BY trace ORDER BY trace""").to_pylist()
    by = {r["trace"]: r for r in rows}
    assert by["fast_retweet"]["n"] >= 100, by  # the followers do retweet fast, often
    assert by["fast_retweet"]["significant"] == 0 and by["fast_retweet"]["p_min"] > 0, by
    assert by["co_retweet"]["significant"] == 0, by
    assert summary["candidate_operations"] == 0, summary


def _superfan_world(tmp_path, paced, monkeypatch):
    """Three popular accounts, each followed by half of 300 accounts; each regular has a pace of its
    own (``fan_delay_spread``): superfans with notifications on retweet every post within seconds,
    independently of each other. Returns each trace's candidate and significant pairs."""
    from unmask.traces import TRACES

    for name in ("co_retweet", "synchronized_posting"):
        monkeypatch.setattr(TRACES[name], "paced", paced)
    cfg = SimConfig(posts=30000, seed=37, accounts=300, fan_bases=3, fan_base_size=0.5, fan_retweet_prob=0.3,
                    fan_delay_s=60, fan_delay_spread=1.5, fan_share=0.5, viral_cascades=0, reply_storms=0,
                    benign_bots=0, **PURE_CHANCE)
    files, _ = write(simulate(cfg), tmp_path / "data")
    with Case(tmp_path / "c.duckdb") as case:
        ingest(case, files)
        api.detect(case, traces=["co_retweet", "synchronized_posting"], seed=1)
        rows = case.engine.query("""SELECT trace, count(*) AS n, count(*) FILTER (WHERE q_value <= 0.05) AS significant
                                    FROM edges GROUP BY trace ORDER BY trace""").to_pylist()
    return {r["trace"]: r for r in rows}


def test_superfans_who_retweet_within_seconds_are_expected_to_meet(tmp_path, monkeypatch):
    """Regulars each with their own pace: two superfans meet within the window on every post they
    both retweet, and nobody coordinates. The popularity null keeps each account's pace on each
    author (``paced`` traces), so no co_retweet or synchronized_posting link is significant; without
    the paces the same world gives hundreds (the world is hard, and the test means something)."""
    paced = _superfan_world(tmp_path / "paced", True, monkeypatch)
    assert paced["co_retweet"]["n"] >= 5000 and paced["synchronized_posting"]["n"] >= 500, paced
    assert paced["co_retweet"]["significant"] == 0 and paced["synchronized_posting"]["significant"] == 0, paced
    unpaced = _superfan_world(tmp_path / "unpaced", False, monkeypatch)
    assert unpaced["co_retweet"]["significant"] >= 100 and unpaced["synchronized_posting"]["significant"] >= 50, unpaced


@pytest.fixture(scope="module")
def independent_case(tmp_path_factory):
    """Accounts that each choose what to post (a slogan, a link, a hashtag, a mention) independently
    from shared Zipf-popular pools, at independent times: every co-action is chance, for every trace
    the fan-base world leaves without candidates (text, links, mentions)."""
    from tracekit import make_case, post

    rng = np.random.default_rng(11)
    words = "state news people world truth freedom power media vote city justice river story".split()
    slogans = [" ".join(rng.choice(words, 7)) + f" number {i}" for i in range(400)]
    zipf = 1.0 / np.arange(1, 401) ** 0.8
    zipf /= zipf.sum()
    rows = []
    for i in range(6000):
        acc = f"a{rng.integers(300):03d}"
        s, u, h, m = rng.choice(400, 4, p=zipf)
        t = float(rng.uniform(0, 30 * 86400))
        rows.append(post(f"p{i}", acc, t, text=f"{slogans[s]} https://site{u % 40}.example/{u}",
                         urls=[f"https://site{u % 40}.example/{u}"], hashtags=[f"tag{h}"], mentions=[f"user{m}"]))
    tmp = tmp_path_factory.mktemp("independent")
    case = make_case(tmp, rows)
    api.detect(case, min_weights={t: 1 for t in DEFAULT_TRACES}, seed=2)
    yield case
    case.close()


@pytest.mark.parametrize("trace", ["co_text", "near_duplicate_text", "co_link", "co_domain", "co_hashtag",
                                   "co_mention", "synchronized_posting"])
def test_independent_choices_give_pvalues_not_below_uniform(independent_case, trace):
    edges = independent_case.table("edges")
    p = edges.filter(pc.equal(edges.column("trace"), trace)).column("p_value").to_numpy()
    assert len(p) >= MIN_PAIRS, f"{trace}: {len(p)} candidate pairs"
    assert_calibrated(p, trace)
