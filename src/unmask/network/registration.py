"""Registration: accounts an operation signed up and tooled together, found by how they were
registered where no trace can link them.

An operation signs up its accounts in batches and runs them with the office's tools. Some of them
stay dormant (one or two posts) or act alone; others (an "independent expert"'s boosters) retweet
like a small audience, which the traces' nulls rightly explain. Platforms' takedowns attribute such
accounts by how they were registered. unmask sees two parts of that: the creation time and what the
account shows of its tooling (its main client app, a bulk sign-up handle, a bio word for word
another's). Two tests use them.

**Kin of a flagged network** (a candidate operation, :mod:`unmask.network.covertness`):

1. its **registration batches**: runs of members (``KIN_BATCH``, one: the network is already
   significant) created with no gap over ``GAP_HOURS`` between one and the next; each batch's
   window is its first to last creation, widened by ``PAD_HOURS``;
2. its **marks**: main client apps that three or more members use and under 5% of all accounts use
   (the persona checks' "uncommon"), bulk sign-up handles where three or more members have them,
   and its members' bios;
3. its **windows**: the accounts outside any coordinated network created in a batch's window; for
   each account that ``MIN_BATCH`` or more members amplify twice or more, its other amplifiers
   (twice or more); and the accounts the network amplifies so (an expert its boosters retweet);
4. in each window of ``n`` accounts, ``k`` carry a mark; two chances: of ``k`` or more such
   accounts (Poisson with mean ``n * rate``, where ``rate`` is the share of accounts outside the
   network and its creation windows that carry any mark, plus one so that a mark no one else has
   still has a rate), and, per account, of any of the ``n`` carrying all the marks it carries.
   Matches are *registered with* the network where Holm's step-down over all the chances computed
   keeps the family-wise error at ``alpha``.

**Registration groups**, among the accounts outside every coordinated network and its kin:

1. for each mark of the case (each app under 5% of all accounts, bulk handles, each bio), each
   carrier opens a window of the next ``GAP_HOURS``; the window is a registration batch when the
   other carriers in it are beyond chance (Poisson: the window's other accounts times the mark's rate
   outside it), at ``alpha`` shared by the kinds of mark and then by the windows each opens
   (:func:`scan`); a fourth kind of window is an audience (:func:`audiences_of`): the amplifiers of
   one account, where the carriers of an app or of bulk handles (not of a bio: an audience's
   community describes itself alike) are beyond chance, however far apart they were created;
2. batches are joined where they share accounts, where their accounts amplify the same account
   (three or more of them, twice or more each) or hold any candidate link of any trace (``edges``,
   significant or not); a group needs three or more accounts that co-act in one of those ways;
3. a group is flagged only if its members' personas hide who they are too, read without the marks
   that chose it (:func:`unmask.network.covertness.assess_accounts`: claims that their posting hours
   do not fit, state-media echoes); a newsroom's staff, signed up in one afternoon with the
   newsroom's app and retweeting the outlet, are open about who they are and are not flagged.

The rates are the case's own, so a mark common in the data (default handles on a platform that
hands them out; a popular app) needs many matches before it says anything, and the creation window
stops a tool's users elsewhere in time from counting. Registered accounts get ``status =
'registered'`` in ``clusters`` (flagged: ``is_candidate``). Kin keep ``network``, the network they
were registered with, and have no ``cluster`` or cell, so the network's posts, links, charts,
significance and covertness are its members' alone; a registration group is a ``cluster`` and
``network`` of its own, with rows in ``groups`` and ``operations`` (status and verdict
``registered``, ``group_p`` its best batch's chance); the groups then get kin of their own, as the
networks do (a second family at ``alpha``), registered with the group but not members of it. Every
account has its evidence in ``registration_kin``.

Failure modes: an organisation that signs up its staff's accounts in one afternoon with one
scheduling app, beside an operation created the same afternoon, is registered with it, and so is a real
outlet the operation amplifies that posts with the operation's uncommon app; an
operation that registered its accounts months apart from common apps with personal handles
leaves nothing to find; an audience that shares an uncommon app for honest reasons (a newsroom's
readers on its publishing tool) is a batch, and is flagged only if its personas read as covert; a group of honest-looking boosters (real people paid to post) is not flagged.
"""

from __future__ import annotations

import bisect
import json
import math
from collections import Counter, defaultdict
from datetime import timedelta

import pyarrow as pa
from scipy.special import gammainc

from unmask.persona.checks import HANDLE_DIGITS
from unmask.schema import COORDINATED

