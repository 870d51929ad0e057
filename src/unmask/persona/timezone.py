"""Behavioural time zone: which real zone (tzdata, with DST and its history) best explains when
an account posts, under a human daily template or an office-day template.

Every candidate zone converts each post's UTC time to local time through tzdata, day by day, so
Iran's +03:30/+04:30 until 2022 and every DST switch are honoured; no fixed offset is assumed.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

# One zone per distinct (offset, DST rule) family; half-hour and 45-minute zones included.
CANDIDATE_ZONES = [
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Phoenix",
    "America/Chicago", "America/New_York", "America/Caracas", "America/Halifax", "America/Sao_Paulo",
    "America/St_Johns", "Atlantic/Azores", "UTC", "Europe/London", "Europe/Berlin", "Africa/Lagos",
    "Europe/Kiev", "Africa/Cairo", "Europe/Istanbul", "Europe/Moscow", "Asia/Riyadh", "Asia/Tehran",
    "Asia/Dubai", "Asia/Kabul", "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka",
    "Asia/Yangon", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Adelaide", "Australia/Darwin",
    "Australia/Sydney", "Australia/Brisbane", "Pacific/Noumea", "Pacific/Auckland",
]
# Local-hour activity priors (index = hour). Humans sleep from about 1 to 7; offices keep 9 to 17
# with a pause at lunch. These are generic priors, not fitted to any dataset.
HUMAN = np.array([2.6, 1.6, .9, .5, .35, .4, .8, 1.8, 3, 3.8, 4.2, 4.3, 4.4, 4.4, 4.3, 4.3, 4.4, 4.6, 4.9, 5.2, 5.4, 5.2, 4.6, 3.7])
OFFICE = np.array([.3, .2, .2, .2, .2, .3, .5, .9, 3, 5, 5.5, 5.5, 5, 2, 5, 5.5, 5, 3, 1.2, .7, .5, .4, .4, .3])


def _norm(t):
    t = np.asarray(t, float)
    return np.log(t / t.sum())


class OffsetTable:
    """UTC offsets (seconds) of every candidate zone on every day of a period, from tzdata."""

    def __init__(self, first_ms: int, last_ms: int, zones=CANDIDATE_ZONES):
        self.zones = list(zones)
        self.day0 = datetime.fromtimestamp(first_ms / 1000, timezone.utc).date()
        days = (datetime.fromtimestamp(last_ms / 1000, timezone.utc).date() - self.day0).days + 2
        self.offsets = np.array([[int(datetime.combine(self.day0 + timedelta(days=d), datetime.min.time(),
                                                       tzinfo=timezone.utc).astimezone(ZoneInfo(z))
                                      .utcoffset().total_seconds()) for d in range(days)] for z in self.zones],
                                dtype=np.int64)

    def local(self, zone_index, t_ms):
        day = ((t_ms // 86_400_000) - (datetime.combine(self.day0, datetime.min.time(),
                                                        tzinfo=timezone.utc).timestamp() // 86400)).astype(np.int64)
        day = np.clip(day, 0, self.offsets.shape[1] - 1)
        return t_ms // 1000 + self.offsets[zone_index, day]


def infer(account_index, t_ms, n_accounts, min_posts=10, block=20_000):
    """Best zone per account: index into CANDIDATE_ZONES, offset hours, confidence, template, weekly rhythm.

    ``account_index`` and ``t_ms`` are parallel arrays of posts. Accounts with fewer than
    ``min_posts`` posts get NaN. Accounts are scored ``block`` at a time, so memory is bounded by
    the block (zones x block x 24 hours), not by the number of accounts.
    """
    account_index = np.asarray(account_index, np.int64)
    t_ms = np.asarray(t_ms, np.int64)
    if not len(t_ms):
        return [None] * n_accounts
    table = OffsetTable(int(t_ms.min()), int(t_ms.max()))
    nz = len(table.zones)
    mid = int(np.median(t_ms))
    offsets = np.array([table.offsets[z, min(table.offsets.shape[1] - 1,
                                              (datetime.fromtimestamp(mid / 1000, timezone.utc).date() - table.day0).days)]
                        for z in range(nz)]) / 3600.0
    order = np.argsort(account_index, kind="stable")
    account_index, t_ms = account_index[order], t_ms[order]
    out = []
    for lo in range(0, n_accounts, block):
        hi = min(n_accounts, lo + block)
        s, e = np.searchsorted(account_index, [lo, hi])
        out += _infer_block(account_index[s:e] - lo, t_ms[s:e], hi - lo, table, offsets, min_posts)
    return out


def _infer_block(account_index, t_ms, n_accounts, table, offsets, min_posts):
    nz = len(table.zones)
    hist = np.zeros((nz, n_accounts, 24))
    wday = np.zeros((nz, n_accounts, 7))
    for z in range(nz):
        local = table.local(z, t_ms)
        hist[z] = np.bincount(account_index * 24 + (local // 3600) % 24, minlength=n_accounts * 24).reshape(-1, 24)
        wday[z] = np.bincount(account_index * 7 + ((local // 86400) + 3) % 7,  # 1970-01-01 was a Thursday
                              minlength=n_accounts * 7).reshape(-1, 7)
    ll = np.stack([hist @ _norm(HUMAN), hist @ _norm(OFFICE)])  # (2, zones, accounts)
    flat = ll.reshape(2 * nz, n_accounts)
    best = flat.argmax(axis=0)
    post = np.exp(flat - flat.max(axis=0))
    offs_all = np.concatenate([offsets, offsets])
    counts = hist[0].sum(axis=1)
    out = []
    for a in range(n_accounts):
        if counts[a] < min_posts:
            out.append(None)
            continue
        b = best[a]
        same = np.abs(offs_all - offs_all[b]) <= 1.0
        conf = float(post[same, a].sum() / post[:, a].sum())
        z = b % nz
        days = wday[z, a]
        off_days = [int(d) for d in np.nonzero(days < 0.35 * days.mean())[0]] if days.sum() >= 20 else []
        h = hist[z, a]
        lunch = bool(h[13] < 0.6 * min(h[11], h[15]) and h[11] > 0) if counts[a] >= 30 else False
        out.append({"zone": table.zones[z], "offset": float(offsets[z]), "confidence": conf,
                    "template": "office" if b >= nz else "human", "off_days": off_days, "lunch_pause": lunch})
    return out
