from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from unmask.persona import location
from unmask.persona.timezone import OffsetTable, infer


@pytest.mark.parametrize("text,zone", [
    ("NYC", "America/New_York"), ("Los Angeles, CA", "America/Los_Angeles"), ("London 🇬🇧", "Europe/London"),
    ("Москва", "Europe/Moscow"), ("تهران", "Asia/Tehran"), ("東京", "Asia/Tokyo"), ("Texas, USA", "America/Chicago"),
    ("Tiranë", "Europe/Tirane"), ("somewhere 🇫🇷", "Europe/Paris"), ("الرياض", "Asia/Riyadh"),
    # a country named whole is the country, not a town of that name elsewhere; and in its own name
    ("Albania", "Europe/Tirane"), ("Armenia", "Asia/Yerevan"), ("Jordan", "Asia/Amman"), ("Deutschland", "Europe/Berlin"),
    ("Brasil", "America/Sao_Paulo"), ("Shqipëri", "Europe/Tirane"), ("Berlin, Deutschland", "Europe/Berlin"),
    ("India", "Asia/Kolkata"), ("Iraq", "Asia/Baghdad"), ("Palestine", "Asia/Hebron"), ("Holland", "Europe/Amsterdam"),
    ("UAE", "Asia/Dubai"), ("Macedonia", "Europe/Skopje"),
    # a name several places share, read with the rest of the text
    ("Alexandria, VA", "America/New_York"), ("St. Petersburg, Florida", "America/New_York"),
    ("Harlem, New York", "America/New_York"), ("Newcastle, South Africa", "Africa/Johannesburg"),
    ("Tuscany, Italy", "Europe/Rome"), ("Arlington, VA | New York, NY", "America/New_York"),
    ("Milano, MI", "Europe/Rome"), ("Washington, D.C.", "America/New_York"), ("Seattle, Washington", "America/Los_Angeles"),
    # US state codes alone, and in a last word; pronouns beside a place
    ("GA", "America/New_York"), ("NJ", "America/New_York"), ("Henderson Nv", "America/Los_Angeles"),
    ("Buckinghamshire UK", "Europe/London"), ("he/him | Chicago", "America/Chicago"), ("Milano, IT", "Europe/Rome"),
    # hashtags beside a place are not part of it; a hashtag alone may be the place
    ("USA  #IslamIsTheProbem #WakeUp", "America/New_York"), ("Texas #MAGA", "America/Chicago"), ("#Bahrain ", "Asia/Bahrain"),
    # "LA" alone is Los Angeles; "CA" and "Georgia" stay the US state
    ("LA", "America/Los_Angeles"), ("CA", "America/Los_Angeles"), ("Georgia", "America/New_York"),
])
def test_claimed_places_resolve_offline(text, zone):
    assert location.resolve(text)["zone"] == zone


@pytest.mark.parametrize("text", ["", "   ", "Earth", "everywhere", "in your mind", "the internet", "she/her",
                                  "THEY!!/ IT!!/ she", "So-Called North America", "Feet: UK … Heart: Palestine"])
def test_blanks_and_jokes_name_no_place(text):
    assert location.resolve(text) is None


def _posts_in(zone, start, days, hours, rng, weekdays=range(7)):
    out = []
    for d in range(days):
        day = start + d * 86400
        local = datetime.fromtimestamp(day, timezone.utc)
        if local.weekday() not in weekdays:
            continue
        for h in hours:
            naive = datetime(local.year, local.month, local.day, h, int(rng.integers(60)))
            out.append(int(naive.replace(tzinfo=ZoneInfo(zone)).timestamp() * 1000))
    return out


