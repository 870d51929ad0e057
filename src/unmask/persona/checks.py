"""Persona checks: each gives rows ``account_id, check, observed, expected, strength, evidence``.

A zone mismatch alone is weak (travellers and expatriates exist): an account's ``persona_flag``
needs the mismatch plus another independent oddity, or three other oddities.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from unmask.persona import location, timezone as tzinfer
from unmask.schema import COORDINATED

PROFESSIONS = re.compile(
    r"\b(journalist|reporter|editor|correspondent|analyst|expert|activist|commentator|"
    r"journaliste|periodista|giornalista|journalistin|reporterin|analista|experto|"
    r"журналист|репортер|редактор|аналитик|эксперт|активист)\b|"
    r"(روزنامه[\s\u200c]?نگار|خبرنگار|تحلیلگر|کارشناس|فعال|صحفي|صحفية|مراسل|محلل|خبير|ناشط|记者|编辑|分析师)",
    re.IGNORECASE)
HANDLE_DIGITS = re.compile(r"^[A-Za-z_]+[0-9]{6,}$")
DAY = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
ZONE_MISMATCH_HOURS = 3


def _offset(zone, when_ms):
    return ZoneInfo(zone).utcoffset(datetime.fromtimestamp(when_ms / 1000, timezone.utc).replace(tzinfo=None)) \
        .total_seconds() / 3600.0


PERSONAS = pa.schema([
    ("account_id", pa.string()), ("behaviour_zone", pa.string()), ("behaviour_utc_offset", pa.float64()),
    ("behaviour_tz_confidence", pa.float64()), ("template", pa.string()), ("off_days", pa.string()),
    ("lunch_pause", pa.bool_()), ("claimed_place", pa.string()), ("claimed_zone", pa.string()),
    ("claimed_country", pa.string()), ("claimed_utc_offset", pa.float64()), ("profession_claim", pa.string()),
    ("post_language", pa.string()), ("post_language_share", pa.float64()), ("main_client", pa.string())])


PERSONAS_VERSION = "personas=2"  # 2: main_client and client_use


def profiles_current(case) -> bool:
    """Whether ``personas`` (and ``client_use``) were computed from the posts as they are now."""
    from unmask import percase

    return percase.is_current(case, "personas", "client_use", extra=PERSONAS_VERSION)


def _client_use(case) -> None:
    """Posts per account and client app, as the per-case table ``client_use`` (made with ``personas``)."""
    case.engine.execute("CREATE OR REPLACE TABLE client_use AS "
                        "SELECT account_id, client, count(*) AS n FROM posts GROUP BY account_id, client")


def profiles(case) -> pa.Table:
    """Behavioural zone, claimed zone and claims for every account; stored as table ``personas``,
    computed once per case and again only when new posts arrive (:mod:`unmask.percase`)."""
    from unmask import percase

    if profiles_current(case):
        return case.table("personas")
    table = _profiles(case)
    percase.mark_current(case, "personas", "client_use", extra=PERSONAS_VERSION)
    return table


def _profiles(case) -> pa.Table:
    eng = case.engine
    acc = eng.query("""SELECT account_id, handle, description, reported_location, account_language, created_at
                       FROM accounts ORDER BY account_id""").to_pylist()
    posts = eng.query(f"""SELECT i.idx, {eng.epoch_ms('p.created_at')} AS t FROM posts p
                          JOIN (SELECT account_id, row_number() OVER (ORDER BY account_id) - 1 AS idx FROM accounts) i
                          USING (account_id)""")
    ai = posts.column("idx").to_numpy().astype(np.int64)
    t = posts.column("t").to_numpy().astype(np.int64)
    del posts
    behaviour = tzinfer.infer(ai, t, len(acc)) if len(t) else [None] * len(acc)
    # each account's main post language (ties: the one it used first) and its share
    langs = {r["account_id"]: r for r in eng.query("""
        SELECT account_id, lang, n / total AS share FROM (
            SELECT account_id, lang, n, sum(n) OVER (PARTITION BY account_id) AS total,
                   row_number() OVER (PARTITION BY account_id ORDER BY n DESC, first_t, lang) AS rk
            FROM (SELECT account_id, lang, count(*) AS n, min(created_at) AS first_t FROM posts
                  WHERE lang IS NOT NULL AND lang NOT IN ('und', 'zxx') GROUP BY account_id, lang))
        WHERE rk = 1""").to_pylist()}
    _client_use(case)
    clients = {r["account_id"]: r["client"] for r in eng.query("""
        SELECT account_id, client FROM (
            SELECT account_id, client, row_number() OVER (PARTITION BY account_id ORDER BY n DESC,
                                                          coalesce(client, '')) AS rk
            FROM client_use) WHERE rk = 1""").to_pylist()}
    mid = int(np.median(t)) if len(t) else 0
    rows = []
    for a, b in zip(acc, behaviour):
        claim = location.resolve(a["reported_location"])
        prof = PROFESSIONS.search(unicodedata.normalize("NFKC", a["description"] or ""))
        top_lang = langs.get(a["account_id"])
        rows.append({
            "account_id": a["account_id"],
            "behaviour_zone": b["zone"] if b else None, "behaviour_utc_offset": b["offset"] if b else None,
            "behaviour_tz_confidence": b["confidence"] if b else None, "template": b["template"] if b else None,
            "off_days": ",".join(DAY[d] for d in b["off_days"]) if b else None,
            "lunch_pause": b["lunch_pause"] if b else None,
            "claimed_place": claim["place"] if claim else None, "claimed_zone": claim["zone"] if claim else None,
            "claimed_country": claim["country"] if claim else None,
            "claimed_utc_offset": _offset(claim["zone"], mid) if claim else None,
            "profession_claim": (prof.group(0).lower() if prof else None),
            "post_language": top_lang["lang"] if top_lang else None,
            "post_language_share": float(top_lang["share"]) if top_lang else None,
            "main_client": clients.get(a["account_id"]),
        })
    table = pa.Table.from_pylist(rows, schema=PERSONAS)
    case.write_table("personas", table)
    return table


def cluster_profiles(case) -> pa.Table:
    """Behavioural zone, template, off days and lunch pause of each candidate cluster's pooled posts."""
    eng = case.engine
    schema = pa.schema([("cluster", pa.int64()), ("behaviour_zone", pa.string()), ("behaviour_utc_offset", pa.float64()),
                        ("behaviour_tz_confidence", pa.float64()), ("template", pa.string()),
                        ("off_days", pa.string()), ("lunch_pause", pa.bool_()), ("posts", pa.int64())])
    if not case.has_table("clusters"):
        case.write_table("cluster_personas", schema.empty_table())
        return schema.empty_table()
    # coordinated networks and registration groups (unmask.network.registration); kin have no cluster
    rows = eng.query(f"""SELECT c.cluster, {eng.epoch_ms('p.created_at')} AS t FROM posts p
                         JOIN clusters c USING (account_id)
                         WHERE c.{COORDINATED} OR (c.status = 'registered' AND c.cluster IS NOT NULL)
                         ORDER BY c.cluster, t""")
    clusters = rows.column("cluster").to_pylist()
    ids = sorted(set(clusters))
    out = []
    if ids:
        index = {c: i for i, c in enumerate(ids)}
        res = tzinfer.infer(np.array([index[c] for c in clusters]), np.array(rows.column("t").to_pylist()), len(ids))
        counts = Counter(clusters)
        for c, r in zip(ids, res):
            if r:
                out.append({"cluster": c, "behaviour_zone": r["zone"], "behaviour_utc_offset": r["offset"],
                            "behaviour_tz_confidence": r["confidence"], "template": r["template"],
                            "off_days": ",".join(DAY[d] for d in r["off_days"]), "lunch_pause": r["lunch_pause"],
                            "posts": counts[c]})
    table = pa.Table.from_pylist(out, schema=schema)
    case.write_table("cluster_personas", table)
    return table


