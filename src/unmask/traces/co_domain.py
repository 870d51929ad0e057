"""co_domain: two accounts link to the same domain within the window; rare domains weigh more
(``rarity_weight``), and the null model discounts popular ones."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import t_ms


def actions(engine):
    return f"""SELECT account_id, d AS object, post_id, t FROM (
                 SELECT account_id, post_id, {t_ms(engine)} AS t, {engine.explode('domains')} AS d FROM posts) x
               WHERE d IS NOT NULL AND d <> ''"""


TRACE = Trace("co_domain", "same link domain", window_s=600, min_weight=3, actions=actions, rhythm_null=True)