GAP_HOURS = 24.0  # members created further apart than this are in different batches
PAD_HOURS = 1.0  # a batch's window reaches this far beyond its first and last member
MIN_BATCH = 3  # accounts a registration batch needs
KIN_BATCH = 1  # members of a flagged network that make one of its batches (the network is already significant)
MIN_MARK = 3  # members that must share an app or have bulk handles for it to be a mark
UNCOMMON = 0.05  # an app is a mark only if under this share of all accounts use it
MIN_BIO = 10  # bios shorter than this ("Journalist") are never marks

KIN = pa.schema([("account_id", pa.string()), ("network", pa.int64()), ("window_start", pa.timestamp("us")),
                 ("window_end", pa.timestamp("us")), ("batch_members", pa.int64()), ("window_accounts", pa.int64()),
                 ("matched", pa.int64()), ("expected", pa.float64()), ("p", pa.float64()),
                 ("matched_on", pa.string()), ("evidence", pa.string())])


def _accounts(case) -> list:
    return case.engine.query(f"""
        SELECT a.account_id, a.created_at, a.handle, a.description, p.main_client,
               CASE WHEN c.{COORDINATED} THEN c.network END AS network, c.status = 'flagged' AS flagged
        FROM accounts a LEFT JOIN personas p USING (account_id) LEFT JOIN clusters c USING (account_id)
        ORDER BY a.account_id""").to_pylist()


def batches(times: list, gap_hours: float = GAP_HOURS, min_batch: int = MIN_BATCH) -> list:
    """Runs of ``min_batch`` or more sorted datetimes with no gap over ``gap_hours``: ``[(first, last, n)]``."""
    out, run = [], []
    for t in sorted(times):
        if run and (t - run[-1]).total_seconds() > gap_hours * 3600:
            if len(run) >= min_batch:
                out.append((run[0], run[-1], len(run)))
            run = []
        run.append(t)
    if len(run) >= min_batch:
        out.append((run[0], run[-1], len(run)))
    return out


def marks(members: list, n_accounts: int, client_users: Counter) -> dict:
    """What a network's members show of their tooling: ``{clients, bulk_handles, bios}``."""
    used = Counter(r["main_client"] for r in members if r["main_client"])
    clients = {c for c, k in used.items() if k >= MIN_MARK and client_users[c] < UNCOMMON * n_accounts}
    bulk = sum(1 for r in members if HANDLE_DIGITS.match(r["handle"] or "")) >= MIN_MARK
    bios = {r["description"].strip() for r in members if len((r["description"] or "").strip()) >= MIN_BIO}
    return {"clients": clients, "bulk_handles": bulk, "bios": bios}


def matched_on(r, m: dict) -> list:
    """The marks of ``m`` that account ``r`` carries."""
    out = []
    if r["main_client"] in m["clients"]:
        out.append(f"posts mainly with {r['main_client']}")
    if m["bulk_handles"] and HANDLE_DIGITS.match(r["handle"] or ""):
        out.append("bulk sign-up handle")
    if (r["description"] or "").strip() in m["bios"]:
        out.append("a member's bio word for word")
    return out


def kin(case, alpha: float = 0.05) -> pa.Table:
    """The ``registration_kin`` table of the flagged networks' kin (see the module docstring); nothing
    is written."""
    accounts = _accounts(case)
    return kin_of(accounts, alpha, fans_of(case, accounts))


