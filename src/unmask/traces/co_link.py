"""co_link: two accounts share the same normalised URL within the window.

Hosts are lower-cased, ``www.``, default ports, fragments, tracking parameters (utm_*, fbclid,
gclid, ...) and trailing slashes are removed. Posts without a URL never co-link.

Retweets are left out: their entities are the original's, and co_retweet already covers them."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import t_ms


def actions(engine):
    # link_keys: the post's urls through norm_url, computed once at ingest
    return f"""SELECT account_id, u AS object, post_id, t FROM (
                 SELECT account_id, post_id, {t_ms(engine)} AS t, {engine.explode('link_keys')} AS u FROM posts
                 WHERE kind <> 'retweet') x
               WHERE u IS NOT NULL AND u <> ''"""


TRACE = Trace("co_link", "same normalised URL", window_s=600, min_weight=2, actions=actions)
