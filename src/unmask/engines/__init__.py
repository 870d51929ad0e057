"""Engines: the only package that imports DuckDB or PySpark.

Every trace writes its relational logic once, as SQL over the canonical tables; an
:class:`~unmask.engines.base.Engine` runs it. ``duckdb`` is embedded and the default;
``spark`` (the ``spark`` extra) runs the same SQL on a cluster.
"""

from unmask.engines.base import Engine, get_engine, register_engine

__all__ = ["Engine", "get_engine", "register_engine"]
