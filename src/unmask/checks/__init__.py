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


def _builtins():
    from unmask.media import amplification
    from unmask.persona import checks as persona

    register("persona", persona.run)
    register("state_media", _state_media(amplification))


def _state_media(amplification):
    def run(case):
        amplification.run(case)
        rows = case.engine.query("""SELECT account_id, 'state_media_share' AS "check",
                   CAST(round(state_media_share, 3) AS VARCHAR) AS observed, '-' AS expected,
                   state_media_share AS strength,
                   concat(state_media_links, ' of ', links, ' links go to state media ', state_media_countries)
                       AS evidence
            FROM state_media_shares WHERE state_media_links > 0 ORDER BY account_id""")
        echoes = case.engine.query("""SELECT account_id, 'state_media_echo' AS "check",
                   CAST(count(*) AS VARCHAR) || ' echoes' AS observed, '-' AS expected,
                   least(1.0, count(*) / 10.0) AS strength,
                   concat('repeats posts of ', string_agg(DISTINCT outlet, ', '), ' after a median ',
                          CAST(CAST(median(lag_s) / 60 AS INTEGER) AS VARCHAR), ' min') AS evidence
            FROM state_media_echoes GROUP BY account_id ORDER BY account_id""")
        return pa.concat_tables([rows, echoes.cast(rows.schema)])
    return run


def run_all(case) -> pa.Table:
    if not CHECKS:
        _builtins()
    tables = [fn(case).cast(CHECK_SCHEMA) for _, fn in sorted(CHECKS.items())]
    table = pa.concat_tables(tables) if tables else CHECK_SCHEMA.empty_table()
    case.write_table("checks", table.sort_by([("account_id", "ascending"), ("check", "ascending")]))
    return table
