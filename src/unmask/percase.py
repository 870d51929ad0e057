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


def is_current(case, name: str, extra: str = "") -> bool:
    """Whether table ``name`` was computed from the posts as they are now."""
    stored = case.get_meta("per_case", {}).get(name)
    return bool(stored) and case.has_table(name) and stored == data_version(case, extra)


def mark_current(case, name: str, extra: str = "") -> None:
    versions = case.get_meta("per_case", {})
    versions[name] = data_version(case, extra)
    case.set_meta("per_case", versions)
