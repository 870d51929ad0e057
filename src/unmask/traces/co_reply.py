"""co_reply: two accounts reply to the same parent post within the window.

Not stratified by the parent's author (unlike co_retweet): a reply attack's accounts are often the
whole reply audience of the author they target, and a null that keeps each account's replies
within that author explains the attack away (a simulated attack of 25 accounts on 8 posts of one
author was found with the global null and lost with the stratified one). The cost is the known
failure mode: an author's regular repliers can link (docs/methods.md)."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import t_ms


def actions(engine):
    return f"""SELECT account_id, ref_post_id AS object, post_id, {t_ms(engine)} AS t
               FROM posts WHERE kind = 'reply' AND ref_post_id IS NOT NULL"""


TRACE = Trace("co_reply", "same parent post replied to", window_s=600, min_weight=2, actions=actions)
