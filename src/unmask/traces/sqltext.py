"""Engine-neutral SQL for normalised text and URLs, shared by the traces."""

from __future__ import annotations

TRACKING = "utm_[^=&]*|fbclid|gclid|igshid|mc_cid|mc_eid|ref_src|ref|s|si|cmpid|ocid|yclid"


def t_ms(engine, col="created_at"):
    return engine.epoch_ms(col)


def list_actions(engine, column, kinds="kind <> 'retweet'", obj="v", extra=""):
    """Actions ``(account_id, object, post_id, t)``, one per non-empty element ``v`` of a list
    column; posts with an empty list are skipped before the explode (cheaper than after)."""
    return f"""SELECT account_id, {obj} AS object, post_id, t FROM (
                 SELECT account_id, post_id, {t_ms(engine)} AS t, {engine.explode(column)} AS v FROM posts
                 WHERE {kinds} AND {engine.list_len(column)} > 0) x
               WHERE v IS NOT NULL AND v <> ''{extra}"""


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
