"""co_reply: two accounts reply to the same parent post within the window."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import t_ms


def actions(engine):
    return f"""SELECT account_id, ref_post_id AS object, post_id, {t_ms(engine)} AS t
               FROM posts WHERE kind = 'reply' AND ref_post_id IS NOT NULL"""


TRACE = Trace("co_reply", "same parent post replied to", window_s=600, min_weight=2, actions=actions)
