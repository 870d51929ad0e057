"""The state-media list (ASD State Media Matrix by default) and matching of links to it.

URLs are matched by registered domain (tldextract with its bundled Public Suffix List snapshot,
no network), so subdomains and language editions (``arabic.rt.com``, ``de.rt.com``) count for
their outlet. Shorteners cannot be expanded offline and are reported as such.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from functools import lru_cache
from importlib import resources
from pathlib import Path

from unmask.errors import InputError

SHORTENERS = {"bit.ly", "t.co", "tinyurl.com", "ow.ly", "goo.gl", "buff.ly", "dlvr.it", "is.gd", "trib.al", "fb.me"}
REQUIRED = ("Country", "Media company", "URL")


def user_list_path() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "unmask" / "state_media.csv"


def _extractor():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=200_000)
def registered_domain(url: str) -> str:
    """``news.bbc.co.uk:8080/x`` -> ``bbc.co.uk``; IDNs are matched in their punycode form."""
    if not url:
        return ""
    host = url.strip().lower()
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        pass
    r = _EXTRACT(host)
    name = getattr(r, "top_domain_under_public_suffix", None) or r.registered_domain
    return name or r.domain


_EXTRACT = _extractor()


def _read(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"state-media list lacks columns {missing}", file=str(path), row=0, column=missing[0])
        return list(reader)


def load(extra: list | None = None) -> dict:
    """``{"domains": {domain: outlet}, "version": {...}}`` from the user's list (else the bundled one)
    plus any extra lists given."""
    user = user_list_path()
    base = user if user.exists() else resources.files("unmask").joinpath("data", "state_media.csv")
    sources = [base, *(extra or [])]
    domains, versions, handles = {}, [], {}
    for src in sources:
        rows = _read(src)
        data = Path(str(src)).read_bytes()
        versions.append({"file": str(src), "sha256": hashlib.sha256(data).hexdigest(), "outlets": len(rows)})
        for r in rows:
            tw = (r.get("Twitter Link") or "").rstrip("/").split("/")[-1].lstrip("@").lower()
            if tw and tw not in ("twitter.com", "x.com"):
                handles.setdefault(tw, {"outlet": r.get("Main assets") or r["Media company"], "country": r["Country"]})
            dom = registered_domain(r["URL"])
            if dom and dom not in SHORTENERS:
                domains.setdefault(dom, {"outlet": r.get("Main assets") or r["Media company"],
                                         "company": r["Media company"], "country": r["Country"],
                                         "typology": r.get("Typology", "")})
    return {"domains": domains, "handles": handles, "version": versions}


def update(path) -> dict:
    """Validate a new list and make it the user's list; returns its version record."""
    rows = _read(path)
    if not rows:
        raise InputError("state-media list has no rows", file=str(path), row=1)
    dest = user_list_path()
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, dest)
    return {"file": str(dest), "outlets": len(rows), "sha256": hashlib.sha256(dest.read_bytes()).hexdigest()}
