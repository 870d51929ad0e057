"""co_text: identical normalised text (case, whitespace, URLs and mentions ignored) within the
window. Retweets are left out (their text is the original's), and texts shorter than
``min_length`` characters never match, so "thank you!" does not link strangers."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import t_ms

MIN_LENGTH = 25


def actions(engine, min_length=MIN_LENGTH):
    # text_hash/text_len are norm_text's md5 and length, computed once at ingest
    return f"""SELECT account_id, text_hash AS object, post_id, {t_ms(engine)} AS t
               FROM posts WHERE kind <> 'retweet' AND text_len >= {int(min_length)}"""


TRACE = Trace("co_text", "identical normalised text", window_s=3600, min_weight=2, actions=actions, rhythm_null=True,
              params={"min_length": MIN_LENGTH}, family="text")
