"""synchronized_posting: two accounts post (anything) within a few seconds of each other.

All posts form one stream; each is paired with its next posts inside the window (capped by
``max_neighbors``). Raw counts mean little here: busy accounts meet by chance all the time,
so the significance stage compares each pair's count with what their volumes predict.
"""

from unmask.traces.base import Trace
from unmask.traces.sqltext import t_ms


def actions(engine):
    return f"SELECT account_id, 'all' AS object, post_id, {t_ms(engine)} AS t FROM posts"


TRACE = Trace("synchronized_posting", "posting within seconds of each other", window_s=5, min_weight=4,
              actions=actions, rhythm_null=True)
