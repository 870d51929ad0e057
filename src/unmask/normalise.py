"""Engine-neutral SQL that normalises texts and URLs into the case's keys.

The keys (``posts.text_hash``, ``post_links.link_key``) are computed once at ingest and belong to
the case: ingest and the traces both read this module, and neither imports the other.
"""

from __future__ import annotations

TRACKING = "utm_[^=&]*|fbclid|gclid|igshid|mc_cid|mc_eid|ref_src|ref|s|si|cmpid|ocid|yclid"
WS_RUN = "[ \\t\\r\\n]{2,}|[\\t\\r\\n]"  # a run to fold into one space (a lone space is left alone)


def norm_text(engine, expr="text"):
    """Lower case, without URLs, mentions, 'RT @x:' prefixes and extra whitespace.

    One alternation removes the tokens, and only whitespace that is not already a single space
    is rewritten: the same result as separate passes, at a fraction of the regex work.
    """
    r = engine.regexp_replace_all
    s = f"lower(coalesce({expr}, ''))"
    s = r(s, "'^rt @[^ ]+ ?|https?://[^ ]+|@[^ ]+'", "''")
    s = r(s, f"'{WS_RUN}'", "' '")
    return f"trim({s})"


def norm_url(engine, u="u"):
    """Lower-case scheme and host, drop www., default ports, fragments, tracking parameters and a trailing slash."""
    r = engine.regexp_replace_all
    host = f"lower(regexp_extract({u}, '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]+)', 1))"
    host = r(r(host, "'^www[0-9]?[.]'", "''"), "':(80|443)$'", "''")
    path = f"regexp_extract({u}, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+([^?#]*)', 1)"
    path = r(path, "'/+$'", "''")
    query = f"regexp_extract({u}, '[?]([^#]*)', 1)"
    query = r(query, f"'(^|&)({TRACKING})=[^&]*'", "''")
    query = r(query, "'^&+|&+$'", "''")
    return (f"CASE WHEN {host} = '' THEN lower(trim({u})) ELSE "
            f"{host} || {path} || CASE WHEN {query} = '' THEN '' ELSE '?' || {query} END END")