def kin_of(accounts: list, alpha: float = 0.05, fans: dict | None = None, only: set | None = None) -> pa.Table:
    """Kin of the flagged networks among ``accounts`` (dicts: ``account_id``, ``created_at``,
    ``handle``, ``description``, ``main_client``, ``network`` where coordinated, ``flagged``).
    ``fans`` (``{account: accounts that amplify it twice or more}``) adds, for each account that
    ``MIN_BATCH`` or more members amplify, the window of its other amplifiers; ``only`` limits the
    networks tested. One family of tests, held at ``alpha`` by Holm's step-down."""
    n_accounts = len(accounts)
    client_users = Counter(r["main_client"] for r in accounts if r["main_client"])
    handle = {r["account_id"]: r["handle"] or r["account_id"] for r in accounts}
    nets = defaultdict(list)
    for r in accounts:
        if r["flagged"] and r["network"] is not None and (only is None or r["network"] in only):
            nets[r["network"]].append(r)
    free = {r["account_id"]: r for r in accounts if r["network"] is None}
    outside = sorted((r for r in free.values() if r["created_at"] is not None),
                     key=lambda r: (r["created_at"], r["account_id"]))
    created = [r["created_at"] for r in outside]
    # where each mark's carriers sit in ``outside``: a network's rates then read only the accounts
    # that carry one of its marks, not every account of the case once per network
    by_client, by_bio, bulk_at = defaultdict(list), defaultdict(list), []
    for k, r in enumerate(outside):
        if r["main_client"]:
            by_client[r["main_client"]].append(k)
        if HANDLE_DIGITS.match(r["handle"] or ""):
            bulk_at.append(k)
        if (r["description"] or "").strip():
            by_bio[r["description"].strip()].append(k)
    fans = fans or {}
    tests = []
    for net, members in sorted(nets.items()):
        m = marks(members, n_accounts, client_users)
        if not (m["clients"] or m["bulk_handles"] or m["bios"]):
            continue
        pad = _hours(PAD_HOURS)
        spans = [(lo - pad, hi + pad, size) for lo, hi, size in
                 batches([r["created_at"] for r in members if r["created_at"] is not None], min_batch=KIN_BATCH)]
        cuts = [(bisect.bisect_left(created, lo), bisect.bisect_right(created, hi)) for lo, hi, _ in spans]
        within = set().union(*(range(i, j) for i, j in cuts))
        marked = set(bulk_at) if m["bulk_handles"] else set()
        for client in m["clients"]:
            marked.update(by_client.get(client, ()))
        for bio in m["bios"]:
            marked.update(by_bio.get(bio, ()))
        # accounts elsewhere by the marks they carry (those that carry none are counted in ``elsewhere``)
        carried = Counter(frozenset(matched_on(outside[k], m)) for k in sorted(marked - within))
        elsewhere = len(outside) - len(within)
        any_rate = (sum(k for s, k in carried.items() if s) + 1) / (elsewhere + 1)

        def rate(on):  # share of accounts elsewhere that carry all of ``on`` (plus one: never zero)
            return (sum(k for s, k in carried.items() if s >= on) + 1) / (elsewhere + 1)

        ids = {r["account_id"] for r in members}
        windows = [(("created", lo, hi, size), outside[i:j]) for (lo, hi, size), (i, j) in zip(spans, cuts)]
        targets = [t for t in sorted(fans) if len(fans[t] & ids) >= MIN_BATCH]
        for t in targets:  # the other amplifiers of an account the network amplifies
            windows.append((("amplifies", handle.get(t, t), None, len(fans[t] & ids)),
                            [free[a] for a in sorted(fans[t]) if a in free]))
        if targets:  # the accounts it amplifies
            windows.append((("amplified", None, None, len(targets)), [free[t] for t in targets if t in free]))
        for (kind, lo, hi, size), cands in windows:
            hits = [(r, frozenset(matched_on(r, m))) for r in cands]
            hits = [(r, on) for r, on in hits if on]
            if not hits:
                continue
            lam = len(cands) * any_rate
            win = (net, kind, lo, hi, size, len(cands))
            tests.append((float(gammainc(len(hits), lam)), lam, win, hits))  # k or more of the window's accounts
            for r, on in hits:  # one account whose marks together are rare enough on their own
                one = len(cands) * rate(on)
                tests.append((float(-math.expm1(len(cands) * math.log1p(-min(rate(on), 1 - 1e-12)))), one, win,
                              [(r, on)]))
    rows, seen = [], set()
    # the most certain test first: an account in two networks' windows is registered with one
    order = sorted(tests, key=lambda x: (x[0], x[2][0], x[2][1], str(x[2][2])))
    for i, (p, lam, (net, kind, lo, hi, size, n), hits) in enumerate(order):
        if p > alpha / (len(tests) - i):  # Holm's step-down: the family-wise error stays at most alpha
            break
        for r, on in sorted(hits, key=lambda x: x[0]["account_id"]):
            if r["account_id"] in seen:
                continue
            seen.add(r["account_id"])
            on = sorted(on)
            chance = (f"{len(hits)} of the {n} other accounts {{}} carry the network's marks, " if len(hits) > 1
                      else f"of the {n} other accounts {{}}, ")
            if kind == "created":
                where = (f"created {r['created_at']:%Y-%m-%d %H:%M}, inside the span in which {size} members of "
                         f"network {net} were created ({lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M}); ")
                chance = chance.format("created then")
                lo_, hi_ = lo, hi
            elif kind == "amplifies":
                where = f"amplifies @{lo} twice or more, as {size} members of network {net} do; "
                chance = chance.format(f"outside every network that amplify @{lo} twice or more")
                lo_ = hi_ = None
            else:
                where = f"amplified twice or more by {MIN_BATCH} or more members of network {net}; "
                chance = chance.format("outside every network that its members amplify so")
                lo_ = hi_ = None
            rows.append({
                "account_id": r["account_id"], "network": net, "window_start": lo_, "window_end": hi_,
                "batch_members": size, "window_accounts": n, "matched": len(hits), "expected": lam, "p": p,
                "matched_on": "; ".join(on),
                "evidence": (where + f"{'; '.join(on)}, as its members do; " + chance
                             + f"where {lam:.2g} would by chance (p = {p:.1e}, Holm over {len(tests)} tests); "
                             "no coordinated action with the network beyond what an audience does was seen")})
    rows.sort(key=lambda x: (x["network"], x["account_id"]))
    return pa.Table.from_pylist(rows, schema=KIN) if rows else KIN.empty_table()


