"""Building blocks shared by the fault definitions: specs, schema checks, row sampling, rebuilds."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

Connection = duckdb.DuckDBPyConnection
Outcome = tuple[int, dict[str, object]]
PRISTINE_HINT = "apply it to a freshly generated warehouse (python -m example_churn.warehouse)"


@dataclass(frozen=True)
class FaultSpec:
    """What a fault changes, what it looks like upstream and what should be done about it."""

    name: str
    table: str
    column: str | None
    description: str
    expected_remedy: str
    also: tuple[str, ...] = ()
    """Other tables the fault changes (a release that breaks several sources at once)."""


@dataclass(frozen=True)
class AppliedFault:
    """The result of one fault application."""

    spec: FaultSpec
    rows_affected: int
    details: dict[str, object]


@dataclass(frozen=True)
class Fault:
    """A spec and the function that applies it inside an open transaction."""

    spec: FaultSpec
    apply: Callable[[Connection, int], Outcome]


def scalar(con: Connection, sql: str, params: list[object] | None = None) -> Any:
    row = con.execute(sql, params or []).fetchone()
    return None if row is None else row[0]


def tables(con: Connection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {name for (name,) in rows}


def columns(con: Connection, table: str) -> dict[str, tuple[str, bool]]:
    """Column name -> (type, nullable), in table order; ValueError when the table is missing."""
    require_table(con, table)
    rows = con.execute(
        "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns"
        " WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {name: (dtype, nullable) for name, dtype, nullable in rows}


def require_table(con: Connection, table: str) -> None:
    present = tables(con)
    if table not in present:
        raise ValueError(
            f"the warehouse has no table {table!r} (tables: {', '.join(sorted(present))}); "
            f"the fault may already be applied: {PRISTINE_HINT}"
        )


def require_no_table(con: Connection, table: str) -> None:
    if table in tables(con):
        raise ValueError(
            f"table {table!r} already exists, so the fault looks applied already; {PRISTINE_HINT}"
        )


def require_column(con: Connection, table: str, column: str) -> str:
    """The column's type; ValueError naming the existing columns when it is missing."""
    cols = columns(con, table)
    if column not in cols:
        raise ValueError(
            f"{table} has no column {column!r} (columns: {', '.join(cols)}); "
            f"the fault may already be applied: {PRISTINE_HINT}"
        )
    return cols[column][0]


def require_rows(con: Connection, table: str, where: str = "TRUE") -> int:
    count = int(scalar(con, f"SELECT count(*) FROM {table} WHERE {where}"))
    if count == 0:
        raise ValueError(f"{table} has no rows matching {where}; {PRISTINE_HINT}")
    return count


def already_applied(problem: str) -> ValueError:
    return ValueError(f"{problem}, so the fault looks applied already; {PRISTINE_HINT}")


def cutoff(con: Connection) -> dt.date:
    """The prediction time: the latest churn_labels.cutoff_date."""
    require_column(con, "churn_labels", "cutoff_date")
    value = scalar(con, "SELECT max(cutoff_date) FROM churn_labels")
    if value is None:
        raise ValueError(f"churn_labels is empty, so there is no cutoff date; {PRISTINE_HINT}")
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def sampled(key: str, seed: int, salt: str, share: float) -> str:
    """SQL predicate selecting a deterministic pseudo-random `share` of rows by `key`."""
    return f"hash({key}, {int(seed)}, '{salt}') % 10000 < {round(share * 10000)}"


def rng(seed: int, salt: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(salt.encode())])


def changed(con: Connection, sql: str, params: list[object] | None = None) -> int:
    """Run a DML statement and return how many rows it touched."""
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row else 0


def rebuild(con: Connection, table: str, select_sql: str) -> int:
    """Replace `table` by the rows of `select_sql`, keeping columns and NOT NULL only.

    Primary keys and other constraints are dropped: this is how the faults that break a key
    (duplicated rows) get into a table whose DDL declares one.
    """
    cols = columns(con, table)
    ddl = ", ".join(
        f'"{name}" {dtype}{"" if nullable else " NOT NULL"}'
        for name, (dtype, nullable) in cols.items()
    )
    staging = f"{table}__rebuild"
    con.execute(f"CREATE TABLE {staging} ({ddl})")
    rows = changed(con, f"INSERT INTO {staging} {select_sql}")
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE {staging} RENAME TO {table}")
    return rows
