"""Key faults: a foreign key arrives in another format, so its rows no longer join as they are.

The values still name the same customers; only their spelling changed. A correct agent
recognises the format (a prefix, zero padding, text instead of an integer) and reads the key
back into the parent's form, or, if it cannot, says which source it lost.
"""

from __future__ import annotations

from ._faults_core import (
    Connection,
    Fault,
    FaultSpec,
    Outcome,
    already_applied,
    require_column,
    require_rows,
)

KEY_PREFIX, KEY_WIDTH = "C-", 9
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}


def _retype_key(con: Connection, table: str, column: str, expression: str) -> Outcome:
    """Rewrite an integer key column in place as text computed by `expression` over it."""
    dtype = require_column(con, table, column)
    if dtype not in INTEGER_TYPES:
        raise already_applied(f"{table}.{column} is {dtype}, not an integer key")
    rows = require_rows(con, table)
    con.execute(
        f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR USING {expression.format(column)}"
    )
    return rows, {"column": f"{table}.{column}", "old_type": dtype, "new_type": "VARCHAR"}


def key_format(con: Connection, seed: int) -> Outcome:
    rows, details = _retype_key(
        con, "support_tickets", "customer_id",
        f"'{KEY_PREFIX}' || lpad(CAST({{}} AS VARCHAR), {KEY_WIDTH}, '0')",
    )  # fmt: skip
    return rows, {**details, "format": f"{KEY_PREFIX}{'0' * (KEY_WIDTH - 6)}123456"}


def key_as_text(con: Connection, seed: int) -> Outcome:
    rows, details = _retype_key(con, "payments", "customer_id", "CAST({} AS VARCHAR)")
    return rows, {**details, "format": "decimal digits as text"}


FAULTS = [
    Fault(
        FaultSpec(
            "key_format", "support_tickets", "customer_id",
            "The helpdesk migration writes customer ids as prefixed, zero-padded text"
            " ('C-000100001' instead of 100001); every ticket still names its customer.",
            "recognise the prefix and padding, normalise the key back to the parent's integer"
            " ids and check the join coverage; never drop the source silently",
        ),
        key_format,
    ),
    Fault(
        FaultSpec(
            "key_as_text", "payments", "customer_id",
            "The billing export starts writing customer_id as text ('100001'); values unchanged.",
            "cast the key back to the parent's type after checking every value parses and joins",
        ),
        key_as_text,
    ),
]  # fmt: skip