def fans_of(case, accounts: list) -> dict:
    """``{account: accounts that amplify it (retweet, quote or reply to its posts) twice or more}`` for
    every account that ``MIN_BATCH`` or more members of one flagged network amplify twice or more."""
    members = [(r["account_id"], r["network"]) for r in accounts if r["flagged"] and r["network"] is not None]
    if not members:
        return {}
    eng = case.engine
    eng.register("_reg_members", pa.table({"account_id": pa.array([a for a, _ in members], pa.string()),
                                           "network": pa.array([n for _, n in members], pa.int64())}))
    try:
        rows = eng.query(f"""
            WITH amp AS (
                SELECT p.account_id, r.account_id AS target FROM posts p JOIN posts r ON r.post_id = p.ref_post_id
                WHERE p.account_id IN (SELECT account_id FROM _reg_members) AND r.account_id <> p.account_id
                GROUP BY ALL HAVING count(*) >= 2),
            targets AS (SELECT DISTINCT target FROM amp JOIN _reg_members USING (account_id)
                        GROUP BY target, network HAVING count(*) >= {MIN_BATCH})
            SELECT r.account_id AS target, p.account_id FROM posts r JOIN posts p ON p.ref_post_id = r.post_id
            WHERE r.account_id IN (SELECT target FROM targets) AND p.account_id <> r.account_id
            GROUP BY ALL HAVING count(*) >= 2 ORDER BY ALL""").to_pylist()
    finally:
        eng.unregister("_reg_members")
    out = defaultdict(set)
    for r in rows:
        out[r["target"]].add(r["account_id"])
    return dict(out)


def _hours(h: float) -> timedelta:
    return timedelta(hours=h)


