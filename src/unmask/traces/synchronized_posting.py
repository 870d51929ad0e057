"""synchronized_posting: two accounts post (anything) within a few seconds of each other.

Posts form one stream per UTC day (the object is the day: partitions of a day's posts instead of
one partition of every post, so the engine sorts and windows them in parallel and in bounded
memory, and the rhythm null's shifted worlds are bounded the same way); each post is paired with
its next posts of the day inside the window (capped by ``max_neighbors``). Pairs that straddle
midnight UTC are not counted: with the 5 s window that is about 0.006% of pairs (window / day).
Raw counts mean little here: busy accounts meet by chance all the time, so the significance
stage compares each pair's count with what their volumes predict.
"""

from unmask.traces.base import Trace
from unmask.traces.sqltext import t_ms


DAY_MS = 86_400_000


def day_object(t_expr: str) -> str:
    """The UTC day of an epoch-ms time, as the object (engine-neutral SQL)."""
    return f"'day:' || CAST(CAST(floor(({t_expr}) / {DAY_MS}) AS BIGINT) AS STRING)"


def actions(engine):
    t = t_ms(engine)
    return f"SELECT account_id, {day_object(t)} AS object, post_id, {t} AS t FROM posts"


TRACE = Trace("synchronized_posting", "posting within seconds of each other", window_s=5, min_weight=4,
              actions=actions, rhythm_null=True, time_object=day_object)
