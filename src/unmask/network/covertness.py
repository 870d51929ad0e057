"""Covertness: does a coordinated group hide who it is? Kept apart from how significant it is.

Activists, fan armies, campaign volunteers and newsrooms coordinate in the open; an influence
operation coordinates *and* hides who runs it. Significance (:mod:`unmask.network.groups`) says a
group acts together beyond chance; this module says whether the group shows signs of concealment,
from evidence the checks already gathered, each factor with its evidence:

- ``persona_mismatch``: share of members whose claims do not fit their behaviour (the persona
  checks' rule: a zone mismatch plus another oddity, or three oddities), with each member's clock
  read from its own posts: those outside the group's coordinated actions (none of their objects
  shared with another member). An agreed hour (a tweetstorm at 18:00) or an operator's shift sets
  the coordinated posts' times; an operation's filler is still written on the operator's clock,
  an activist's own posts on the activist's.
- ``claimed_vs_pooled_zone``: the zone the members' own posts fit, pooled (tzdata, with DST), against the
  places members claim; share of claimants three or more hours away whose own posting hours do
  not fit their claim either (members abroad who post on their own clock are not doubted), read
  only when those claimants' posts, together, fit the pooled zone better than their claimed ones
  (a log-likelihood ratio of 3 or more): people of several zones pool to a zone between theirs.
- ``creation_batches``: share of members created in batches: three or more within a week, more
  than the group's spread of creation dates would give by chance.
- ``shared_uncommon_client``: members who post mainly with an app that under 5% of all accounts
  use and at least three members share, counted beyond five times the app's share among all
  accounts (three iPad users in twenty is not a shared tool; thirteen on one scheduler is).
- ``bulk_handles``: share of members with bulk sign-up handles (a name and six or more digits),
  beyond the share among all accounts.
- ``identical_bios``: share of members whose bio is word for word another account's.
- ``state_media``: share of the group's links that go to state media beyond that share among all
  accounts' links (public broadcasters such as DW and Al Jazeera are on the state-media list and
  widely shared), or the share of members who repeat state-media posts.

Each factor gives a strength ``s`` in [0, 1] and has a weight ``w``; covertness is
``1 - prod(1 - w s)`` over the factors the data allows, and a group is *covert* at 0.5 or more.
A factor needs its fields for at least half the members (locations or bios, creation dates,
clients, handles, links); a release without profiles (minute times and texts only) cannot show
openness, so its groups are *unassessed*, flagged on coordination alone, and the report says why.
A group is *open* only when at least three of the six account-profile factors could be read (the
data let unmask look for concealment three ways) and they do not add up to 0.5; with fewer it is
*unassessed*. (On the IRA release, which has a claimed region but no bios, creation dates, clients
or handles, the zone factors alone called the largest network open: an operation that keeps its
operators on its targets' clock, as the IRA's night shifts did, hides from them.) Cells are assessed the same way; a member is flagged when its cell (its network, for cells
under three accounts) is covert or unassessed.

Failure modes: an operation with honest-looking personas (real accounts hired or hijacked) reads
as open; a real community that shares one scheduling app or was recruited in one week reads as
partly covert, and the report shows which factor said so.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict

import numpy as np
import pyarrow as pa

from unmask.persona.checks import HANDLE_DIGITS
from unmask.schema import COORDINATED

THRESHOLD = 0.5
MIN_PROFILE_FACTORS = 3  # account-profile factors that must be readable before a group is called open
MIN_FIELDS = 0.5  # share of members that must have a factor's fields for it to be read
PROFILE_FACTORS = ("persona_mismatch", "claimed_vs_pooled_zone", "creation_batches", "shared_uncommon_client",
                   "bulk_handles", "identical_bios")
WEIGHTS = {"persona_mismatch": 0.9, "claimed_vs_pooled_zone": 0.9, "creation_batches": 0.8,
           "shared_uncommon_client": 0.8, "bulk_handles": 0.6, "identical_bios": 0.6, "state_media": 0.7}
ZONE_GAP_HOURS = 3
MIN_OWN_POSTS = 10  # own posts (outside the coordinated ones) needed to read a member's clock from them
CLAIM_LR = 3.0  # nats by which the pooled zone must explain far claimants' posts better than their claims
CLIENT_EXCESS = 5  # an uncommon app counts where it is this many times more common in the group
ACCOUNT_FACTORS = {"persona_flag": "persona_mismatch", "creation_batch": "creation_batches",
                   "shared_uncommon_client": "shared_uncommon_client", "handle_name_digits": "bulk_handles",
                   "identical_bio": "identical_bios", "state_media": "state_media"}

GROUPS = pa.schema([("level", pa.string()), ("group_id", pa.int64()), ("network", pa.int64()),
                    ("size", pa.int64()), ("coordination_p", pa.float64()), ("covertness", pa.float64()),
                    ("verdict", pa.string()), ("factors", pa.string()), ("missing", pa.string()),
                    ("summary", pa.string())])
ACCOUNTS = pa.schema([("account_id", pa.string()), ("network", pa.int64()), ("cell", pa.int64()),
                      ("coordination_p", pa.float64()), ("covertness", pa.float64()), ("verdict", pa.string()),
                      ("account_factors", pa.string()), ("flagged", pa.bool_())])


def _members(case, ids: list | None = None) -> list:
    """Every member of a coordinated network (or the accounts ``ids``) with the fields the factors read."""
    has_echo = case.has_table("state_media_echoes")
    echo = ("LEFT JOIN (SELECT account_id, count(*) AS echoes FROM state_media_echoes GROUP BY account_id) e "
            "USING (account_id)") if has_echo else ""
    if ids is not None:
        case.engine.register("_cv_ids", pa.table({"account_id": pa.array(ids, pa.string())}))
        try:
            return _members_from(case, "(SELECT account_id, NULL::BIGINT AS network, NULL::BIGINT AS cell, "
                                       "NULL::DOUBLE AS group_p FROM _cv_ids) c", "true", echo, has_echo)
        finally:
            case.engine.unregister("_cv_ids")
    return _members_from(case, "clusters c", f"c.{COORDINATED}", echo, has_echo)


def _members_from(case, source: str, where: str, echo: str, has_echo: bool) -> list:
    return case.engine.query(f"""
        SELECT c.account_id, c.network, c.cell, c.group_p, a.created_at, a.handle, a.description,
               a.reported_location, p.main_client, p.claimed_utc_offset, p.claimed_place, p.claimed_zone,
               f.persona_flags,
               coalesce(s.links, 0) AS links, coalesce(s.state_media_links, 0) AS state_media_links,
               {'coalesce(e.echoes, 0)' if has_echo else '0'} AS echoes
        FROM {source} LEFT JOIN accounts a USING (account_id) LEFT JOIN personas p USING (account_id)
        LEFT JOIN persona_flags f USING (account_id) LEFT JOIN state_media_shares s USING (account_id) {echo}
        WHERE {where} ORDER BY c.account_id""").to_pylist()


def _check_accounts(case, check: str) -> set:
    return set(case.engine.query('SELECT DISTINCT account_id FROM checks WHERE "check" = ?', [check])
               .column("account_id").to_pylist())


def _own_posts(case) -> dict:
    """Each member's post times outside the group's coordinated actions: posts none of whose objects
    (referenced post, text, hashtag, link) another member of its network shares. An agreed hour or
    an operator's schedule sets the coordinated posts' times; a member's own posts show its clock."""
    eng = case.engine
    rows = eng.query(f"""
        WITH m AS (SELECT account_id, network FROM clusters WHERE {COORDINATED}),
        p AS (SELECT p.post_id, p.account_id, m.network, {eng.epoch_ms('p.created_at')} AS t, p.ref_post_id,
                     p.text_hash, p.hashtags, p.urls FROM posts p JOIN m USING (account_id)),
        o AS (SELECT post_id, account_id, network, 'r:' || ref_post_id AS obj FROM p WHERE ref_post_id IS NOT NULL
              UNION ALL SELECT post_id, account_id, network, 't:' || text_hash FROM p
                        WHERE text_hash IS NOT NULL AND ref_post_id IS NULL
              UNION ALL SELECT post_id, account_id, network, 'h:' || lower(h)
                        FROM (SELECT post_id, account_id, network, {eng.explode('hashtags')} AS h FROM p)
              UNION ALL SELECT post_id, account_id, network, 'u:' || u
                        FROM (SELECT post_id, account_id, network, {eng.explode('urls')} AS u FROM p)),
        shared AS (SELECT network, obj FROM o GROUP BY network, obj HAVING count(DISTINCT account_id) >= 2),
        coordinated AS (SELECT DISTINCT o.post_id FROM o JOIN shared USING (network, obj))
        SELECT account_id, t FROM p WHERE post_id NOT IN (SELECT post_id FROM coordinated)""")
    out = defaultdict(list)
    for a, t in zip(rows.column("account_id").to_pylist(), rows.column("t").to_pylist()):
        out[a].append(t)
    return out