def scan(outside: list, accounts: list, alpha: float = 0.05, audiences: dict | None = None) -> tuple:
    """Significant registration batches among ``outside`` (account dicts with ``created_at``,
    ``main_client``, ``handle``, ``description``; ``accounts`` all of the case's, for the apps'
    shares): ``([(p, mark, window start, window end, accounts created in it, carriers, expected)],
    windows that could be tested)``. Each carrier of a mark opens a window of ``GAP_HOURS``; the
    other carriers in it are counted against the window's other accounts at the mark's rate outside
    it (Poisson), at ``alpha`` shared equally by the kinds of mark (apps, handles, bios) and then
    by the windows of each kind (weighted Bonferroni), so that chance
    registers no account of a case with probability at least about ``1 - alpha``
    (tests/test_registration.py checks it on null cases with sign-up waves); significant windows of
    one mark that overlap are one batch.

    ``audiences`` (``{account: accounts of outside that amplify it twice or more}``) adds a fourth
    kind of window: an account's audience, where the carriers of a mark of tooling (an app, bulk
    handles; not a bio, which an audience's community shares by homophily) are counted against its
    other accounts at the mark's rate outside it (the window is the target's, not a carrier's: all of
    them count). Its entries have ``None`` for the window's start and end and the mark reads
    "... among the accounts amplifying @target"."""
    if not outside:
        return [], 0
    client_users = Counter(r["main_client"] for r in accounts if r["main_client"])
    carriers, kind = defaultdict(list), {}
    for r in outside:
        if r["main_client"] and client_users[r["main_client"]] < UNCOMMON * len(accounts):
            carriers[f"posts mainly with {r['main_client']}"].append(r)
            kind[f"posts mainly with {r['main_client']}"] = "app"
        if HANDLE_DIGITS.match(r["handle"] or ""):
            carriers["bulk sign-up handle"].append(r)
            kind["bulk sign-up handle"] = "handle"
        if len((r["description"] or "").strip()) >= MIN_BIO:
            carriers[f'the bio "{r["description"].strip()[:60]}"'].append(r)
            kind[f'the bio "{r["description"].strip()[:60]}"'] = "bio"
    created = sorted(r["created_at"] for r in outside)
    pad = _hours(PAD_HOURS)
    tests = []
    # every carrier opens a window: alpha is shared equally by the kinds of mark (apps, handles,
    # bios), then among each kind's windows (weighted Bonferroni), so that a case's many shared bios
    # do not dilute a batch of bulk handles
    opened = Counter()
    for mark, rs in carriers.items():
        if len(rs) >= MIN_BATCH:
            opened[kind[mark]] += len(rs)
    by_id = {r["account_id"]: r for r in outside}
    handle = {r["account_id"]: r["handle"] or r["account_id"] for r in accounts}
    # tooling only: bios echo the communities that share an audience (its fans describe themselves
    # alike), so a bio shared in an audience is homophily, not registration
    carrying = {mark: {r["account_id"] for r in rs} for mark, rs in carriers.items()
                if len(rs) >= MIN_BATCH and kind[mark] != "bio"}
    heard = []  # (target, mark, audience, its carriers of the mark): the audiences' windows
    for t, fans in sorted((audiences or {}).items()):
        fans = [a for a in sorted(fans) if a in by_id]
        for mark, ids in sorted(carrying.items()):
            inside = [by_id[a] for a in fans if a in ids]
            if len(inside) >= MIN_BATCH:
                heard.append((handle.get(t, t), mark, fans, inside))
    if heard:
        opened["audience"] = len(heard)
    starts = sum(opened.values())
    width = _hours(GAP_HOURS)
    for mark, rs in sorted(carriers.items()):
        if len(rs) < MIN_BATCH:
            continue
        rs = sorted(rs, key=lambda r: (r["created_at"], r["account_id"]))
        times = [r["created_at"] for r in rs]
        found = []
        for i, r in enumerate(rs):  # the window a carrier opens: its next GAP_HOURS
            lo, hi = times[i], times[i] + width
            inside = rs[i:bisect.bisect_right(times, hi)]
            if len(inside) < MIN_BATCH:
                continue
            n = bisect.bisect_right(created, hi) - bisect.bisect_left(created, lo)
            # the carrier that opened the window is there by choice: count the others against the
            # window's other accounts, at the mark's rate outside the window
            lam = (n - 1) * (len(rs) - len(inside) + 1) / (len(outside) - n + 1)
            p = float(gammainc(len(inside) - 1, lam))
            if p <= alpha / len(opened) / opened[kind[mark]]:
                found.append((p, lo, hi, n, inside, lam))
        for group in _overlapping(found):  # windows of one mark that overlap are one batch
            p, lo, hi, n, inside, lam = min(group, key=lambda x: x[0])
            members = {r["account_id"]: r for g in group for r in g[4]}
            tests.append((p, mark, min(g[1] for g in group) - pad, max(g[2] for g in group) + pad, n,
                          [members[a] for a in sorted(members)], lam))
    for t, mark, fans, inside in heard:
        lam = len(fans) * (len(carriers[mark]) - len(inside) + 1) / (len(outside) - len(fans) + 1)
        p = float(gammainc(len(inside), lam))
        if p <= alpha / len(opened) / opened["audience"]:
            tests.append((p, f"{mark} among the accounts amplifying @{t}", None, None, len(fans),
                          sorted(inside, key=lambda r: r["account_id"]), lam))
    return tests, starts


def _overlapping(windows: list) -> list:
    """``windows`` (``(p, start, end, ...)``, in start order) grouped where they overlap."""
    out = []
    for w in windows:
        if out and w[1] <= max(x[2] for x in out[-1]):
            out[-1].append(w)
        else:
            out.append([w])
    return out


