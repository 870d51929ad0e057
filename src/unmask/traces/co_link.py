"""co_link: two accounts share the same normalised URL within the window.

Hosts are lower-cased, ``www.``, default ports, fragments, tracking parameters (utm_*, fbclid,
gclid, ...) and trailing slashes are removed. Posts without a URL never co-link.

Retweets are left out: their entities are the original's, and co_retweet already covers them."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import norm_url, t_ms


def actions(engine):
    return f"""SELECT account_id, {norm_url(engine, 'u')} AS object, post_id, t FROM (
                 SELECT account_id, post_id, {t_ms(engine)} AS t, {engine.explode('urls')} AS u FROM posts
                 WHERE kind <> 'retweet') x
               WHERE u IS NOT NULL AND trim(u) <> ''"""


TRACE = Trace("co_link", "same normalised URL", window_s=600, min_weight=2, actions=actions)