def test_half_hour_zone_and_dst_history():
    """Iran was +03:30 in winter and +04:30 in summer until 2022; an office day there is found as such."""
    rng = np.random.default_rng(0)
    t = _posts_in("Asia/Tehran", int(datetime(2018, 3, 1, tzinfo=timezone.utc).timestamp()), 60,
                  [9, 10, 11, 12, 14, 15, 16], rng, weekdays=[0, 1, 2, 3, 5, 6])
    (res,) = infer(np.zeros(len(t), int), np.array(t), 1)
    assert res["zone"] == "Asia/Tehran" and res["template"] == "office"
    assert "4" in [str(d) for d in res["off_days"]]  # Friday (Monday = 0) is the day off
    table = OffsetTable(int(datetime(2018, 3, 1, tzinfo=timezone.utc).timestamp() * 1000),
                        int(datetime(2018, 4, 30, tzinfo=timezone.utc).timestamp() * 1000))
    tehran = table.zones.index("Asia/Tehran")
    assert table.offsets[tehran, 0] == 12600 and table.offsets[tehran, -1] == 16200


def test_dst_transition_does_not_shift_the_inferred_zone():
    rng = np.random.default_rng(1)
    start = int(datetime(2018, 3, 1, tzinfo=timezone.utc).timestamp())  # spans the US switch on 11 March
    t = _posts_in("America/New_York", start, 30, [8, 9, 12, 13, 17, 18, 19, 20, 21, 22], rng)
    (res,) = infer(np.zeros(len(t), int), np.array(t), 1)
    # a zone that keeps DST, as New York does, not a fixed-offset one such as Caracas or Phoenix
    assert res["zone"] in ("America/New_York", "America/Halifax", "America/Chicago")
    assert abs(res["offset"] - (-4.0)) <= 1.0  # New York at the period's median time: UTC-4


def test_persona_checks_on_simulated_operations(sim_run):
    from unmask.store import Case

    with Case(sim_run["out"] / "case.duckdb", read_only=True) as case:
        case.engine.execute(f"CREATE TEMP TABLE labels AS SELECT * FROM read_csv('{sim_run['labels']}', all_varchar=true)")
        rows = case.engine.query("""
            SELECT l.label, l.role, coalesce(f.persona_flag, false) AS flag, coalesce(f.persona_flags, '') AS flags
            FROM labels l LEFT JOIN persona_flags f USING (account_id)""").to_pylist()
    ops = [r for r in rows if r["role"] == "operator"]
    organic = [r for r in rows if r["label"] == "organic"]
    tp = sum(r["flag"] for r in ops)
    fp = sum(r["flag"] for r in organic)
    assert tp / len(ops) >= 0.8 and tp / max(1, tp + fp) >= 0.9
    travellers = [r for r in rows if r["role"] == "traveller"]
    assert travellers and not any(r["flag"] for r in travellers)  # a zone mismatch alone never flags


def test_cluster_rhythm_matches_the_operators_zone(sim_run):
    from collections import Counter

    from unmask.store import Case

    with Case(sim_run["out"] / "case.duckdb", read_only=True) as case:
        case.engine.execute(f"CREATE TEMP TABLE labels AS SELECT * FROM read_csv('{sim_run['labels']}', all_varchar=true)")
        members = case.engine.query("""SELECT c.cluster, l.label, l.operator_tz FROM clusters c
                                       JOIN labels l USING (account_id)
                                       WHERE c.is_candidate AND c.cluster IS NOT NULL""").to_pylist()
        zones = {r["cluster"]: r for r in case.table("cluster_personas").to_pylist()}
        mid = case.engine.scalar("SELECT epoch_ms(median(created_at)) FROM posts")
    checked = 0
    for cluster in {m["cluster"] for m in members}:
        tz = Counter(m["operator_tz"] for m in members if m["cluster"] == cluster).most_common(1)[0][0]
        true = ZoneInfo(tz).utcoffset(datetime.fromtimestamp(mid / 1000, timezone.utc).replace(tzinfo=None))
        got = zones[cluster]
        assert abs(got["behaviour_utc_offset"] - true.total_seconds() / 3600) <= 1, (cluster, tz, got)
        assert got["template"] == "office"
        checked += 1
    assert checked >= 4


def test_the_profession_lexicon_holds_no_simulator_only_phrase():
    """'Concerned citizen' is the simulator's persona, not a profession anybody claims in a bio."""
    from unmask.persona.checks import PROFESSIONS

    assert not PROFESSIONS.search("Concerned citizen. Patriot. Mom.")
    assert PROFESSIONS.search("Independent journalist") and PROFESSIONS.search("журналист из Москвы")