def batch_groups(case, accounts: list, taken: set, alpha: float = 0.05, first_id: int = 1) -> list:
    """Registration groups among the accounts outside every coordinated network (and not in ``taken``):
    significant registration batches of accounts that carry one mark (an uncommon app, bulk handles,
    one bio), joined where they share accounts or co-act, and kept where at least ``MIN_BATCH`` of their
    accounts co-act: a candidate link of any trace with another, or amplifying (retweeting, quoting or
    replying to, twice or more each) the same account. Returns the evidence rows
    (the ``registration_kin`` schema, ``network`` numbered from ``first_id``). Co-acting means any
    candidate link (``edges``, significant or not) or amplifying the same account."""
    outside = [r for r in accounts if r["network"] is None and r["account_id"] not in taken
               and r["created_at"] is not None]
    sig, starts = scan(outside, accounts, alpha, audiences_of(case, [r["account_id"] for r in outside]))
    if not sig:
        return []
    parent = {}

    def find(a):
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    best = {}
    for t in sorted(sig, key=lambda t: (t[0], t[1], str(t[2]))):
        ids = [r["account_id"] for r in t[5]]
        for a in ids:
            best.setdefault(a, t)
            parent[find(a)] = find(ids[0])
    # accounts of significant batches that amplify the same account (twice or more each, three or
    # more of them) are one group too: an operation registers its boosters on several days
    amplified = _amplified(case, sorted(best))
    fans = defaultdict(set)
    for a in best:
        for target, k in amplified.get(a, {}).items():
            if k >= 2:
                fans[target].add(a)
    shared_all = {t: f for t, f in fans.items() if len(f) >= MIN_BATCH}
    for t, f in sorted(shared_all.items()):
        ids = sorted(f) + ([t] if t in best else [])
        for a in ids:
            parent[find(a)] = find(ids[0])
    # and accounts that co-act at all: a candidate link of any trace, significant or not
    linked = defaultdict(set)
    for a, b in _links(case, sorted(best)):
        linked[a].add(b)
        linked[b].add(a)
        parent[find(a)] = find(b)
    comps = defaultdict(list)
    for a in sorted(best):
        comps[find(a)].append(a)
    rows, gid = [], first_id
    for comp in sorted(comps.values(), key=lambda c: c[0]):
        members = set(comp)
        shared = {t: f & members for t, f in shared_all.items() if len(f & members) >= MIN_BATCH}
        core = set().union(*shared.values()) | (set(shared) & members) if shared else set()
        core |= {a for a in comp if linked[a] & members}
        if len(core) < MIN_BATCH:
            continue
        top = sorted(shared, key=lambda t: (-len(shared[t]), t))[:3]
        for a in comp:
            p, mark, lo, hi, n, inside, lam = best[a]
            role = "; ".join(x for x in (
                ("amplifies " + ", ".join(t for t in top if a in shared[t])) if any(a in shared[t] for t in top) else "",
                "is amplified by the group" if a in shared else "",
                f"co-acts with {len(linked[a] & members)} of them" if linked[a] & members else "") if x) \
                or "created with the group; no co-action with it seen"
            where = (f"one of {len(inside)} accounts created between {lo:%Y-%m-%d %H:%M} and {hi:%Y-%m-%d %H:%M} "
                     f"with {mark}, where {lam:.2g} of the {n} accounts created then would carry it by chance"
                     if lo is not None else
                     f"one of {len(inside)} accounts with {mark}, where {lam:.2g} of the {n} would carry it by chance")
            rows.append({
                "account_id": a, "network": gid, "window_start": lo, "window_end": hi, "batch_members": len(inside),
                "window_accounts": n, "matched": len(inside), "expected": lam, "p": p, "matched_on": mark,
                "evidence": (f"{where} (p = {p:.1e}; one of {starts} windows tested); {role}; {len(core)} of the group's "
                             f"{len(comp)} accounts co-act or amplify the same accounts, though no more than chance "
                             "or an audience explains")})
        gid += 1
    return rows


def audiences_of(case, ids: list) -> dict:
    """``{account: those of ids that amplify it twice or more}`` for each account that ``MIN_BATCH``
    or more of ``ids`` amplify so (retweets, quotes and replies of its posts)."""
    if not ids:
        return {}
    case.engine.register("_reg_ids", pa.table({"account_id": pa.array(ids, pa.string())}))
    try:
        rows = case.engine.query(f"""
            SELECT target, account_id FROM (
                SELECT r.account_id AS target, p.account_id FROM posts p JOIN posts r ON r.post_id = p.ref_post_id
                WHERE p.account_id IN (SELECT account_id FROM _reg_ids) AND r.account_id <> p.account_id
                GROUP BY ALL HAVING count(*) >= 2)
            QUALIFY count(*) OVER (PARTITION BY target) >= {MIN_BATCH} ORDER BY ALL""").to_pylist()
    finally:
        case.engine.unregister("_reg_ids")
    out = defaultdict(set)
    for r in rows:
        out[r["target"]].add(r["account_id"])
    return dict(out)


def _links(case, ids: list) -> list:
    """Candidate links of any trace (``edges``, significant or not) between two of ``ids``."""
    if not case.has_table("edges"):
        return []
    case.engine.register("_reg_ids", pa.table({"account_id": pa.array(ids, pa.string())}))
    try:
        rows = case.engine.query("""
            SELECT DISTINCT account_a, account_b FROM edges
            WHERE account_a IN (SELECT account_id FROM _reg_ids) AND account_b IN (SELECT account_id FROM _reg_ids)
            ORDER BY account_a, account_b""").to_pylist()
    finally:
        case.engine.unregister("_reg_ids")
    return [(r["account_a"], r["account_b"]) for r in rows]


