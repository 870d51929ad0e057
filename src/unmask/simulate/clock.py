"""Human time: posting moments in an account's real zone (tzdata, with DST) and rhythm."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from unmask.simulate import world

DAY_MS = 86_400_000


class Clock:
    """Samples UTC milliseconds for local moments in given zones over the simulated period."""

    def __init__(self, start: str, days: int, zones: list[str]):
        self.start = datetime.fromisoformat(start)
        self.days = days
        self.zones = list(zones)
        self.start_ms = int(self.start.replace(tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
        self.start_weekday = self.start.weekday()
        # UTC offset (seconds) of each zone at local noon of each day: DST and history from tzdata
        self.offset = np.array([
            [int(datetime(*(self.start + timedelta(days=d)).timetuple()[:3], 12, tzinfo=ZoneInfo(z))
                 .utcoffset().total_seconds()) for d in range(days + 1)]
            for z in self.zones
        ], dtype=np.int64)
        self.cdf = {name: np.cumsum(w) / np.sum(w) for name, w in
                    (("human", world.HUMAN_HOURS), ("office", world.OFFICE_HOURS))}
        self.weekend = np.zeros((len(self.zones), 7), dtype=bool)
        for i, z in enumerate(self.zones):
            self.weekend[i, list(world.WEEKEND.get(z, world.WEEKEND["default"]))] = True

    def zone_index(self, zone: str) -> int:
        return self.zones.index(zone)

    def local_weekday(self, day):
        return (self.start_weekday + day) % 7

    def sample(self, rng, zone_idx, office, n=None):
        """UTC ms for posts whose accounts live in ``zone_idx`` and keep office hours if ``office``."""
        zone_idx = np.asarray(zone_idx)
        office = np.broadcast_to(np.asarray(office, dtype=bool), zone_idx.shape)
        size = zone_idx.shape[0]
        day = rng.integers(0, self.days, size)
        for _ in range(4):  # office accounts rarely work on their local weekend
            redo = office & self.weekend[zone_idx, self.local_weekday(day)] & (rng.random(size) < 0.92)
            if not redo.any():
                break
            day[redo] = rng.integers(0, self.days, int(redo.sum()))
        hour = np.where(office, np.searchsorted(self.cdf["office"], rng.random(size)),
                        np.searchsorted(self.cdf["human"], rng.random(size)))
        sec = hour * 3600 + rng.integers(0, 3600, size)
        return self.to_utc(zone_idx, day, sec) + rng.integers(0, 1000, size)

    def to_utc(self, zone_idx, day, sec_of_day):
        return self.start_ms + day * DAY_MS + (sec_of_day - self.offset[zone_idx, day]) * 1000

    @property
    def end_ms(self):
        return self.start_ms + self.days * DAY_MS
