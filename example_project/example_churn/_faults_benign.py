"""Benign changes: the warehouse changes in ways that must not fail a check or degrade a goal.

A new column (of any type), columns in another order, a widened integer type, a fresh slice
of rows at the usual rate, a table nobody joins to: each is routine upstream change. A correct
agent may replan to use what is new, but no data check fails and the goal metric holds.
"""

from __future__ import annotations

import datetime as dt

from ._faults_core import (
    Connection,
    Fault,
    FaultSpec,
    Outcome,
    already_applied,
    changed,
    columns,
    require_column,
    require_no_table,
    require_rows,
    sampled,
    scalar,
)

APPEND_DAYS = 7
OFFICES = [
    ("BER", "Berlin", "2019-03-01", 120), ("LON", "London", "2018-06-15", 210),
    ("NYC", "New York", "2020-01-20", 95), ("SIN", "Singapore", "2022-09-05", 40),
]  # fmt: skip


def _add_column(con: Connection, table: str, column: str, dtype: str, value_sql: str) -> int:
    if column in columns(con, table):
        raise already_applied(f"{table} already has a column {column!r}")
    rows = require_rows(con, table)
    con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {dtype}")
    changed(con, f"UPDATE {table} SET {column} = {value_sql}")
    return rows


def new_bool_column(con: Connection, seed: int) -> Outcome:
    pick = sampled("ticket_id", seed, "escalated", 0.12)
    rows = _add_column(con, "support_tickets", "escalated", "BOOLEAN", pick)
    return rows, {"new_column": "support_tickets.escalated", "type": "BOOLEAN"}


def new_typed_columns(con: Connection, seed: int) -> Outcome:
    key = f"hash(payment_id, {int(seed)}"
    added = {
        "invoice_ref": ("VARCHAR", f"'INV-' || CAST({key}) % 1000000 AS VARCHAR)"),
        "tax_rate": ("DOUBLE", f"[0.0, 0.07, 0.19, 0.2][1 + CAST({key}, 't') % 4 AS BIGINT)]"),
        "line_items": ("INTEGER", f"CAST(1 + hash(payment_id, {int(seed)}, 'n') % 5 AS INTEGER)"),
        "settled_on": ("DATE", "CAST(paid_at AS DATE) + CAST(hash(payment_id) % 4 AS INTEGER)"),
    }  # fmt: skip
    require_column(con, "payments", "paid_at")
    rows = 0
    for column, (dtype, value) in added.items():
        rows = _add_column(con, "payments", column, dtype, value)
    return rows, {"new_columns": ", ".join(f"payments.{c} {t}" for c, (t, _) in added.items())}


def reorder_columns(con: Connection, seed: int) -> Outcome:
    cols = columns(con, "customers")
    names = list(cols)
    if not names or names[0] != "customer_id":
        raise already_applied("customers does not start with customer_id")
    rows = require_rows(con, "customers")
    reordered = [*names[1:][::-1], names[0]]
    ddl = ", ".join(
        f"{name} {cols[name][0]}{'' if cols[name][1] else ' NOT NULL'}"
        + (" PRIMARY KEY" if name == "customer_id" else "")
        for name in reordered
    )
    listed = ", ".join(reordered)
    con.execute(f"CREATE TABLE customers__reordered ({ddl})")
    con.execute(f"INSERT INTO customers__reordered SELECT {listed} FROM customers")
    con.execute("DROP TABLE customers")
    con.execute("ALTER TABLE customers__reordered RENAME TO customers")
    return rows, {"order": listed}


def widen_type(con: Connection, seed: int) -> Outcome:
    dtype = require_column(con, "customers", "age")
    if dtype != "INTEGER":
        raise already_applied(f"customers.age is {dtype}, not INTEGER")
    rows = require_rows(con, "customers")
    con.execute("ALTER TABLE customers ALTER COLUMN age TYPE BIGINT")
    return rows, {"column": "customers.age", "old_type": "INTEGER", "new_type": "BIGINT"}


def append_rows(con: Connection, seed: int) -> Outcome:
    """The next `APPEND_DAYS` of events at the rate of the last ones: the latest window
    replayed one window later, with fresh event ids (all after the data seen so far)."""
    require_column(con, "events", "event_time")
    latest = scalar(con, "SELECT max(event_time) FROM events")
    if latest is None:
        raise ValueError("events is empty; nothing to extend")
    start = latest - dt.timedelta(days=APPEND_DAYS)
    window = f"event_time > TIMESTAMP '{start}'"
    require_rows(con, "events", window)
    rows = changed(
        con,
        f"INSERT INTO events SELECT (SELECT max(event_id) FROM events)"
        f" + row_number() OVER (ORDER BY event_time, event_id), customer_id,"
        f" event_time + INTERVAL {APPEND_DAYS} DAY, event_type, duration_seconds"
        f" FROM events WHERE {window}",
    )
    return rows, {"appended_after": str(latest), "days": APPEND_DAYS}


def unrelated_table(con: Connection, seed: int) -> Outcome:
    require_no_table(con, "office_locations")
    con.execute(
        "CREATE TABLE office_locations (office_code VARCHAR NOT NULL, city VARCHAR NOT NULL,"
        " opened_on DATE NOT NULL, desks INTEGER NOT NULL)"
    )
    con.executemany("INSERT INTO office_locations VALUES (?, ?, ?, ?)", OFFICES)
    return len(OFFICES), {"new_table": "office_locations"}


FAULTS = [
    Fault(
        FaultSpec(
            "new_bool_column", "support_tickets", "escalated",
            "The helpdesk adds a BOOLEAN escalated flag to every ticket (~12% true).",
            "nothing to repair: no check may fail; a replan may use the new column",
        ),
        new_bool_column,
    ),
    Fault(
        FaultSpec(
            "new_typed_columns", "payments", None,
            "The billing export adds four columns of other types: invoice_ref VARCHAR,"
            " tax_rate DOUBLE, line_items INTEGER, settled_on DATE.",
            "nothing to repair: no check may fail; a replan may use the new columns",
        ),
        new_typed_columns,
    ),
    Fault(
        FaultSpec(
            "reorder_columns", "customers", None,
            "The CRM table is recreated with the same columns in another order.",
            "nothing to repair: columns are read by name",
        ),
        reorder_columns,
    ),
    Fault(
        FaultSpec(
            "widen_type", "customers", "age",
            "customers.age is widened from INTEGER to BIGINT; values unchanged.",
            "nothing to repair: a widened integer reads as before",
        ),
        widen_type,
    ),
    Fault(
        FaultSpec(
            "append_rows", "events", None,
            f"The next {APPEND_DAYS} days of events land at the usual rate (after every row"
            " seen so far).",
            "nothing to repair: the row count grows as expected",
        ),
        append_rows,
    ),
    Fault(
        FaultSpec(
            "unrelated_table", "office_locations", None,
            "A table of office locations nobody joins to appears in the warehouse.",
            "nothing to repair: a replan finds no relation to the entity and ignores it",
        ),
        unrelated_table,
    ),
]  # fmt: skip
