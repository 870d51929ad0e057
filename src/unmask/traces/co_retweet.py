"""co_retweet: two accounts retweet the same post within the window."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import t_ms


def actions(engine):
    return f"""SELECT account_id, ref_post_id AS object, post_id, {t_ms(engine)} AS t
               FROM posts WHERE kind = 'retweet' AND ref_post_id IS NOT NULL"""


TRACE = Trace("co_retweet", "same retweeted post", window_s=60, min_weight=2, actions=actions)