def _zones(times: dict, groups: dict, min_posts: int) -> dict:
    """The zone the pooled ``times`` of each group's accounts fit: ``{key: tz result}``."""
    from unmask.persona import timezone as tzinfer

    keys = sorted(groups, key=str)
    idx, ts = [], []
    for i, k in enumerate(keys):
        for a in groups[k]:
            ts += times.get(a, [])
            idx += [i] * len(times.get(a, []))
    if not ts:
        return {}
    res = tzinfer.infer(np.array(idx, np.int64), np.array(ts, np.int64), len(keys), min_posts=min_posts)
    return {k: r for k, r in zip(keys, res) if r}


def _creation_batches(members: list, span_days: float) -> set:
    """Members created with two or more others within a week, where the case's spread of creation
    dates (``span_days``, all accounts) makes that many in one week unlikely for this many accounts
    (a batch is at least five times the expected count per week, and at least three)."""
    dated = sorted((r["created_at"], r["account_id"]) for r in members if r["created_at"] is not None)
    if len(dated) < 3:
        return set()
    per_week = len(dated) * 7.0 / max(7.0, span_days)
    need = max(3, math.ceil(5 * per_week))
    out = set()
    j = 0
    for i in range(len(dated)):
        while (dated[i][0] - dated[j][0]).total_seconds() > 7 * 86400:
            j += 1
        if i - j + 1 >= need:
            out.update(a for _, a in dated[j:i + 1])
    return out


