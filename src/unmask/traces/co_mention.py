"""co_mention: two accounts mention the same account within the window (replies excluded:
their mention is the parent's author, which co_reply already covers)."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import t_ms


def actions(engine):
    return f"""SELECT account_id, lower(m) AS object, post_id, t FROM (
                 SELECT account_id, post_id, {t_ms(engine)} AS t, {engine.explode('mentions')} AS m
                 FROM posts WHERE kind IN ('original', 'quote')) x
               WHERE m IS NOT NULL AND m <> ''"""


TRACE = Trace("co_mention", "same mentioned account", window_s=600, min_weight=3, actions=actions, rhythm_null=True)
