"""co_retweet: two accounts retweet the same post within the window.

Stratified by the retweeted post's author: the null keeps how often each account retweets each
author (whom it follows), so an audience's regulars sharing its posts is expected."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import t_ms


def actions(engine):
    return f"""SELECT account_id, ref_post_id AS object, post_id, {t_ms(engine)} AS t,
                      coalesce(ref_account_id, '') AS stratum
               FROM posts WHERE kind = 'retweet' AND ref_post_id IS NOT NULL"""


TRACE = Trace("co_retweet", "same retweeted post", window_s=60, min_weight=2, actions=actions,
              stratified=True, family="retweet")