def _persona_flags(r) -> list:
    """The persona checks' oddities of a member, its zone mismatch read from its own posts (outside
    the coordinated ones) where it has enough of them, else from all its posts."""
    flags = [k for k in (r["persona_flags"] or "").split(",") if k and k != "zone_mismatch"]
    if r["own_offset"] is not None and r["claimed_utc_offset"] is not None:
        mismatch = _gap(r["claimed_utc_offset"], r["own_offset"]) >= ZONE_GAP_HOURS
    else:
        mismatch = "zone_mismatch" in (r["persona_flags"] or "")
    return sorted(flags + (["zone_mismatch"] if mismatch else []))


def _persona_flag(flags: list) -> bool:
    """The persona checks' rule: a zone mismatch plus another oddity, or three other oddities."""
    others = [k for k in flags if k != "zone_mismatch"]
    return ("zone_mismatch" in flags and bool(others)) or len(others) >= 3


def _available(members, field_fn) -> bool:
    return sum(1 for r in members if field_fn(r)) >= MIN_FIELDS * len(members)


def assess_group(members: list, pooled, marks: dict, base_digits: float, client_base: dict | None = None,
                 base_state: float = 0.0, skip: tuple = (), times: dict | None = None) -> dict:
    """Covertness of one group: ``{covertness, verdict, factors: {name: {strength, evidence}}, missing}``.

    ``marks`` maps an account factor (``persona_flag``, ``creation_batch``, ...) to the accounts
    that carry it; ``pooled`` is the group's pooled zone (or None); ``times`` the members' post
    times (ms) the pool was read from, to test the far claimants' claims against it."""
    n = len(members)
    ids = [r["account_id"] for r in members]
    client_base = client_base or {}
    factors, missing = {}, []

    def share(mark):
        return sum(1 for a in ids if a in marks.get(mark, ())) / n

    claims = [r for r in members if r["claimed_utc_offset"] is not None]
    # a member whose own posting hours fit its claim is not doubted for the pool's sake (a campaign
    # has members abroad)
    own_fit = {r["account_id"] for r in claims if r["own_offset"] is not None
               and _gap(r["claimed_utc_offset"], r["own_offset"]) < ZONE_GAP_HOURS}
    if _available(members, lambda r: r["reported_location"] or r["description"]):
        s = share("persona_flag")
        kinds = Counter(k for r in members if r["account_id"] in marks.get("persona_flag", ())
                        for k in r["own_flags"])
        factors["persona_mismatch"] = {"strength": s, "evidence":
            f"{round(s * n)} of {n} accounts claim what their behaviour does not fit (posting hours read outside "
            "the group's coordinated posts)"
            + (f" ({', '.join(f'{k} {v}' for k, v in kinds.most_common(4))})" if kinds else "")}
    else:
        missing.append("persona_mismatch: no location or bio for most members")
    if pooled and pooled["confidence"] >= 0.5 and len(claims) >= 3 and len(claims) >= 0.2 * n:
        far = [r for r in claims if _gap(r["claimed_utc_offset"], pooled["offset"]) >= ZONE_GAP_HOURS
               and r["account_id"] not in own_fit]
        places = Counter(r["claimed_place"] or r["claimed_zone"] for r in far)
        lr, fits = (_claims_against_pool(times, far, pooled["offset"]) if far and times is not None else (None, None))
        head = (f"members' own posts (outside the coordinated ones), pooled, fit UTC{pooled['offset']:+g} ({pooled['zone']}, "
                f"{pooled['template']} day, confidence {pooled['confidence']:.2f}); {len(far)} of {len(claims)} members "
                f"who name a place claim one {ZONE_GAP_HOURS}+ h away"
                + (f" ({', '.join(str(p) for p, _ in places.most_common(3))})" if far else ""))
        if lr is not None and lr < CLAIM_LR:
            # a pool of people from several zones fits a zone between theirs: their posts, each read on
            # its own claimed clock, fit as well, so the pool does not contradict the claims
            factors["claimed_vs_pooled_zone"] = {"strength": 0.0, "evidence": head + (
                f", but their {fits} posts fit their claimed zones as well as the pooled one (log-likelihood "
                f"ratio {lr:.1f}, under {CLAIM_LR:g}): a mix of zones, not a hidden one")}
        else:
            factors["claimed_vs_pooled_zone"] = {"strength": len(far) / len(claims), "evidence": head + (
                f"; their {fits} posts fit the pooled zone better than their claims (log-likelihood ratio {lr:.1f})"
                if lr is not None else "")}
    else:
        missing.append("claimed_vs_pooled_zone: " + ("too few members name a place" if len(claims) < max(3, 0.2 * n)
                                                     else "the pooled posting hours fit no zone clearly"))
    if _available(members, lambda r: r["created_at"] is not None):
        s = share("creation_batch")
        factors["creation_batches"] = {"strength": s, "evidence":
            f"{round(s * n)} of {n} accounts were created in batches (3+ within a week)"}
    else:
        missing.append("creation_batches: no creation dates")
    if _available(members, lambda r: r["main_client"]):
        flagged = [r["main_client"] for r in members if r["account_id"] in marks.get("shared_uncommon_client", ())]
        excess = {c: max(0.0, k / n - CLIENT_EXCESS * client_base.get(c, 0.0)) for c, k in Counter(flagged).items()}
        s = min(1.0, sum(excess.values()))
        factors["shared_uncommon_client"] = {"strength": s, "evidence":
            f"{len(flagged)} of {n} accounts post mainly with an app under 5% of all accounts use"
            + (" (" + ", ".join(f"{c}: {k} here, {client_base.get(c, 0.0):.1%} of all accounts"
                                for c, k in Counter(flagged).most_common(2)) + ")" if flagged else "")
            + f"; strength is the share beyond {CLIENT_EXCESS}x the app's share among all accounts"}
    else:
        missing.append("shared_uncommon_client: no client apps")
    if _available(members, lambda r: r["handle"]):
        raw = share("handle_name_digits")
        s = max(0.0, raw - base_digits) / max(1e-9, 1 - base_digits)
        factors["bulk_handles"] = {"strength": s, "evidence":
            f"{raw:.0%} of accounts have a name-and-digits handle, against {base_digits:.0%} of all accounts"}
    else:
        missing.append("bulk_handles: no handles")
    if _available(members, lambda r: r["description"]):
        s = share("identical_bio")
        factors["identical_bios"] = {"strength": s, "evidence":
            f"{round(s * n)} of {n} accounts share a bio word for word with another account"}
    else:
        missing.append("identical_bios: no bios")
    links = sum(r["links"] for r in members)
    if links >= 5:
        state = sum(r["state_media_links"] for r in members)
        echo = sum(1 for r in members if r["echoes"]) / n
        excess = max(0.0, state / links - base_state) / max(1e-9, 1.0 - base_state)
        s = max(excess, echo)
        factors["state_media"] = {"strength": s, "evidence":
            f"{state} of {links} links go to state media, against {base_state:.0%} of all accounts' links; "
            f"{echo:.0%} of accounts repeat state-media posts"}
    else:
        missing.append("state_media: under 5 links")
    # factors that chose the group cannot also say it hides (a registration group: its batches, app, handles)
    factors = {k: f for k, f in factors.items() if k not in skip}
    missing = [m for m in missing if m.split(":")[0] not in skip]
    score = 1.0 - math.prod(1.0 - WEIGHTS[k] * min(1.0, max(0.0, f["strength"])) for k, f in factors.items())
    if score >= THRESHOLD:
        verdict = "covert"
    elif sum(k in factors for k in PROFILE_FACTORS if k not in skip) >= min(MIN_PROFILE_FACTORS,
                                                                           len(PROFILE_FACTORS) - len(skip)):
        verdict = "open"
    else:
        verdict = "unassessed"
    return {"covertness": float(score), "verdict": verdict, "factors": factors, "missing": missing}


