"""Checks that test what accounts claim against how they behave, and where their links go.

Each check module exposes ``run(case) -> pyarrow.Table`` of rows
``account_id, check, observed, expected, strength, evidence``; built-ins register in
:data:`CHECKS` the same way a plugin would.
"""

from __future__ import annotations

import pyarrow as pa

CHECKS: dict = {}

CHECK_SCHEMA = pa.schema([("account_id", pa.string()), ("check", pa.string()), ("observed", pa.string()),
                          ("expected", pa.string()), ("strength", pa.float64()), ("evidence", pa.string())])


def register(name, fn):
    CHECKS[name] = fn


def run_all(case) -> pa.Table:
    tables = [fn(case).cast(CHECK_SCHEMA) for _, fn in sorted(CHECKS.items())]
    table = pa.concat_tables(tables) if tables else CHECK_SCHEMA.empty_table()
    case.write_table("checks", table.sort_by([("account_id", "ascending"), ("check", "ascending")]))
    return table
