"""unmask: expose coordinated, covert influence operations in data you already hold.

The public API lives in :mod:`unmask.api`; the CLI in :mod:`unmask.cli` is a thin layer over it.
"""

__version__ = "0.1.0"


def open(path):  # noqa: A001  (unmask.open, as in the README)
    """Open a case for reading: ``unmask.open("run/case.duckdb").operations()``; see :mod:`unmask.notebook`."""
    from unmask.notebook import open_case

    return open_case(path)
