"""co_link: two accounts share the same normalised URL within the window.

Hosts are lower-cased, ``www.``, default ports, fragments, tracking parameters (utm_*, fbclid,
gclid, ...) and trailing slashes are removed. Posts without a URL never co-link.

Retweets are left out: their entities are the original's, and co_retweet already covers them."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import list_actions


def actions(engine):
    return list_actions(engine, "link_keys")  # the post's urls through norm_url, computed once at ingest


TRACE = Trace("co_link", "same normalised URL", window_s=600, min_weight=2, actions=actions)
