"""synchronized_posting: two accounts post (anything) within a few seconds of each other.

Posts form one stream per UTC day (the object is the day: partitions of a day's posts instead of
one partition of every post, so the engine sorts and windows them in parallel and in bounded
memory, and the rhythm null's shifted worlds are bounded the same way); each post is paired with
its next posts of the day inside the window (capped by ``max_neighbors``). Pairs that straddle
midnight UTC are not counted: with the 5 s window that is about 0.006% of pairs (window / day).
Raw counts mean little here: busy accounts meet by chance all the time, so the significance
stage compares each pair's count with what their volumes predict.

Reactions to one author's posts are their own stream (the object is the day and the stratum: the
referenced post's author for a retweet, reply or quote, none for an original). A popular
account's regulars retweet each post within a minute of it, so they post within seconds of each
other by reacting to the same stimulus; the stratified null (each account's share of reactions
to each author) expects that, as it does for co_retweet. Originals posted at the same second, and
reactions to authors an account seldom reacts to, are judged against everyone. Reactions are
paced (as co_retweet's): two regulars who both react within seconds of every post are expected
to post within seconds of each other.
"""

from unmask.traces.base import Trace, reaction_pace
from unmask.traces.sqltext import t_ms


DAY_MS = 86_400_000


def day_object(t_expr: str) -> str:
    """The UTC day of an epoch-ms time, as the object (engine-neutral SQL)."""
    return f"'day:' || CAST(CAST(floor(({t_expr}) / {DAY_MS}) AS BIGINT) AS STRING)"


STRATUM = "CASE WHEN p.kind = 'original' THEN '' ELSE coalesce(p.ref_account_id, '') END"  # over posts p


def stream_object(t_expr: str, stratum: str = "a.stratum") -> str:
    """The day and the stratum of an action, as the object (the rhythm null recomputes it from the
    shifted time)."""
    return f"{day_object(t_expr)} || '|' || {stratum}"


def actions(engine):
    t = t_ms(engine, "p.created_at")
    return f"""SELECT p.account_id, {stream_object(t, STRATUM)} AS object, p.post_id, {t} AS t, {STRATUM} AS stratum,
                      CASE WHEN p.kind = 'original' THEN NULL ELSE CAST({t} - f.first_t AS DOUBLE) / 1000.0 END AS pace
               FROM posts p LEFT JOIN {reaction_pace(engine)} f ON f.ref_post_id = p.ref_post_id"""


TRACE = Trace("synchronized_posting", "posting within seconds of each other", window_s=5, min_weight=4,
              actions=actions, rhythm_null=True, time_object=stream_object, stratified=True, paced=True)
