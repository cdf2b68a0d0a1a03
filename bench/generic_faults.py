"""Faults for any DuckDB warehouse: targets are found by structure, not by name.

The example warehouse's faults (``example_churn.faults``) name their tables and columns. These
find theirs in whatever warehouse they are given, from its structure and the goal's resolved
objective: a foreign key is a non-unique column whose values all lie in a unique column of
another table; an event time is a child table's timestamp column; the cohort column is the
entity table's column the goal's cohort predicate reads. So the fault suite runs unchanged on
warehouses nobody shaped for it.

Each fault edits the file in one transaction, deterministically for a seed (the seed picks
among the candidate targets), and raises :class:`NotApplicable` (a ValueError), leaving the file
unchanged, when the warehouse has no structure it can break (a text key, say, or a cohort).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from bench.warehouse_structure import (
    INTEGER_TYPES,
    Column,
    Connection,
    GoalShape,
    NotApplicable,
    Structure,
    discover,
    scalar,
)
from dagster_agentic.warehouse.connection import literal, quote_ident

__all__ = [
    "FAULTS",
    "GenericApplied",
    "GenericFault",
    "GoalShape",
    "NotApplicable",
    "apply_generic",
    "discover",
]
TEXT_TIME_FORMAT = "%d/%m/%Y %H:%M"
APPEND_DAYS = 7

# --- the faults ----------------------------------------------------------------------------

Outcome = tuple[int, list[str], dict[str, object]]
"""Rows affected, the ``table.column`` targets changed, and details."""


def _pick(items: list[Any], seed: int, what: str) -> Any:
    if not items:
        raise NotApplicable(f"the warehouse has no {what}")
    return items[seed % len(items)]


def _rows(con: Connection, table: str) -> int:
    return int(scalar(con, f"SELECT count(*) FROM main.{quote_ident(table)}"))


def _alter_type(con: Connection, table: str, column: str, dtype: str, using: str) -> None:
    con.execute(
        f"ALTER TABLE main.{quote_ident(table)} ALTER COLUMN {quote_ident(column)}"
        f" TYPE {dtype} USING {using}"
    )


def rename_measure(con: Connection, s: Structure, seed: int) -> Outcome:
    options = [c for table in s.related() for c in s.measures(table)]
    column = _pick(options, seed, "numeric column in a table that references the entity")
    new = f"{column.name}_v2"
    con.execute(
        f"ALTER TABLE main.{quote_ident(column.table)} RENAME COLUMN {quote_ident(column.name)}"
        f" TO {quote_ident(new)}"
    )
    return _rows(con, column.table), [f"{column.table}.{column.name}"], {"renamed_to": new}


def key_format(con: Connection, s: Structure, seed: int) -> Outcome:
    options = [k for k in s.children() if k.data_type in INTEGER_TYPES]
    key = _pick(options, seed, "integer foreign key into the entity table")
    prefix = key.parent[:1].upper() + "-"
    width = (
        len(
            str(
                scalar(
                    con, f"SELECT max({quote_ident(key.column)}) FROM main.{quote_ident(key.table)}"
                )
            )
        )
        + 3
    )
    q = quote_ident(key.column)
    _alter_type(
        con, key.table, key.column, "VARCHAR",
        f"{literal(prefix)} || lpad(CAST({q} AS VARCHAR), {width}, '0')",
    )  # fmt: skip
    example = scalar(con, f"SELECT min({q}) FROM main.{quote_ident(key.table)}")
    return (
        _rows(con, key.table),
        [f"{key.table}.{key.column}"],
        {"references": f"{key.parent}.{key.parent_column}", "format": str(example)},
    )


def key_case(con: Connection, s: Structure, seed: int) -> Outcome:
    options = []
    for key in s.keys:
        if key.data_type != "VARCHAR" or key.table == s.shape.label_table:
            continue
        cased = scalar(
            con,
            f"SELECT count(*) FILTER (WHERE {quote_ident(key.column)} <> lower("
            f"{quote_ident(key.column)})) FROM main.{quote_ident(key.table)}",
        )
        if cased:
            options.append(key)
    key = _pick(options, seed, "text foreign key with upper-case letters")
    q = quote_ident(key.column)
    rows = con.execute(
        f"UPDATE main.{quote_ident(key.table)} SET {q} = lower({q}) WHERE {q} <> lower({q})"
    ).fetchone()
    return (
        int(rows[0]) if rows else 0,
        [f"{key.table}.{key.column}"],
        {"references": f"{key.parent}.{key.parent_column}", "case": "lower"},
    )


def _child_times(s: Structure) -> list[Column]:
    found = [s.time_column(t) for t in s.related()]
    return [c for c in found if c is not None]


def epoch_time(con: Connection, s: Structure, seed: int) -> Outcome:
    column = _pick(_child_times(s), seed, "timestamp column in a table referencing the entity")
    q = quote_ident(column.name)
    _alter_type(con, column.table, column.name, "BIGINT", f"CAST(epoch({q}) AS BIGINT)")
    return (
        _rows(con, column.table),
        [f"{column.table}.{column.name}"],
        {"old_type": column.data_type, "new_type": "BIGINT", "encoding": "epoch seconds"},
    )


def text_time(con: Connection, s: Structure, seed: int) -> Outcome:
    column = _pick(_child_times(s), seed, "timestamp column in a table referencing the entity")
    q = quote_ident(column.name)
    _alter_type(
        con, column.table, column.name, "VARCHAR", f"strftime({q}, {literal(TEXT_TIME_FORMAT)})"
    )
    return (
        _rows(con, column.table),
        [f"{column.table}.{column.name}"],
        {"old_type": column.data_type, "new_type": "VARCHAR", "encoding": TEXT_TIME_FORMAT},
    )


def _cohort(s: Structure) -> Column:
    name = s.cohort_column()
    if name is None:
        raise NotApplicable("the goal has no cohort on a column of the entity table")
    column = next(c for c in s.columns[s.shape.entity_table] if c.name == name)
    if column.data_type != "VARCHAR":
        raise NotApplicable(f"the cohort column {name!r} is {column.data_type}, not text")
    return column


def cohort_relabel(con: Connection, s: Structure, seed: int) -> Outcome:
    """Every value of the cohort column changes case: upper-cased, or lower-cased when it
    is upper case already ('DE' -> 'de', 'Germany' -> 'GERMANY')."""
    column = _cohort(s)
    q, t = quote_ident(column.name), quote_ident(column.table)
    upper = scalar(con, f"SELECT bool_and({q} = upper({q})) FROM main.{t}")
    to = "lower" if upper else "upper"
    rows = con.execute(f"UPDATE main.{t} SET {q} = {to}({q}) WHERE {q} <> {to}({q})").fetchone()
    if not rows or not rows[0]:
        raise NotApplicable(f"{column.table}.{column.name} has no letters to re-case")
    return int(rows[0]), [f"{column.table}.{column.name}"], {"case": to}


def cohort_dropped(con: Connection, s: Structure, seed: int) -> Outcome:
    """The cohort column is blanked on every row: the cohort has no rows left."""
    column = _cohort(s)
    q, t = quote_ident(column.name), quote_ident(column.table)
    if not column.nullable:
        con.execute(f"ALTER TABLE main.{t} ALTER COLUMN {q} DROP NOT NULL")
    rows = con.execute(f"UPDATE main.{t} SET {q} = NULL WHERE {q} IS NOT NULL").fetchone()
    if not rows or not rows[0]:
        raise NotApplicable(f"{column.table}.{column.name} holds no values to drop")
    return int(rows[0]), [f"{column.table}.{column.name}"], {"nulled": "every value"}


def release_rename_epoch(con: Connection, s: Structure, seed: int) -> Outcome:
    """Two causes in one release: a measure renamed in one child table, an event time turned
    into epoch seconds in another (the same table when there is only one)."""
    times = _child_times(s)
    time_col = _pick(times, seed, "timestamp column in a table referencing the entity")
    measures = [c for table in s.related() for c in s.measures(table)]
    others = [c for c in measures if c.table != time_col.table] or measures
    measure = _pick(others, seed, "numeric column in a table that references the entity")
    rows_a, targets_a, details_a = epoch_time(con, s, times.index(time_col))
    rows_b, targets_b, details_b = rename_measure(con, s, measures.index(measure))
    details = {f"epoch_time.{k}": v for k, v in details_a.items()}
    details |= {f"rename.{k}": v for k, v in details_b.items()}
    return rows_a + rows_b, targets_a + targets_b, details


# --- benign changes ------------------------------------------------------------------------


def _fresh(s: Structure, table: str, base: str) -> str:
    names = {c.name for c in s.columns[table]}
    name, n = base, 2
    while name in names:
        name, n = f"{base}_{n}", n + 1
    return name


def new_bool_column(con: Connection, s: Structure, seed: int) -> Outcome:
    table = _pick(s.related(), seed, "table referencing the entity")
    name = _fresh(s, table, "is_flagged")
    t, q = quote_ident(table), quote_ident(name)
    con.execute(f"ALTER TABLE main.{t} ADD COLUMN {q} BOOLEAN")
    con.execute(f"UPDATE main.{t} SET {q} = hash(rowid, {int(seed)}) % 8 = 0")
    return _rows(con, table), [f"{table}.{name}"], {"type": "BOOLEAN"}


def new_typed_columns(con: Connection, s: Structure, seed: int) -> Outcome:
    table = _pick(s.related(), seed, "table referencing the entity")
    t = quote_ident(table)
    added = {
        "note_ref": ("VARCHAR", f"'N-' || CAST(hash(rowid, {int(seed)}) % 100000 AS VARCHAR)"),
        "weight": ("DOUBLE", f"CAST(hash(rowid, {int(seed)}, 'w') % 1000 AS DOUBLE) / 10"),
        "item_count": ("INTEGER", f"CAST(1 + hash(rowid, {int(seed)}, 'n') % 5 AS INTEGER)"),
        "recorded_on": (
            "DATE", f"DATE '2020-01-01' + CAST(hash(rowid, {int(seed)}) % 1500 AS INTEGER)"
        ),
    }  # fmt: skip
    targets = []
    for base, (dtype, value) in added.items():
        name = _fresh(s, table, base)
        con.execute(f"ALTER TABLE main.{t} ADD COLUMN {quote_ident(name)} {dtype}")
        con.execute(f"UPDATE main.{t} SET {quote_ident(name)} = {value}")
        targets.append(f"{table}.{name}")
    return _rows(con, table), targets, {"types": "VARCHAR, DOUBLE, INTEGER, DATE"}


def _primary_key(con: Connection, table: str) -> list[str]:
    row = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() WHERE schema_name = 'main'"
        " AND table_name = ? AND constraint_type = 'PRIMARY KEY'",
        [table],
    ).fetchone()
    return list(row[0]) if row else []


def reorder_columns(con: Connection, s: Structure, seed: int) -> Outcome:
    """The entity table recreated with its columns in reverse order (constraints kept)."""
    table = s.shape.entity_table
    cols = s.columns[table]
    reordered = cols[::-1]
    primary = _primary_key(con, table)
    ddl = [
        f"{quote_ident(c.name)} {c.data_type}{'' if c.nullable else ' NOT NULL'}" for c in reordered
    ]
    if primary:
        ddl.append(f"PRIMARY KEY ({', '.join(map(quote_ident, primary))})")
    listed = ", ".join(quote_ident(c.name) for c in reordered)
    staging = quote_ident(f"{table}__reordered")
    con.execute(f"CREATE TABLE main.{staging} ({', '.join(ddl)})")
    con.execute(f"INSERT INTO main.{staging} SELECT {listed} FROM main.{quote_ident(table)}")
    con.execute(f"DROP TABLE main.{quote_ident(table)}")
    con.execute(f"ALTER TABLE main.{staging} RENAME TO {quote_ident(table)}")
    return _rows(con, table), [table], {"order": ", ".join(c.name for c in reordered)}


def widen_type(con: Connection, s: Structure, seed: int) -> Outcome:
    """An INTEGER (or SMALLINT) column widened to BIGINT; a non-key column of a non-label
    table when there is one."""
    narrow = [
        c for cols in s.columns.values() for c in cols if c.data_type in {"INTEGER", "SMALLINT"}
    ]
    keyed = {(k.table, k.column) for k in s.keys}
    preferred = [
        c for c in narrow if c.table != s.shape.label_table and (c.table, c.name) not in keyed
    ]
    column = _pick(preferred or narrow, seed, "INTEGER or SMALLINT column")
    con.execute(
        f"ALTER TABLE main.{quote_ident(column.table)} ALTER COLUMN {quote_ident(column.name)}"
        " TYPE BIGINT"
    )
    return (
        _rows(con, column.table),
        [f"{column.table}.{column.name}"],
        {"old_type": column.data_type, "new_type": "BIGINT"},
    )


def append_rows(con: Connection, s: Structure, seed: int) -> Outcome:
    """The next few days of a child table at its usual rate: its latest window replayed one
    window later, unique integer ids fresh, everything else as it was."""
    options = []
    for column in _child_times(s):
        cols = s.columns[column.table]
        unique = s.unique[column.table]
        if all(c.data_type in INTEGER_TYPES for c in cols if c.name in unique):
            options.append(column)
    time_col = _pick(options, seed, "child table with an event time and integer ids")
    table = time_col.table
    t, q = quote_ident(table), quote_ident(time_col.name)
    latest = scalar(con, f"SELECT max({q}) FROM main.{t}")
    if latest is None:
        raise NotApplicable(f"{table} is empty")
    start = latest - dt.timedelta(days=APPEND_DAYS)
    window = f"{q} > CAST({literal(str(start))} AS {time_col.data_type})"
    select = []
    for c in s.columns[table]:
        name = quote_ident(c.name)
        if c.name in s.unique[table]:
            select.append(
                f"(SELECT max({name}) FROM main.{t}) + row_number() OVER (ORDER BY {q}, {name})"
            )
        elif c.name == time_col.name:
            select.append(f"{name} + INTERVAL {APPEND_DAYS} DAY")
        else:
            select.append(name)
    listed = ", ".join(quote_ident(c.name) for c in s.columns[table])
    row = con.execute(
        f"INSERT INTO main.{t} ({listed}) SELECT {', '.join(select)} FROM main.{t} WHERE {window}"
    ).fetchone()
    rows = int(row[0]) if row else 0
    if not rows:
        raise NotApplicable(f"{table} has no rows in its last {APPEND_DAYS} days")
    return rows, [table], {"appended_after": str(latest), "days": APPEND_DAYS}


def unrelated_table(con: Connection, s: Structure, seed: int) -> Outcome:
    name = "maintenance_windows"
    if name in s.columns:
        raise NotApplicable(f"table {name!r} already exists")
    con.execute(
        f"CREATE TABLE main.{quote_ident(name)} (window_code VARCHAR NOT NULL,"
        " starts_at TIMESTAMP NOT NULL, minutes INTEGER NOT NULL)"
    )
    con.execute(
        f"INSERT INTO main.{quote_ident(name)} SELECT 'MW-' || CAST(i AS VARCHAR),"
        " TIMESTAMP '2024-01-07 02:00' + INTERVAL (7 * i) DAY, 30 + CAST(i % 4 AS INTEGER) * 15"
        " FROM range(60) AS r(i)"
    )
    return 60, [name], {"new_table": name}


# --- the registry --------------------------------------------------------------------------


@dataclass(frozen=True)
class GenericFault:
    name: str
    description: str
    apply: Callable[[Connection, Structure, int], Outcome]
    expected_causes: frozenset[str] = frozenset()
    """Every cause a correct diagnosis names (empty: no cause is expected)."""
    must_refuse: bool = False
    benign: bool = False


@dataclass(frozen=True)
class GenericApplied:
    name: str
    targets: list[str]
    rows_affected: int
    details: dict[str, object] = field(default_factory=dict)


def _fault(name: str, text: str, apply: Any, *causes: str, **flags: bool) -> GenericFault:
    return GenericFault(name, text, apply, frozenset(causes), **flags)


FAULTS: dict[str, GenericFault] = {
    f.name: f
    for f in [
        _fault("g_rename_column", "A numeric column of a child table is renamed <name>_v2.",
               rename_measure, "renamed_column"),
        _fault("g_key_format", "A child's integer foreign key becomes prefixed, zero-padded"
               " text ('M-0005001').", key_format, "key_format_change"),
        _fault("g_key_case", "A text foreign key arrives lower-cased ('sku001' for 'SKU001').",
               key_case, "key_format_change"),
        _fault("g_epoch_time", "A child's event time arrives as epoch seconds (BIGINT).",
               epoch_time, "changed_type"),
        _fault("g_text_time", f"A child's event time arrives as text ('{TEXT_TIME_FORMAT}').",
               text_time, "changed_type"),
        _fault("g_cohort_relabel", "The cohort column's values change case.",
               cohort_relabel, "relabelled_categories"),
        _fault("g_cohort_dropped", "The cohort column is blanked: the cohort has no rows.",
               cohort_dropped, must_refuse=True),
        _fault("g_release", "One release: a child's event time becomes epoch seconds and a"
               " measure of another child is renamed.", release_rename_epoch,
               "changed_type", "renamed_column"),
        _fault("g_new_bool_column", "A BOOLEAN column is added to a child table.",
               new_bool_column, benign=True),
        _fault("g_new_typed_columns", "VARCHAR, DOUBLE, INTEGER and DATE columns are added to"
               " a child table.", new_typed_columns, benign=True),
        _fault("g_reorder_columns", "The entity table is recreated with its columns reversed.",
               reorder_columns, benign=True),
        _fault("g_widen_type", "An INTEGER column is widened to BIGINT.", widen_type,
               benign=True),
        _fault("g_append_rows", f"The next {APPEND_DAYS} days of a child table land at the"
               " usual rate.", append_rows, benign=True),
        _fault("g_unrelated_table", "A table nobody joins to appears.", unrelated_table,
               benign=True),
    ]
}  # fmt: skip


def apply_generic(
    path: str | Path, name: str, shape: GoalShape, *, seed: int = 0
) -> GenericApplied:
    """Apply generic fault ``name`` to the warehouse at ``path`` in one transaction.

    Raises :class:`NotApplicable` (the warehouse has nothing the fault can break) or
    ValueError (unknown fault, bad seed, no file), leaving the file unchanged.
    """
    if name not in FAULTS:
        raise ValueError(f"unknown generic fault {name!r}; valid: {', '.join(FAULTS)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    target = Path(path)
    if not target.is_file():
        raise ValueError(f"no warehouse file at {target}")
    with duckdb.connect(str(target)) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            structure = discover(con, shape)
            rows, targets, details = FAULTS[name].apply(con, structure, seed)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("CHECKPOINT")
    return GenericApplied(name=name, targets=targets, rows_affected=rows, details=details)