def _row(a, check, observed, expected, strength, evidence):
    return {"account_id": a, "check": check, "observed": str(observed), "expected": str(expected),
            "strength": float(strength), "evidence": evidence}


def run(case) -> pa.Table:
    """Account checks (per case, reused until new posts arrive) plus the checks of flagged networks."""
    account_rows = account_checks(case).to_pylist()
    cluster_profiles(case)
    cluster, created = {}, {}
    if case.has_table("clusters"):
        for r in case.engine.query(f"""SELECT c.account_id, c.cluster, a.created_at FROM clusters c
                                      LEFT JOIN accounts a USING (account_id) WHERE c.{COORDINATED}""").to_pylist():
            cluster[r["account_id"]], created[r["account_id"]] = r["cluster"], r["created_at"]
    out = account_rows + _group_checks(case, cluster, created, case.count("accounts"))
    table = pa.Table.from_pylist(out, schema=_SCHEMA) if out else _SCHEMA.empty_table()
    _flags(case, table)
    return table


def account_checks(case) -> pa.Table:
    """Checks of single accounts (zone and language against claims, profession, handle, identical
    bios), stored as the per-case table ``account_checks``."""
    from unmask import percase

    if percase.is_current(case, "account_checks", extra=PERSONAS_VERSION) and profiles_current(case):
        return case.table("account_checks")
    prof = profiles(case).to_pylist()
    acc = {a["account_id"]: a for a in case.engine.query(
        "SELECT account_id, handle, description, created_at FROM accounts").to_pylist()}
    out = []
    for p in prof:
        out += _zone_and_language(p)
        a = acc[p["account_id"]]
        if p["profession_claim"]:
            out.append(_row(p["account_id"], "profession_claim", p["profession_claim"], "-", 0.3,
                            "the bio claims a profession that gives access or authority"))
        if a["handle"] and HANDLE_DIGITS.match(a["handle"]):
            out.append(_row(p["account_id"], "handle_name_digits", a["handle"], "-", 0.3,
                            "handle is a name followed by six or more digits, as platforms suggest for bulk sign-ups"))
    out += _identical_bios(acc)
    table = pa.Table.from_pylist(out, schema=_SCHEMA) if out else _SCHEMA.empty_table()
    case.write_table("account_checks", table)
    percase.mark_current(case, "account_checks", extra=PERSONAS_VERSION)
    return table


