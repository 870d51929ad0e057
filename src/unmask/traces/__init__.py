"""Coordination traces: one module per trace, one output shape (see :mod:`unmask.traces.base`).

Built-ins register in :data:`TRACES` the same way a plugin would, with :func:`register`.
"""

from __future__ import annotations

from unmask.errors import ParameterError
from unmask.traces import (co_domain, co_hashtag, co_link, co_mention, co_reply, co_retweet, co_text,
                           fast_retweet, near_duplicate_text, synchronized_posting, translated_text)
from unmask.traces.base import EDGE_COLUMNS, Trace, TraceResult, coaction

TRACES: dict[str, Trace] = {}


def register(trace: Trace) -> None:
    TRACES[trace.name] = trace


for _m in (co_retweet, fast_retweet, co_link, co_domain, co_hashtag, co_reply, co_mention, co_text,
           near_duplicate_text, synchronized_posting, translated_text):
    register(_m.TRACE)

DEFAULT_TRACES = tuple(name for name, t in TRACES.items() if not t.optional)


def run_trace(engine, name, window_s=None, min_weight=None, max_neighbors=100, evidence_k=5, shuffles=10,
              seed=0) -> TraceResult:
    """Run one registered trace with its documented defaults unless overridden."""
    if name not in TRACES:
        raise ParameterError(f"unknown trace {name!r}; choose from {sorted(TRACES)}")
    t = TRACES[name]
    w = t.window_s if window_s is None else float(window_s)
    m = t.min_weight if min_weight is None else int(min_weight)
    if w < 0 or m < 1:
        raise ParameterError(f"{name}: window must be >= 0 s and min_weight >= 1 (got {w}, {m})")
    runner = getattr(t, "runner", None)
    if runner:
        return runner(engine, t, w, m, max_neighbors, evidence_k)
    return coaction(engine, t, w, m, max_neighbors, evidence_k, shuffles, seed)


__all__ = ["TRACES", "DEFAULT_TRACES", "register", "run_trace", "Trace", "TraceResult", "EDGE_COLUMNS"]
