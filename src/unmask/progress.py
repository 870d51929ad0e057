"""Progress reporting for long steps: the library says what it will do and what it has done; a
display (the CLI's bar) shows a percentage and rows per second wherever the total is known.

A ``progress`` argument may be a plain callable (called with each finished unit, as before) or a
:class:`Reporter`; :func:`start` and :func:`advance` call whichever it is.
"""

from __future__ import annotations

import time


class Reporter:
    """Counts units (files, traces) and rows against known totals; ``engine`` (optional) gives the
    fraction of the statement running now, so the bar moves inside one long query too."""

    def __init__(self):
        self.label, self.total_units, self.total_rows = "", 0, 0
        self.units, self.started, self.engine = 0, time.perf_counter(), None

    def start(self, label: str, total_units: int, total_rows: int, engine=None) -> None:
        self.label, self.total_units, self.total_rows = label, max(1, total_units), max(0, total_rows)
        self.units, self.started, self.engine = 0, time.perf_counter(), engine

    def advance(self, rows: int = 0, note=None) -> None:
        """One unit done (``rows`` is what it handled; the rate here comes from the totals)."""
        self.units += 1

    def __call__(self, note) -> None:  # the plain-callable protocol: one unit done
        pass

    def finish(self) -> None:
        """The step is over: forget its engine, so that a display polling from another thread never
        asks a connection that the caller is about to close."""
        self.engine = None

    def fraction(self) -> float:
        """Share of the step done: finished units plus the running statement's share of one unit."""
        inside = 0.0
        engine = self.engine  # read once: another thread may finish the step meanwhile
        if engine is not None:
            p = engine.progress()
            inside = p / 100.0 if p is not None and p >= 0 else 0.0
        return min(1.0, (self.units + min(inside, 0.999)) / self.total_units)

    def rows_per_second(self) -> float:
        """Rows handled per second so far (estimated inside the running unit from its share)."""
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        return self.fraction() * self.total_rows / elapsed


def start(progress, label: str, total_units: int, total_rows: int, engine=None) -> None:
    if progress is not None and hasattr(progress, "start"):
        progress.start(label, total_units, total_rows, engine)


def advance(progress, rows: int = 0, note=None) -> None:
    if progress is None:
        return
    if hasattr(progress, "advance"):
        progress.advance(rows, note)
    else:
        progress(note)


def finish(progress) -> None:
    """The step is over (call before its engine closes)."""
    if progress is not None and hasattr(progress, "finish"):
        progress.finish()
