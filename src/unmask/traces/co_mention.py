"""co_mention: two accounts mention the same account within the window (replies excluded:
their mention is the parent's author, which co_reply already covers)."""

from unmask.traces.base import Trace
from unmask.traces.sqltext import list_actions


def actions(engine):
    return list_actions(engine, "mentions", kinds="kind IN ('original', 'quote')", obj="lower(v)")


TRACE = Trace("co_mention", "same mentioned account", window_s=600, min_weight=3, actions=actions, rhythm_null=True)
