import hashlib
import json
from collections import Counter
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from unmask.errors import ParameterError
from unmask.simulate import SimConfig, knob_table, simulate
from unmask.simulate.writers import describe, write


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", ["io-archive", "twarc2", "csv"])
def test_same_seed_same_bytes(tmp_path, fmt):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write(simulate(SimConfig(posts=3000, seed=5)), a, fmt)
    write(simulate(SimConfig(posts=3000, seed=5)), b, fmt)
    write(simulate(SimConfig(posts=3000, seed=6)), c, fmt)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_total_posts_and_labels(sim_small):
    d = sim_small["data"]
    assert len(d.posts["t"]) == 20000
    labels = Counter(d.accounts["label"])
    ops = [k for k in labels if k != "organic"]
    assert len(ops) == 6 and all(10 <= labels[k] <= 40 for k in ops)
    assert (np.diff(d.posts["t"]) >= 0).all()
    kinds = d.posts["kind"]
    refs = d.posts["ref"]
    assert (refs[kinds > 0] >= 0).all()
    assert (d.posts["t"][refs[kinds > 0]] <= d.posts["t"][kinds > 0]).all()  # references point back in time


def test_operators_post_in_their_office_hours_whatever_they_claim(sim_small):
    d = sim_small["data"]
    a, p = d.accounts, d.posts
    zones = d.clock.zones
    for op in sorted(set(a["label"]) - {"organic"}):
        members = np.nonzero((a["label"] == op) & (a["role"] == "operator"))[0]
        zone = ZoneInfo(zones[a["zone"][members[0]]])
        mask = np.isin(p["acc"], members)
        hours = [datetime.fromtimestamp(t / 1000, timezone.utc).astimezone(zone).hour for t in p["t"][mask]]
        in_office = np.mean([8 <= h <= 19 for h in hours])
        assert in_office > 0.9, (op, in_office)
        claimed = {zones[z] for z in a["claim_zone"][members]}
        assert zones[a["zone"][members[0]]] not in claimed  # the personas claim somewhere else
    tehran = np.nonzero(np.char.find(a["label"].astype(str), "tehran") >= 0)[0]
    days = [datetime.fromtimestamp(t / 1000, timezone.utc).astimezone(ZoneInfo("Asia/Tehran")).weekday()
            for t in p["t"][np.isin(p["acc"], tehran)]]
    assert Counter(days)[4] < 0.06 * len(days)  # Friday is the weekend in Iran


def test_hard_negatives_are_present_and_large(sim_small):
    d = sim_small["data"]
    a, p = d.accounts, d.posts
    organic = a["label"] == "organic"
    assert (a["role"] == "benign_bot").sum() == 6 and (a["role"] == "traveller").sum() >= 5
    ref_counts = Counter(p["ref"][(p["kind"] == 1) & organic[p["acc"]]].tolist())
    assert sorted(ref_counts.values())[-6] >= 15  # viral cascades: many organic retweets of one post
    texts = Counter(t for t, k, acc in zip(p["text"], p["kind"], p["acc"]) if k == 0 and organic[acc])
    assert sum(1 for n in texts.values() if n >= 8) >= 6  # share-button waves: same headline and URL


def test_describe_and_knobs(sim_small):
    info = describe(sim_small["data"])
    assert info["posts"] == 20000 and len(info["operations"]) == 6
    json.dumps(info)
    names = [k[0] for k in knob_table()]
    assert {"posts", "seed", "operations", "viral_cascades", "negative_strength", "operator_zones"} <= set(names)
    with pytest.raises(ParameterError):
        SimConfig(posts=10)
    with pytest.raises(ParameterError):
        SimConfig(styles=["telepathy"])


def test_negative_strength_changes_the_data():
    weak = simulate(SimConfig(posts=8000, seed=2, negative_strength=0.2))
    strong = simulate(SimConfig(posts=8000, seed=2, negative_strength=3))

    def biggest(d):
        organic = d.accounts["label"][d.posts["acc"]] == "organic"
        return sorted(Counter(d.posts["ref"][(d.posts["kind"] == 1) & organic].tolist()).values())[-6]

    assert biggest(strong) > 2 * biggest(weak)  # the sixth-largest cascade, i.e. the planted ones


