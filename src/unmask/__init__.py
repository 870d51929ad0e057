"""unmask: expose coordinated, covert influence operations in data you already hold.

The public API lives in :mod:`unmask.api`; the CLI in :mod:`unmask.cli` is a thin layer over it.
"""

__version__ = "0.1.0"
