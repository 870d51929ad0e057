"""co_link: two accounts share the same normalised URL within the window.

Hosts are lower-cased, ``www.``, default ports, fragments, tracking parameters (utm_*, fbclid,
gclid, ...) and trailing slashes are removed. Posts without a URL never co-link.

Retweets are left out: their entities are the original's, and co_retweet already covers them."""

from unmask.traces.base import Trace


def actions(engine):  # post_links: each post's urls through norm_url, made once at ingest
    return "SELECT account_id, link_key AS object, post_id, t FROM post_links WHERE kind <> 'retweet'"


TRACE = Trace("co_link", "same normalised URL", window_s=600, min_weight=2, actions=actions, family="link")
