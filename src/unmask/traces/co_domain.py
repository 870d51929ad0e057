"""co_domain: two accounts link to the same domain within the window; rare domains weigh more
(``rarity_weight``), and the null model discounts popular ones.
Retweets are left out: their entities are the original's, and co_retweet already covers them."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import list_actions

# The platforms' own domains (quote-tweet and profile links) say nothing about shared sources;
# a shared quoted post is still seen by co_link, whose object is the full URL.
PLATFORM = ("twitter.com", "x.com", "t.co", "mobile.twitter.com")


def actions(engine):
    return list_actions(engine, "domains", extra=f" AND v NOT IN ({', '.join(repr(x) for x in PLATFORM)})")


TRACE = Trace("co_domain", "same link domain", window_s=600, min_weight=3, actions=actions, rhythm_null=True, family="link")
