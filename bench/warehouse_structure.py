"""A DuckDB warehouse's structure as the generic faults see it, found from its data.

A foreign key is a non-unique column whose values all lie in a unique column (with enough
distinct values to be a key, not a code list) of another table, of the same type family; a
one-to-one link, like the labels', is not a reference. An event time is a table's timestamp
column. The cohort column is the entity table's column the goal's cohort predicate names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import duckdb

from dagster_agentic.warehouse.connection import quote_ident

Connection = duckdb.DuckDBPyConnection
INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"})
NUMERIC_TYPES = INTEGER_TYPES | {"DOUBLE", "FLOAT", "REAL"}
TIME_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "DATE"})
MIN_PARENT_KEYS = 10
"""A unique column with fewer distinct values is a code list, too small to tell a key by."""


class NotApplicable(ValueError):
    """The warehouse has nothing this fault can break; the file is unchanged."""


@dataclass(frozen=True)
class GoalShape:
    """What the faults need to know of the goal: its entity, labels and cohort."""

    entity_table: str
    entity_key: str
    label_table: str
    cohort_sql: str | None = None

    @classmethod
    def from_objective(cls, objective: Any) -> GoalShape:
        """From a resolved ``Objective`` (a plan's), duck-typed so tests can pass their own."""
        return cls(
            entity_table=objective.entity_table,
            entity_key=objective.entity_key,
            label_table=objective.label_table,
            cohort_sql=objective.cohort_sql,
        )


@dataclass(frozen=True)
class ForeignKey:
    """``table.column`` references the unique ``parent.parent_column`` (all values found)."""

    table: str
    column: str
    data_type: str
    parent: str
    parent_column: str


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    data_type: str
    nullable: bool


@dataclass
class Structure:
    """The warehouse as the faults see it."""

    columns: dict[str, list[Column]]
    unique: dict[str, set[str]]
    keys: list[ForeignKey]
    shape: GoalShape

    def children(self) -> list[ForeignKey]:
        """Foreign keys into the entity table from tables other than the labels."""
        return [
            k
            for k in self.keys
            if k.parent == self.shape.entity_table and k.table != self.shape.label_table
        ]

    def related(self) -> list[str]:
        """Tables that reference the entity, directly or through one of them (depth 2)."""
        direct = list(dict.fromkeys(k.table for k in self.children()))
        through = [
            k.table
            for k in self.keys
            if k.parent in direct
            and k.table not in direct
            and k.table != self.shape.label_table
            and k.table != self.shape.entity_table
        ]
        return sorted(dict.fromkeys([*direct, *through]))

    def time_column(self, table: str) -> Column | None:
        """The table's event time: its timestamp column (the first, when it has several)."""
        stamps = [c for c in self.columns[table] if c.data_type in TIME_TYPES]
        timestamps = [c for c in stamps if c.data_type != "DATE"]
        found = timestamps or stamps
        return found[0] if found else None

    def measures(self, table: str) -> list[Column]:
        """Numeric columns that are neither a key nor unique: what features aggregate."""
        keyed = {k.column for k in self.keys if k.table == table} | self.unique[table]
        return [
            c for c in self.columns[table] if c.data_type in NUMERIC_TYPES and c.name not in keyed
        ]

    def cohort_column(self) -> str | None:
        """The entity table's column the cohort predicate reads (the first, if several)."""
        if not self.shape.cohort_sql:
            return None
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", self.shape.cohort_sql))
        quoted = set(re.findall(r'"((?:[^"]|"")+)"', self.shape.cohort_sql))
        named = words | {q.replace('""', '"') for q in quoted}
        found = [c.name for c in self.columns[self.shape.entity_table] if c.name in named]
        return found[0] if found else None


def scalar(con: Connection, sql: str, params: list[object] | None = None) -> Any:
    row = con.execute(sql, params or []).fetchone()
    return None if row is None else row[0]


def _table_columns(con: Connection) -> dict[str, list[Column]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type, is_nullable = 'YES'"
        " FROM information_schema.columns WHERE table_schema = 'main'"
        " AND table_name IN (SELECT table_name FROM information_schema.tables"
        "   WHERE table_schema = 'main' AND table_type = 'BASE TABLE')"
        " ORDER BY table_name, ordinal_position"
    ).fetchall()
    out: dict[str, list[Column]] = {}
    for table, name, dtype, nullable in rows:
        out.setdefault(table, []).append(Column(table, name, dtype, bool(nullable)))
    return out


def _stats(con: Connection, table: str, column: str) -> tuple[int, int, int]:
    """Rows, non-null values and distinct values of one column."""
    q = quote_ident(column)
    row = con.execute(
        f"SELECT count(*), count({q}), count(DISTINCT {q}) FROM main.{quote_ident(table)}"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _family(data_type: str) -> str | None:
    if data_type in INTEGER_TYPES:
        return "integer"
    if data_type == "VARCHAR":
        return "text"
    return None


def discover(con: Connection, shape: GoalShape) -> Structure:
    """Columns, unique columns and foreign keys (found by value-set inclusion) of ``main``."""
    columns = _table_columns(con)
    if shape.entity_table not in columns:
        raise NotApplicable(f"the warehouse has no entity table {shape.entity_table!r}")
    stats = {
        (t, c.name): _stats(con, t, c.name)
        for t, cols in columns.items()
        for c in cols
        if _family(c.data_type)
    }
    unique: dict[str, set[str]] = {t: set() for t in columns}
    for (table, column), (rows, values, distinct) in stats.items():
        if rows and values == rows and distinct == rows:
            unique[table].add(column)
    keys: list[ForeignKey] = []
    for (table, column), (_, values, distinct) in sorted(stats.items()):
        if not values or distinct >= values:  # a reference repeats, or it would be a key
            continue
        family = _family(next(c.data_type for c in columns[table] if c.name == column))
        for parent in sorted(columns):
            if parent == table:
                continue
            for parent_column in sorted(unique[parent]):
                if stats[(parent, parent_column)][2] < MIN_PARENT_KEYS:
                    continue
                ptype = next(c.data_type for c in columns[parent] if c.name == parent_column)
                if _family(ptype) != family:
                    continue
                missing = scalar(
                    con,
                    f"SELECT count(*) FROM main.{quote_ident(table)} WHERE {quote_ident(column)}"
                    f" IS NOT NULL AND {quote_ident(column)} NOT IN (SELECT"
                    f" {quote_ident(parent_column)} FROM main.{quote_ident(parent)})",
                )
                if missing == 0:
                    dtype = next(c.data_type for c in columns[table] if c.name == column)
                    keys.append(ForeignKey(table, column, dtype, parent, parent_column))
    return Structure(columns=columns, unique=unique, keys=keys, shape=shape)
