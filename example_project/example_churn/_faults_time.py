"""Time faults: an event-time column arrives in another encoding (epoch numbers, local text).

The instants are the same; only their representation changed. Reading such a column as it is
either breaks the cutoff filter or, worse, silently drops it: a correct agent parses the
column back into a timestamp (a typed adapter) or leaves the table out and says why.
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

TEXT_FORMAT = "%d/%m/%Y %H:%M"
TIME_TYPES = {"TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "DATE", "TIMESTAMP_NS", "TIMESTAMP_S"}


def _reencode(con: Connection, table: str, column: str, dtype: str, expression: str) -> Outcome:
    old = require_column(con, table, column)
    if old not in TIME_TYPES:
        raise already_applied(f"{table}.{column} is {old}, not a timestamp")
    rows = require_rows(con, table)
    con.execute(
        f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {dtype} USING {expression.format(column)}"
    )
    return rows, {"column": f"{table}.{column}", "old_type": old, "new_type": dtype}


def epoch_time(con: Connection, seed: int) -> Outcome:
    rows, details = _reencode(
        con, "support_tickets", "created_at", "BIGINT", "CAST(epoch({}) AS BIGINT)"
    )
    return rows, {**details, "encoding": "seconds since 1970-01-01 UTC"}


def text_time(con: Connection, seed: int) -> Outcome:
    rows, details = _reencode(
        con, "payments", "paid_at", "VARCHAR", f"strftime({{}}, '{TEXT_FORMAT}')"
    )
    return rows, {**details, "encoding": TEXT_FORMAT}


FAULTS = [
    Fault(
        FaultSpec(
            "epoch_time", "support_tickets", "created_at",
            "The helpdesk API v3 sends created_at as epoch seconds (BIGINT) instead of a"
            " timestamp; the instants are unchanged.",
            "read the integers as epoch seconds (a typed adapter) and keep the cutoff filter;"
            " never aggregate the table over all time",
        ),
        epoch_time,
    ),
    Fault(
        FaultSpec(
            "text_time", "payments", "paid_at",
            "The billing export writes paid_at as day-first local text ('31/12/2025 14:05'),"
            " minute precision.",
            "parse the text with its format (day first) and keep the cutoff filter, or leave"
            " the table out with the reason",
        ),
        text_time,
    ),
]  # fmt: skip
