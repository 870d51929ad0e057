"""co_hashtag: same hashtag (case-folded) within the window, and identical hashtag sequences
(a post's sorted hashtag set of two or more, as object ``seq:a b``).
Retweets are left out: their entities are the original's, and co_retweet already covers them."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import list_actions, t_ms


def actions(engine):
    single = list_actions(engine, "hashtags", obj="lower(v)")
    seq = f"""SELECT account_id, 'seq:' || {engine.sorted_join(engine.lower_list('hashtags'), "' '")} AS object, post_id,
                     {t_ms(engine)} AS t
              FROM posts WHERE kind <> 'retweet' AND {engine.list_len('hashtags')} >= 2"""
    return f"{single} UNION ALL {seq}"


TRACE = Trace("co_hashtag", "same hashtag or hashtag sequence", window_s=300, min_weight=3, actions=actions, rhythm_null=True)
