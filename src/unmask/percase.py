"""Per-case tables: work that depends on the posts alone, done once and refreshed only when new
posts arrive (behavioural zones, state-media shares and echoes, the link table).

A table is current when the version stored with it equals the case's data version: the number of
posts and the last ingest. ``unmask detect`` then costs the traces it runs, plus fusion,
clustering and the per-network checks, which are proportional to edges and networks, not posts.
"""

from __future__ import annotations


def data_version(case, extra: str = "") -> str:
    """What the posts are now: their count and the last ingest (plus ``extra``, e.g. a list version)."""
    posts = case.count("posts")
    last = case.engine.scalar("SELECT coalesce(max(ingest_id), 0) FROM provenance")
    return f"posts={posts};ingest={last}" + (f";{extra}" if extra else "")


def is_current(case, *names: str, extra: str = "") -> bool:
    """Whether every table in ``names`` was computed from the posts as they are now."""
    stored = case.get_meta("per_case", {})
    if not all(stored.get(n) and case.has_table(n) for n in names):
        return False
    version = data_version(case, extra)
    return all(stored[n] == version for n in names)


def mark_current(case, *names: str, extra: str = "") -> None:
    """Record that the tables in ``names`` were just computed from the posts as they are now."""
    versions = case.get_meta("per_case", {})
    version = data_version(case, extra)
    versions.update({n: version for n in names})
    case.set_meta("per_case", versions)
