"""Engine-neutral SQL shared by the traces (normalisation of texts and URLs lives in
:mod:`unmask.normalise`: the keys belong to the case, not to a trace)."""

from __future__ import annotations

from unmask.normalise import TRACKING, WS_RUN, norm_text, norm_url  # noqa: F401  (re-exported)


def t_ms(engine, col="created_at"):
    return engine.epoch_ms(col)


def list_actions(engine, column, kinds="kind <> 'retweet'", obj="v", extra=""):
    """Actions ``(account_id, object, post_id, t)``, one per non-empty element ``v`` of a list
    column; posts with an empty list are skipped before the explode (cheaper than after)."""
    return f"""SELECT account_id, {obj} AS object, post_id, t FROM (
                 SELECT account_id, post_id, {t_ms(engine)} AS t, {engine.explode(column)} AS v FROM posts
                 WHERE {kinds} AND {engine.list_len(column)} > 0) x
               WHERE v IS NOT NULL AND v <> ''{extra}"""