def _amplified(case, ids: list) -> dict:
    """``{account: {target account: posts referencing the target's posts}}`` for ``ids``."""
    case.engine.register("_reg_ids", pa.table({"account_id": pa.array(ids, pa.string())}))
    try:
        rows = case.engine.query("""
            SELECT p.account_id, r.account_id AS target, count(*) AS n FROM posts p
            JOIN posts r ON r.post_id = p.ref_post_id
            WHERE p.account_id IN (SELECT account_id FROM _reg_ids) AND r.account_id <> p.account_id
            GROUP BY ALL""").to_pylist()
    finally:
        case.engine.unregister("_reg_ids")
    out = defaultdict(dict)
    for r in rows:
        out[r["account_id"]][r["target"]] = r["n"]
    return out


def attach(case, alpha: float = 0.05) -> dict:
    """Write ``registration_kin`` (kin of flagged networks, then registration groups) and add their
    accounts to ``clusters`` as ``registered``, and each registration group to ``groups`` and
    ``operations`` (replacing those of an earlier run). Returns ``{kin, groups, group_accounts}``."""
    eng = case.engine
    reset(case)
    accounts = _accounts(case)  # read once: kin and the registration groups see the same accounts
    table = kin_of(accounts, alpha, fans_of(case, accounts))
    first = int(eng.scalar("SELECT greatest((SELECT max(greatest(coalesce(cluster, 0), coalesce(network, 0))) "
                           "FROM clusters), (SELECT max(cluster) FROM groups), 0)") or 0) + 1
    extra = batch_groups(case, accounts, set(table.column("account_id").to_pylist()), alpha, first)
    n_kin = table.num_rows
    # a registration group is flagged only where its members' personas hide too (claims their posting
    # hours do not fit, state-media echoes): an organisation's staff accounts, signed up together with one
    # tool and amplifying the organisation, are open about who they are
    from unmask.network import covertness

    by_group = defaultdict(list)
    for r in extra:
        by_group[r["network"]].append(r)
    kept, verdicts, not_flagged = [], {}, Counter()
    for g in sorted(by_group):
        res = covertness.assess_accounts(case, [r["account_id"] for r in by_group[g]])
        if res["verdict"] != "covert":
            not_flagged[res["verdict"]] += 1
            continue
        gid = first + len(verdicts)
        verdicts[gid] = res
        kept += [dict(r, network=gid) for r in by_group[g]]
    extra = kept
    if extra:
        table = pa.concat_tables([table, pa.Table.from_pylist(extra, schema=KIN)])
        # the kin of the registration groups, as of the flagged networks: a family of its own
        grouped = {r["account_id"]: r["network"] for r in extra}
        taken = set(table.column("account_id").to_pylist())
        again = [dict(r, network=grouped[r["account_id"]], flagged=True) if r["account_id"] in grouped
                 else dict(r, network=-1, flagged=False) if r["account_id"] in taken else r for r in accounts]
        table = pa.concat_tables([table, kin_of(again, alpha, fans_of(case, [r for r in again if r['account_id'] in grouped]),
                                                    only=set(grouped.values()))])
    case.write_table("registration_kin", table)
    eng.register("_reg_grouped", pa.table({"account_id": pa.array([r["account_id"] for r in extra], pa.string())}))
    eng.execute("""
        CREATE OR REPLACE TEMP TABLE _reg AS
        SELECT k.account_id, k.network, k.account_id IN (SELECT account_id FROM _reg_grouped) AS grouped,
               g.size, g.p FROM registration_kin k
        LEFT JOIN (SELECT network, count(*) AS size, min(p) AS p FROM registration_kin
                   WHERE account_id IN (SELECT account_id FROM _reg_grouped) GROUP BY network) g
        USING (network)""")
    eng.unregister("_reg_grouped")
    # the rows of accounts that were in a small or weak cluster, kept so that a re-run can put them back
    eng.execute("CREATE OR REPLACE TABLE registration_replaced AS "
                "SELECT * FROM clusters WHERE account_id IN (SELECT account_id FROM _reg)")
    eng.execute("DELETE FROM clusters WHERE account_id IN (SELECT account_id FROM _reg)")
    eng.execute("""
        INSERT INTO clusters (account_id, cluster, cluster_size, is_candidate, network, cell, group_p, group_q,
                              status, persona_type)
        SELECT account_id, CASE WHEN grouped THEN network END, CASE WHEN grouped THEN size END, true, network,
               NULL, CASE WHEN grouped THEN p END, NULL, 'registered', NULL FROM _reg""")
    groups = eng.query("SELECT DISTINCT network, size, p FROM _reg WHERE grouped ORDER BY network").to_pylist()
    for g in groups:
        _add_group(case, g["network"], g["size"], g["p"], verdicts[g["network"]])
    if groups and case.has_table("operations") and "verdict" in case.table("operations").column_names:
        eng.execute("""CREATE OR REPLACE TABLE operations AS SELECT * EXCLUDE (rank), row_number() OVER (
                           ORDER BY coalesce(verdict, 'flagged') = 'open', coalesce(verdict, 'flagged') = 'registered',
                                    score DESC, cluster) AS rank
                       FROM operations ORDER BY rank""")
    eng.execute("DROP TABLE _reg")
    return {"kin": n_kin, "groups": len(groups), "group_accounts": len(extra),
            "groups_not_flagged": dict(sorted(not_flagged.items()))}