def _claims_against_pool(times: dict, far: list, offset: float) -> tuple:
    """How much better the pooled zone (``offset`` hours) explains the far claimants' posts than
    their claimed offsets do: ``(log-likelihood ratio, posts)``, each side the best of the human and
    office day templates over the claimants' hour-of-day counts, read on each side's clock."""
    from unmask.persona.timezone import HUMAN, OFFICE, _norm

    pool, claim = np.zeros(24), np.zeros(24)
    for r in far:
        t = np.asarray(times.get(r["account_id"], []), np.int64) // 1000
        if not len(t):
            continue
        pool += np.bincount(((t + round(offset * 3600)) // 3600) % 24, minlength=24)
        claim += np.bincount(((t + round(r["claimed_utc_offset"] * 3600)) // 3600) % 24, minlength=24)
    if not pool.sum():
        return None, 0
    templates = (_norm(HUMAN), _norm(OFFICE))
    return float(max(pool @ x for x in templates) - max(claim @ x for x in templates)), int(pool.sum())


def _gap(a: float, b: float) -> float:
    d = abs(a - b) % 24
    return min(d, 24 - d)


def summary(res: dict) -> str:
    """One line a reader takes in at a glance: the verdict and the factors that made it."""
    strong = sorted(((WEIGHTS[k] * f["strength"], k) for k, f in res["factors"].items() if f["strength"] >= 0.1),
                    reverse=True)
    if res["verdict"] == "unassessed":
        return "covertness not assessable: the data lacks " + "; ".join(m.split(":")[0] for m in res["missing"])
    head = {"covert": "signs of concealment", "open": "coordinated, no sign of concealment"}[res["verdict"]]
    if not strong:
        return f"{head} (covertness {res['covertness']:.2f}; every factor read is weak)"
    return f"{head} (covertness {res['covertness']:.2f}): " + "; ".join(
        res["factors"][k]["evidence"] for _, k in strong[:3])


REGISTRATION_FACTORS = ("creation_batches", "shared_uncommon_client", "bulk_handles", "identical_bios")
REGISTRATION_FLAGS = ("handle_name_digits", "identical_bio", "shared_uncommon_client", "creation_burst")


def assess_accounts(case, ids: list, skip: tuple = REGISTRATION_FACTORS) -> dict:
    """Covertness of a group of accounts that no coordinated network holds (a registration group), from
    the factors not in ``skip`` and without the persona oddities that repeat them: each member's clock
    and the pooled zone are read from all its posts."""
    members = _members(case, ids)
    if not members:
        return {"covertness": 0.0, "verdict": "unassessed", "factors": {}, "missing": ["no accounts"]}
    for r in members:
        r["own_offset"] = None
        r["own_flags"] = [f for f in _persona_flags(r) if f not in REGISTRATION_FLAGS]
    marks = {"persona_flag": {r["account_id"] for r in members if _persona_flag(r["own_flags"])},
             "state_media": {r["account_id"] for r in members if r["state_media_links"] or r["echoes"]}}
    eng = case.engine
    eng.register("_cv_ids", pa.table({"account_id": pa.array(ids, pa.string())}))
    try:
        t = eng.query(f"SELECT account_id, {eng.epoch_ms('created_at')} AS t FROM posts "
                      "WHERE account_id IN (SELECT account_id FROM _cv_ids)")
    finally:
        eng.unregister("_cv_ids")
    times = defaultdict(list)
    for a, ms in zip(t.column("account_id").to_pylist(), t.column("t").to_pylist()):
        times[a].append(ms)
    pooled = _zones(times, {"group": list(ids)}, 30).get("group")
    base_state = case.engine.scalar("SELECT sum(state_media_links) / nullif(sum(links), 0) FROM state_media_shares") \
        if case.has_table("state_media_shares") else 0.0
    return assess_group(members, pooled, marks, 0.0, None, float(base_state or 0.0), skip=skip, times=times)


def assess(case) -> dict:
    """Assess every coordinated network and its cells; set each member's status (``flagged`` or
    ``open``) in ``clusters``, write the ``covertness`` table (networks and cells) and
    ``account_covertness``, and return counts."""
    members = _members(case)
    if not members:
        case.write_table("covertness", GROUPS.empty_table())
        case.write_table("account_covertness", ACCOUNTS.empty_table())
        _set_status(case)
        return {"networks": 0, "flagged_networks": 0, "open_networks": 0, "unassessed_networks": 0,
                "threshold": THRESHOLD}
    own_times = _own_posts(case)
    own_zone = _zones(own_times, {r["account_id"]: [r["account_id"]] for r in members}, MIN_OWN_POSTS)
    for r in members:
        z = own_zone.get(r["account_id"])
        r["own_offset"] = z["offset"] if z and z["confidence"] >= 0.5 else None
        r["own_flags"] = _persona_flags(r)
    marks = {"persona_flag": {r["account_id"] for r in members if _persona_flag(r["own_flags"])}}
    for check in ("shared_uncommon_client", "handle_name_digits", "identical_bio"):
        marks[check] = _check_accounts(case, check)
    marks["state_media"] = {r["account_id"] for r in members if r["state_media_links"] or r["echoes"]}
    base_digits = case.engine.scalar(  # the handle_name_digits check's own pattern, over all accounts
        f"SELECT avg(CASE WHEN regexp_matches(coalesce(handle, ''), '{HANDLE_DIGITS.pattern}') THEN 1.0 ELSE 0.0 END) "
        "FROM accounts") or 0.0
    client_base = {r["main_client"]: r["share"] for r in case.engine.query(
        "SELECT main_client, count(*) / (SELECT count(*) FROM accounts) AS share FROM personas "
        "WHERE main_client IS NOT NULL GROUP BY main_client").to_pylist()}
    base_state = case.engine.scalar("SELECT sum(state_media_links) / nullif(sum(links), 0) FROM state_media_shares") \
        if case.has_table("state_media_shares") else 0.0
    base_state = float(base_state or 0.0)
    nets, cells = defaultdict(list), defaultdict(list)
    for r in members:
        nets[r["network"]].append(r)
        if r["cell"] is not None:
            cells[r["cell"]].append(r)
    span = case.engine.scalar("SELECT date_diff('day', quantile_disc(created_at, 0.05), quantile_disc(created_at, 0.95)) "
                              "FROM accounts WHERE created_at IS NOT NULL")
    marks["creation_batch"] = set()
    for rows in nets.values():
        marks["creation_batch"] |= _creation_batches(rows, float(span or 7))
    groups = {("network", g): [r["account_id"] for r in rows] for g, rows in nets.items()}
    groups.update({("cell", c): [r["account_id"] for r in rows] for c, rows in cells.items() if len(rows) >= 3})
    pooled = _zones(own_times, groups, 30)
    results, out_rows = {}, []
    for (level, gid), accs in sorted(groups.items()):
        rows = nets[gid] if level == "network" else cells[gid]
        res = assess_group(rows, pooled.get((level, gid)), marks, float(base_digits), client_base, base_state,
                           times=own_times)
        results[(level, gid)] = res
        out_rows.append({"level": level, "group_id": gid, "network": rows[0]["network"], "size": len(rows),
                         "coordination_p": rows[0]["group_p"] if level == "network" else None,
                         "covertness": res["covertness"], "verdict": res["verdict"],
                         "factors": json.dumps(res["factors"], sort_keys=True),
                         "missing": "; ".join(res["missing"]), "summary": summary(res)})
    acc_rows = []
    for r in members:
        res = results.get(("cell", r["cell"])) or results[("network", r["network"])]
        own = sorted(f for m, f in ACCOUNT_FACTORS.items() if r["account_id"] in marks.get(m, ()))
        acc_rows.append({"account_id": r["account_id"], "network": r["network"], "cell": r["cell"],
                         "coordination_p": r["group_p"], "covertness": res["covertness"], "verdict": res["verdict"],
                         "account_factors": ",".join(own), "flagged": res["verdict"] != "open"})
    case.write_table("covertness", pa.Table.from_pylist(out_rows, schema=GROUPS))
    case.write_table("account_covertness", pa.Table.from_pylist(acc_rows, schema=ACCOUNTS))
    _set_status(case)
    net_verdicts = Counter(res["verdict"] for (level, _), res in results.items() if level == "network")
    flagged_nets = len({r["network"] for r in acc_rows if r["flagged"]})
    return {"networks": len(nets), "flagged_networks": flagged_nets, "open_networks": len(nets) - flagged_nets,
            "unassessed_networks": net_verdicts.get("unassessed", 0), "threshold": THRESHOLD}


def _set_status(case) -> None:
    """Members of coordinated networks become ``flagged`` or ``open`` (``is_candidate`` follows); each
    network in ``groups`` gets its verdict and covertness, and is ``flagged`` when any member is."""
    eng = case.engine
    eng.execute("""
        CREATE OR REPLACE TABLE clusters AS
        SELECT c.account_id, c.cluster, c.cluster_size,
               CASE WHEN k.account_id IS NULL THEN c.is_candidate ELSE k.flagged END AS is_candidate,
               c.network, c.cell, c.group_p, c.group_q,
               CASE WHEN k.account_id IS NULL THEN c.status WHEN k.flagged THEN 'flagged' ELSE 'open' END AS status,
               c.persona_type
        FROM clusters c LEFT JOIN account_covertness k USING (account_id) ORDER BY c.account_id""")
    eng.execute(f"""
        CREATE OR REPLACE TABLE groups AS
        SELECT g.cluster, g.size, g.links, g.strength, g.expected_false_links, g.group_p, g.group_q, g.selection_p,
               g.hub,
               CASE WHEN NOT g.{COORDINATED} THEN g.status
                    WHEN EXISTS (SELECT 1 FROM account_covertness k WHERE k.network = g.cluster AND k.flagged)
                    THEN 'flagged' ELSE 'open' END AS status,
               g.group_p AS coordination_p, v.covertness, v.verdict AS covertness_verdict,
               v.summary AS covertness_summary
        FROM groups g LEFT JOIN covertness v ON v.level = 'network' AND v.group_id = g.cluster
        ORDER BY g.cluster""")