def _zone_and_language(p):
    rows = []
    if p["claimed_zone"] and p["behaviour_utc_offset"] is not None and p["behaviour_tz_confidence"] >= 0.5:
        diff = abs(p["claimed_utc_offset"] - p["behaviour_utc_offset"])
        diff = min(diff, 24 - diff)
        if diff >= ZONE_MISMATCH_HOURS:
            extra = f"; off days {p['off_days']}" if p["off_days"] else ""
            lunch = "; a lunch pause" if p["lunch_pause"] else ""
            rows.append(_row(p["account_id"], "zone_mismatch",
                             f"UTC{p['behaviour_utc_offset']:+g} ({p['template']} day, like {p['behaviour_zone']})",
                             f"UTC{p['claimed_utc_offset']:+g} ({p['claimed_place'] or p['claimed_country']})",
                             p["behaviour_tz_confidence"] * min(1.0, diff / 8),
                             f"posting hours fit {p['behaviour_zone']} with confidence "
                             f"{p['behaviour_tz_confidence']:.2f}{extra}{lunch}; a zone mismatch alone can be "
                             "travel or an expatriate"))
    if p["claimed_country"] and p["post_language"] and (p["post_language_share"] or 0) >= 0.6:
        spoken = location.country_languages(p["claimed_country"])
        if spoken and p["post_language"] not in spoken and p["post_language"] != "en":
            rows.append(_row(p["account_id"], "language_mismatch", p["post_language"], ",".join(sorted(spoken)), 0.5,
                             f"{p['post_language_share']:.0%} of posts are in '{p['post_language']}', which is not "
                             f"spoken in the claimed country {p['claimed_country']}"))
    return rows


def _identical_bios(acc):
    groups = defaultdict(list)
    for a in acc.values():
        bio = re.sub(r"\s+", " ", (a["description"] or "").lower()).strip()
        if len(bio) >= 20:
            groups[bio].append(a["account_id"])
    rows = []
    for bio, members in groups.items():
        if 2 <= len(members) <= 500:
            for m in members:
                rows.append(_row(m, "identical_bio", bio[:80], "a personal bio", min(1.0, 0.2 + 0.05 * len(members)),
                                 f"the same bio is used by {len(members)} accounts"))
    return rows


def _group_checks(case, cluster, created_at, n_accounts):
    rows = []
    # accounts per client app, and the main app of each candidate account: from the per-case tables
    users = {r["client"]: r["n"] for r in case.engine.query(
        "SELECT client, count(DISTINCT account_id) AS n FROM client_use WHERE client IS NOT NULL GROUP BY client"
    ).to_pylist()}
    main_client = {r["account_id"]: r["main_client"] for r in case.engine.query(
        f"SELECT p.account_id, p.main_client FROM personas p JOIN clusters c USING (account_id) WHERE c.{COORDINATED}"
    ).to_pylist()} if cluster else {}
    n_acc = max(1, n_accounts)
    members = defaultdict(list)
    for a, c in cluster.items():
        members[c].append(a)
    for c, accs in members.items():
        for client in {main_client.get(a) for a in accs} - {None}:
            share_all = users.get(client, 0) / n_acc
            inside = [a for a in accs if main_client.get(a) == client]
            if share_all < 0.05 and len(inside) >= 3:
                for a in inside:
                    rows.append(_row(a, "shared_uncommon_client", client, "common apps", 0.5,
                                     f"{len(inside)} accounts of cluster {c} post mainly with {client}, which "
                                     f"{share_all:.1%} of all accounts use"))
        created = sorted((created_at[a], a) for a in accs if created_at.get(a) is not None)
        for i, (t0, _) in enumerate(created):
            window = [a for t, a in created[i:] if (t - t0).days <= 7]
            if len(window) >= max(3, len(accs) // 3):
                for a in window:
                    rows.append(_row(a, "creation_burst", t0.date(), "spread-out creation dates",
                                     min(1.0, len(window) / len(accs)),
                                     f"{len(window)} of {len(accs)} accounts in cluster {c} were created within a "
                                     f"week of {t0.date()}"))
                break
    return rows


def _flags(case, table):
    """persona_flags per account, and the combination rule for persona_flag."""
    by_acc = defaultdict(set)
    for a, c in zip(table.column("account_id").to_pylist(), table.column("check").to_pylist()):
        by_acc[a].add(c)
    rows = []
    for a, checks in by_acc.items():
        others = checks - {"zone_mismatch"}
        flag = ("zone_mismatch" in checks and bool(others)) or len(others) >= 3
        rows.append({"account_id": a, "persona_flags": ",".join(sorted(checks)), "persona_flag": flag})
    case.write_table("persona_flags", pa.Table.from_pylist(
        rows, schema=pa.schema([("account_id", pa.string()), ("persona_flags", pa.string()),
                                ("persona_flag", pa.bool_())])))


_SCHEMA = pa.schema([("account_id", pa.string()), ("check", pa.string()), ("observed", pa.string()),
                     ("expected", pa.string()), ("strength", pa.float64()), ("evidence", pa.string())])