def reset(case) -> None:
    """Undo an earlier :func:`attach`: registered accounts out of ``clusters`` (the small or weak
    clusters' rows they replaced put back), registration groups out of ``groups``, ``covertness``
    and ``operations``."""
    eng = case.engine
    if not case.has_table("clusters"):
        return
    eng.execute("DELETE FROM clusters WHERE status = 'registered'")
    if case.has_table("registration_replaced"):
        eng.execute("INSERT INTO clusters BY NAME SELECT * FROM registration_replaced "
                    "WHERE account_id NOT IN (SELECT account_id FROM clusters)")
        eng.execute("DELETE FROM registration_replaced")
    if case.has_table("groups"):
        eng.execute("DELETE FROM groups WHERE status = 'registered'")
        if case.has_table("covertness"):
            eng.execute("DELETE FROM covertness WHERE level = 'network' AND group_id NOT IN "
                        "(SELECT cluster FROM groups)")
    if case.has_table("operations") and "verdict" in case.table("operations").column_names:
        eng.execute("DELETE FROM operations WHERE verdict = 'registered'")


def _add_group(case, gid: int, size: int, p: float, res: dict) -> None:
    """A registration group's rows in ``groups`` and ``operations`` (ranked after the other candidates),
    with its covertness ``res`` (:func:`unmask.network.covertness.assess_accounts`)."""
    from unmask.network.covertness import summary

    eng = case.engine
    vals = {"cluster": gid, "size": size, "links": 0, "group_p": p, "status": "registered", "coordination_p": p,
            "covertness": res["covertness"], "covertness_verdict": res["verdict"], "covertness_summary": summary(res)}
    eng.execute(f"INSERT INTO groups ({', '.join(vals)}) VALUES ({', '.join('?' * len(vals))})",
                list(vals.values()))
    if case.has_table("covertness"):  # its covertness beside the networks', for the report's two axes
        eng.execute("INSERT INTO covertness (level, group_id, network, size, coordination_p, covertness, verdict, "
                    "factors, missing, summary) VALUES ('network', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [gid, gid, size, p, res["covertness"], res["verdict"], json.dumps(res["factors"], sort_keys=True),
                     "; ".join(res["missing"]), summary(res)])
    if not case.has_table("operations"):
        return
    ocols = case.table("operations").column_names
    members = "(SELECT account_id FROM clusters WHERE cluster = ?)"  # its kin are registered with it, not members
    marks_ = eng.query(f"SELECT matched_on, count(*) AS n FROM registration_kin WHERE account_id IN {members} "
                       "GROUP BY ALL ORDER BY n DESC, matched_on LIMIT 3", [gid]).to_pylist()
    posts = eng.scalar(f"SELECT count(*) FROM posts WHERE account_id IN {members}", [gid])
    rank = int(eng.scalar("SELECT coalesce(max(rank), 0) FROM operations") or 0) + 1
    op = {"cluster": gid, "size": size, "posts": posts, "links": 0, "traces": "registration", "score": 0.0,
          "rank": rank, "coordination_p": p, "verdict": "registered", "covertness": res["covertness"],
          "covertness_verdict": res["verdict"], "covertness_summary": summary(res),
          "rationale": (f"{size} accounts outside every coordinated network, registered in batches carrying "
                        + "; ".join(f"{m['matched_on']} ({m['n']})" for m in marks_)
                        + f" beyond chance (p = {p:.1e}), most of them amplifying the same accounts; their "
                        "co-actions alone are what an audience does, so no trace linked them")}
    op = {k: v for k, v in op.items() if k in ocols}
    eng.execute(f"INSERT INTO operations ({', '.join(op)}) VALUES ({', '.join('?' * len(op))})", list(op.values()))


__all__ = ["kin", "kin_of", "fans_of", "audiences_of", "scan", "batch_groups", "attach", "reset", "batches", "marks", "matched_on", "KIN"]