def test_link_share_sets_how_many_organic_originals_carry_a_link():
    def share(link_share):
        d = simulate(SimConfig(posts=8000, seed=2, link_share=link_share))
        organic = (d.accounts["label"][d.posts["acc"]] == "organic") & (d.accounts["role"][d.posts["acc"]] != "open_campaign")
        originals = [u for u, k, o in zip(d.posts["urls"], d.posts["kind"], organic) if k == 0 and o]
        return sum(1 for u in originals if len(u)) / len(originals)

    # organic-labelled originals also include benign bots and share-button waves, hence below the knob
    # (open campaigns' links are the campaign's, not news: left out)
    assert share(0.0) < 0.05
    assert 0.10 < share(0.15) < 0.18
    assert 0.40 < share(0.6) < 0.55


def test_fan_bases_are_regulars_of_popular_accounts(sim_small):
    """Real audiences: each popular account is retweeted by the same regulars, post after post,
    mostly within minutes; they are organic (an operation may retweet a popular account's own posts too)."""
    d = sim_small["data"]
    a, p = d.accounts, d.posts
    popular = set(np.flatnonzero(a["role"] == "popular"))
    assert len(popular) == SimConfig().fan_bases and all(a["label"][i] == "organic" for i in popular)
    rt = (p["kind"] == 1) & (p["ref"] >= 0)
    author = np.where(rt, p["acc"][np.where(rt, p["ref"], 0)], -1)
    fan_rt = rt & np.isin(author, list(popular))
    assert fan_rt.sum() >= 0.1 * len(p["t"])  # about fan_share of all posts
    delay_s = (p["t"][fan_rt] - p["t"][p["ref"][fan_rt]]) / 1000
    assert np.median(delay_s) < 120 and (delay_s > 0).all()
    for acc in popular:  # regulars: the same accounts retweet it again and again
        fans = Counter(p["acc"][fan_rt & (author == acc)])
        assert len(fans) >= 20 and np.mean([n >= 2 for n in fans.values()]) > 0.5
        assert np.mean([a["label"][f] == "organic" for f in fans]) > 0.8


def test_scheduling_tools_post_on_the_quarter_hour_and_zero_changes_nothing():
    """scheduler_share moves that share of the organic crowd's originals to the quarter hour, to the
    millisecond (reactions still follow what they react to); at 0 the world is the default one."""
    base = simulate(SimConfig(posts=8000, seed=2))
    zero = simulate(SimConfig(posts=8000, seed=2, scheduler_share=0.0))
    assert all(np.array_equal(base.posts[c], zero.posts[c]) for c in ("acc", "t", "kind", "ref"))
    d = simulate(SimConfig(posts=8000, seed=2, scheduler_share=0.3))
    p, a = d.posts, d.accounts
    organic = np.flatnonzero((a["label"] == "organic") & (a["role"] == "organic"))
    on_quarter = (p["t"] % (15 * 60_000)) == 0
    originals = p["kind"] == 0
    share = {i: np.mean(on_quarter[originals & (p["acc"] == i)]) for i in organic
             if (originals & (p["acc"] == i)).sum() >= 3}
    # about the knob; a scheduler's own posts in a hashtag burst or a share-button wave are not scheduled
    scheduled = [i for i, s in share.items() if s >= 0.5]
    assert 0.2 < len(scheduled) / len(share) < 0.4
    assert sum(s < 0.1 for s in share.values()) == len(share) - len(scheduled)  # the others: never
    assert np.mean(on_quarter[originals]) > 0.1 and np.mean(on_quarter[~originals]) < 0.01
    reacts = p["ref"] >= 0
    assert (p["t"][reacts] >= p["t"][p["ref"][reacts]]).all()
    base_on = (base.posts["t"] % (15 * 60_000)) == 0
    assert np.mean(base_on[base.posts["kind"] == 0]) < 0.01
