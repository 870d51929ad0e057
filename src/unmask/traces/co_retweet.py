"""co_retweet: two accounts retweet the same post within the window.

Stratified by the retweeted post's author: the null keeps how often each account retweets each
author (whom it follows), so an audience's regulars sharing its posts is expected; and paced: it
keeps how soon each account retweets that author (a regular with notifications on retweets within
seconds, post after post), so two fast regulars meeting on every post is expected too."""

from unmask.traces.base import Trace, reaction_pace
from unmask.traces.sqltext import t_ms


def actions(engine):
    t = t_ms(engine, "p.created_at")
    return f"""SELECT p.account_id, p.ref_post_id AS object, p.post_id, {t} AS t,
                      coalesce(p.ref_account_id, '') AS stratum,
                      CAST({t} - f.first_t AS DOUBLE) / 1000.0 AS pace
               FROM posts p JOIN {reaction_pace(engine)} f ON f.ref_post_id = p.ref_post_id
               WHERE p.kind = 'retweet' AND p.ref_post_id IS NOT NULL"""


TRACE = Trace("co_retweet", "same retweeted post", window_s=60, min_weight=2, actions=actions,
              stratified=True, family="retweet", paced=True)
