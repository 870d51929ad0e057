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
    is rewritten: the same result as separate passes, at a fraction of the regex work. Each
    regular expression runs only on texts that hold what it can match (an ``@`` or ``http``; two
    blanks in a row, a tab or a line break): a substring test costs a fraction of a regex
    replace, and leaving a text that cannot match untouched gives the same key (3M posts:
    4.5 s -> 3.3 s of ingest, bench/RESULTS.md).
    """
    r = engine.regexp_replace_all

    def when(s, needles, then):
        test = " OR ".join(f"instr({s}, {n}) > 0" for n in needles)
        return f"CASE WHEN {test} THEN {then} ELSE {s} END"

    s = f"lower(coalesce({expr}, ''))"
    s = when(s, ("'@'", "'http'"), r(s, "'^rt @[^ ]+ ?|https?://[^ ]+|@[^ ]+'", "''"))
    s = when(s, ("'  '", "chr(9)", "chr(10)", "chr(13)"), r(s, f"'{WS_RUN}'", "' '"))
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
