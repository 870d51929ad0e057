"""Registration kin: accounts an operation registered and tooled with its members, but never used
together with them.

An operation signs up its accounts in batches and runs them with the office's tools; some of them
stay dormant (one or two posts) or act alone, so no trace links them to the rest. Platforms'
takedowns attribute such accounts by how they were registered. unmask sees two parts of that: the
creation time and what the account shows of its tooling (its main client app, a bulk sign-up
handle, a bio word for word a member's).

For each flagged network (a candidate operation, :mod:`unmask.network.covertness`):

1. its **registration batches**: runs of three or more members created with no gap over
   ``GAP_HOURS`` between one and the next; each batch's window is its first to last creation,
   widened by ``PAD_HOURS``;
2. its **marks**: main client apps that three or more members use and under 5% of all accounts use
   (the persona checks' "uncommon"), bulk sign-up handles where three or more members have them,
   and its members' bios;
3. in each window, the accounts outside any coordinated network created there (``n``), and those of
   them that carry a mark (``k``);
4. the chance of ``k`` or more: Poisson with mean ``n * rate``, where ``rate`` is the share of
   accounts outside the network and its windows that carry a mark (plus one, so that a mark no one
   else has still has a rate). A window's matches are *registered with* the network when that
   chance is at most ``alpha`` divided by the number of windows tested (Bonferroni).

The rate is the case's own, so a mark common in the data (default handles on a platform that hands
them out; a popular app) needs many matches before it says anything, and the creation window stops
a tool's users elsewhere in time from counting. Registered accounts get ``status = 'registered'``
in ``clusters`` (flagged: ``is_candidate``; ``network`` is the one they were registered with;
no ``cluster`` or cell, so the network's posts, links and charts are its members' alone), and every
one has its evidence in ``registration_kin``. They are not members of the coordinated network: its links,
significance and covertness are computed without them.

Failure modes: an organisation that signs up its staff's accounts in one afternoon with one
scheduling app, beside an operation created the same afternoon, is registered with it; an
operation that registered its accounts months apart, or from common apps with personal handles,
leaves no kin to find.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import timedelta

import pyarrow as pa
from scipy.special import gammainc

from unmask.persona.checks import HANDLE_DIGITS
from unmask.schema import COORDINATED

GAP_HOURS = 24.0  # members created further apart than this are in different batches
PAD_HOURS = 1.0  # a batch's window reaches this far beyond its first and last member
MIN_BATCH = 3  # members a batch needs
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
    """The ``registration_kin`` table (see the module docstring); nothing is written."""
    accounts = _accounts(case)
    n_accounts = len(accounts)
    client_users = Counter(r["main_client"] for r in accounts if r["main_client"])
    nets = defaultdict(list)
    for r in accounts:
        if r["flagged"] and r["network"] is not None:
            nets[r["network"]].append(r)
    outside = [r for r in accounts if r["network"] is None and r["created_at"] is not None]
    tests = []
    for net, members in sorted(nets.items()):
        m = marks(members, n_accounts, client_users)
        if not (m["clients"] or m["bulk_handles"] or m["bios"]):
            continue
        wins = batches([r["created_at"] for r in members if r["created_at"] is not None])
        if not wins:
            continue
        pad = _hours(PAD_HOURS)
        spans = [(lo - pad, hi + pad, size) for lo, hi, size in wins]
        inside = [[r for r in outside if lo <= r["created_at"] <= hi] for lo, hi, _ in spans]
        elsewhere = [r for r in outside if not any(lo <= r["created_at"] <= hi for lo, hi, _ in spans)]
        carried = Counter(frozenset(matched_on(r, m)) for r in elsewhere)

        def rate(on):  # share of accounts elsewhere that carry all of ``on`` (plus one: never zero)
            return (sum(k for s, k in carried.items() if s >= on) + 1) / (len(elsewhere) + 1)

        for (lo, hi, size), cands in zip(spans, inside):
            hits = [(r, frozenset(matched_on(r, m))) for r in cands]
            hits = [(r, on) for r, on in hits if on]
            if not hits:
                continue
            lam = len(cands) * (sum(k for s, k in carried.items() if s) + 1) / (len(elsewhere) + 1)
            win = (net, lo, hi, size, len(cands))
            tests.append((float(gammainc(len(hits), lam)), lam, win, hits))  # k or more of the window's accounts
            for r, on in hits:  # one account whose marks together are rare enough on their own
                one = len(cands) * rate(on)
                tests.append((float(-math.expm1(len(cands) * math.log1p(-min(rate(on), 1 - 1e-12)))), one, win,
                              [(r, on)]))
    rows, seen = [], set()
    # the most certain test first: an account in two networks' windows is registered with one
    for p, lam, (net, lo, hi, size, n), hits in sorted(tests, key=lambda x: (x[0], x[2][0], x[2][1])):
        if p > alpha / len(tests):
            continue
        for r, on in sorted(hits, key=lambda x: x[0]["account_id"]):
            if r["account_id"] in seen:
                continue
            seen.add(r["account_id"])
            on = sorted(on)
            rows.append({
                "account_id": r["account_id"], "network": net, "window_start": lo, "window_end": hi,
                "batch_members": size, "window_accounts": n, "matched": len(hits), "expected": lam, "p": p,
                "matched_on": "; ".join(on),
                "evidence": (f"created {r['created_at']:%Y-%m-%d %H:%M}, inside the span in which {size} members of "
                             f"network {net} were created ({lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M}); "
                             f"{'; '.join(on)}, as its members do; "
                             + (f"{len(hits)} of the {n} other accounts created then carry the network's marks, "
                                if len(hits) > 1 else f"of the {n} other accounts created then, ")
                             + f"where {lam:.2g} would by chance (p = {p:.1e}); "
                             "no coordinated action with the network was seen")})
    rows.sort(key=lambda x: (x["network"], x["account_id"]))
    return pa.Table.from_pylist(rows, schema=KIN) if rows else KIN.empty_table()


def _hours(h: float) -> timedelta:
    return timedelta(hours=h)


def attach(case, alpha: float = 0.05) -> int:
    """Write ``registration_kin`` and add its accounts to ``clusters`` as ``registered`` (replacing
    those of an earlier run). Returns how many accounts were registered with a network."""
    case.engine.execute("DELETE FROM clusters WHERE status = 'registered'")
    table = kin(case, alpha)
    case.write_table("registration_kin", table)
    if table.num_rows:
        case.engine.execute("""
            INSERT INTO clusters (account_id, cluster, cluster_size, is_candidate, network, cell, group_p, group_q,
                                  status, persona_type)
            SELECT k.account_id, NULL, NULL, true, k.network, NULL, NULL, NULL, 'registered', NULL
            FROM registration_kin k WHERE k.account_id NOT IN (SELECT account_id FROM clusters)""")
        case.engine.execute("""
            UPDATE clusters SET cluster = NULL, cluster_size = NULL, is_candidate = true, network = k.network,
                                cell = NULL, group_p = NULL, group_q = NULL, status = 'registered'
            FROM registration_kin k WHERE clusters.account_id = k.account_id AND clusters.status <> 'registered'""")
    return table.num_rows


__all__ = ["kin", "attach", "batches", "marks", "matched_on", "KIN"]
