"""What each table and column *means* for a prediction: its semantic role, with the evidence.

The warehouse profile says what the data looks like; this module says how a goal may use it.
Roles come from names, types and the profile's statistics, and, where only the data can tell,
from a few aggregate queries run in DuckDB against the goal's label table:

* **leakage suspect, recorded after the prediction time**: a time column (other than the row's
  event time) whose value is at or after the entity's cutoff on rows that *are* visible at the
  cutoff (e.g. ``subscriptions.ended_at``), and the state columns that move with it (a
  ``status`` that tells whether that time is set). Such rows were updated after they were
  written, so they describe today, not the prediction time.
* **leakage suspect, a near-copy of the label**: an entity-level column whose values determine
  the label (uncertainty coefficient of the label given the binned column >= 0.8), and every
  other column of a separate label table (recorded with the outcome).

Time columns that arrived as text or epoch numbers are read as times too (``times.py``): a
column whose sampled values parse with one format of a fixed allow-list is a time column, and
the plan reads it through a ``parse_time`` adapter. Only counts per bucket leave the warehouse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from dagster_agentic.goals.objective import Objective
from dagster_agentic.warehouse.connection import qualified_name, quote_ident
from dagster_agentic.warehouse.extensions import entity_joins, row_tables
from dagster_agentic.warehouse.information import uncertainty
from dagster_agentic.warehouse.label_copies import label_copies
from dagster_agentic.warehouse.label_derivations import label_derivations
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile
from dagster_agentic.warehouse.times import TimeReading, read_table_times, time_expression

ColumnRole = Literal[
    "identifier",
    "foreign_key",
    "event_time",
    "timestamp",
    "prediction_time",
    "label",
    "leakage_suspect",
    "categorical",
    "numeric",
    "boolean",
    "free_text",
    "high_cardinality",
    "constant",
    "other",
]
# Entity columns a near-copy of the label can hide in.
_COPY_ROLES = frozenset({"numeric", "categorical", "boolean", "timestamp", "high_cardinality"})
TableRole = Literal["entity", "label", "event", "child", "grandchild", "dimension", "unrelated"]

MAX_CATEGORIES = 100
"""Text columns with more distinct values are free text or codes, not categories."""
FREE_TEXT_MIN_LENGTH = 15
"""Average length above which a high-cardinality text column is free text (notes, comments)."""
LATE_SHARE = 0.001
"""Share of visible rows with a time after the cutoff above which the time column leaks."""
STATE_UNCERTAINTY = 0.5
"""How much of 'is the late time set' a state column may explain before it is suspect."""
BUCKETS = 20

_END_TIME = re.compile(r"(end|cancel|clos|resolv|updat|delet|churn|modif)", re.IGNORECASE)
_EVENT_TIME = re.compile(r"(time|_at$|date|timestamp|created|occurred|paid|start)", re.IGNORECASE)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnSemantics(_Frozen):
    table: str
    column: str
    role: ColumnRole
    evidence: str
    references: str | None = Field(
        default=None, description="For a foreign key: the parent as 'table.column'."
    )


class TableSemantics(_Frozen):
    table: str
    role: TableRole
    event_time: str | None = None
    rows_per_entity: float | None = None
    evidence: str = ""


class SchemaSemantics(_Frozen):
    """Roles of every table and column of a warehouse, for one objective."""

    tables: tuple[TableSemantics, ...]
    columns: tuple[ColumnSemantics, ...]
    times: tuple[TimeReading, ...] = Field(
        default=(),
        description="Columns that hold times as text or epoch numbers, and how they are read.",
    )

    def time_reading(self, table: str, column: str) -> TimeReading | None:
        return next((r for r in self.times if r.table == table and r.column == column), None)

    def table(self, name: str) -> TableSemantics | None:
        return next((t for t in self.tables if t.table == name), None)

    def role(self, table: str, column: str) -> ColumnRole:
        for c in self.columns:
            if c.table == table and c.column == column:
                return c.role
        return "other"

    def columns_of(self, table: str, *roles: ColumnRole) -> tuple[ColumnSemantics, ...]:
        return tuple(c for c in self.columns if c.table == table and (not roles or c.role in roles))

    def suspects(self) -> tuple[ColumnSemantics, ...]:
        return tuple(c for c in self.columns if c.role == "leakage_suspect")


def is_end_time_name(name: str) -> bool:
    return bool(_END_TIME.search(name))


def event_time_column(table: TableProfile, readable: Iterable[str] = ()) -> str | None:
    """The time a row was recorded: a temporal column (or one of ``readable``, columns read as
    times from text or epochs) that is not an end/update time, preferring event-like names,
    then time types, then the fewest nulls."""
    parsed = set(readable)
    temporal = [
        c
        for c in table.columns
        if (c.kind == "temporal" or c.name in parsed) and not is_end_time_name(c.name)
    ]
    ranked = sorted(
        temporal,
        key=lambda c: (
            not _EVENT_TIME.search(c.name),
            c.kind != "temporal",
            c.null_fraction,
            c.name,
        ),
    )
    return ranked[0].name if ranked else None


def measure_times(
    conn: duckdb.DuckDBPyConnection, profile: WarehouseProfile, schema: str = "main"
) -> tuple[TimeReading, ...]:
    """Readings of every text or epoch-like column that holds times (one query per table)."""
    found: list[TimeReading] = []
    for table in profile.tables:
        keys = frozenset(
            r.child_column for r in profile.parents_of(table.name) if r.inclusion > 0
        ) | frozenset(r.parent_column for r in profile.children_of(table.name))
        found += read_table_times(conn, qualified_name(schema, table.name), table, keys)
    return tuple(found)


def time_sql(column_sql: str, reading: TimeReading | None) -> str:
    """``column_sql`` as a TIMESTAMP: a time type cast, or the parse of ``reading``."""
    if reading is None:
        return f"CAST({column_sql} AS TIMESTAMP)"
    return time_expression(column_sql, format=reading.format, epoch_unit=reading.epoch_unit)


def analyse_schema(
    conn: duckdb.DuckDBPyConnection,
    profile: WarehouseProfile,
    objective: Objective,
    *,
    schema: str = "main",
    excluded: Mapping[tuple[str, str], str] | None = None,
) -> SchemaSemantics:
    """Table and column roles for ``objective``, with leakage checks run in the warehouse.
    ``excluded`` (``{(table, column): evidence}``) are columns the goal declares unusable:
    they are leakage suspects whatever the checks find."""
    times = measure_times(conn, profile, schema)
    table_roles = _table_roles(profile, objective, times)
    event_times = {t.table: t.event_time for t in table_roles}
    parsed = {(r.table, r.column): r for r in times}
    roles: dict[tuple[str, str], ColumnSemantics] = {}
    for table in profile.tables:
        for column in table.columns:
            roles[(table.name, column.name)] = _static_role(
                table,
                column,
                profile,
                objective,
                event_times.get(table.name),
                parsed.get((table.name, column.name)),
            )
    for suspect in _late_columns(conn, profile, objective, table_roles, schema, times):
        roles[(suspect.table, suspect.column)] = suspect
    for (owner, name), evidence in (excluded or {}).items():
        roles[(owner, name)] = ColumnSemantics(
            table=owner, column=name, role="leakage_suspect", evidence=evidence
        )
    # The entity's row and every table with one row per entity are read as the entity's
    # attributes: each is checked for copies of the label and for pairs it is computed from.
    for table_name, join in row_tables(profile, objective).items():
        usable = {
            name
            for (owner, name), semantics in roles.items()
            if owner == table_name and semantics.role in _COPY_ROLES and name != join
        }
        copies = label_copies(conn, profile, objective, usable, schema, table_name, join)
        # A label computed from two times may use the row's own event time (opened -> closed).
        recorded = {
            name
            for (owner, name), semantics in roles.items()
            if owner == table_name and semantics.role == "event_time"
        }
        rest = (usable | recorded) - {name for name, _ in copies}
        derived = label_derivations(conn, profile, objective, rest, schema, table_name, join)
        for name, evidence in copies + derived:
            roles[(table_name, name)] = ColumnSemantics(
                table=table_name, column=name, role="leakage_suspect", evidence=evidence
            )
    ordered = [roles[(t.name, c.name)] for t in profile.tables for c in t.columns]
    return SchemaSemantics(tables=tuple(table_roles), columns=tuple(ordered), times=times)


def _table_roles(
    profile: WarehouseProfile, objective: Objective, times: tuple[TimeReading, ...] = ()
) -> list[TableSemantics]:
    entity = objective.entity_table
    tied = set(row_tables(profile, objective)) - {entity}
    children = {r.child_table for r in profile.children_of(entity) if r.child_table != entity}
    children |= tied
    grandchildren = {
        r.child_table
        for child in children
        for r in profile.children_of(child)
        if r.child_table not in children and r.child_table != entity
    }
    readers = children | grandchildren | {entity}
    links = [(r.child_table, r.parent_table) for r in profile.relationships]
    links += [(r.child_table, r.parent_table) for r in profile.composite_relationships]
    dimensions = {
        parent for child, parent in links if child in readers and parent != entity
    } - children
    entity_profile = profile.table(entity)
    entity_rows = max(1, entity_profile.row_count if entity_profile else 1)
    out: list[TableSemantics] = []
    for table in profile.tables:
        name = table.name
        time = event_time_column(table, (r.column for r in times if r.table == name))
        per_entity = round(table.row_count / entity_rows, 3)
        if name == objective.label_table and name != entity:
            out.append(TableSemantics(table=name, role="label", evidence="holds the target"))
        elif name == entity:
            out.append(TableSemantics(table=name, role="entity", evidence="the predicted rows"))
        elif name in children:
            role: TableRole = "event" if time else "child"
            evidence = (
                f"one-to-one with {entity}"
                if name in tied
                else f"references {entity}; {per_entity:g} rows per entity"
            )
            if time:
                evidence += f", recorded at {time}"
                reading = next((r for r in times if r.table == name and r.column == time), None)
                if reading is not None:
                    evidence += f" ({reading.described})"
            out.append(
                TableSemantics(
                    table=name,
                    role=role,
                    event_time=time,
                    rows_per_entity=per_entity,
                    evidence=evidence,
                )
            )
        elif name in grandchildren:
            out.append(
                TableSemantics(
                    table=name,
                    role="grandchild",
                    event_time=time,
                    rows_per_entity=per_entity,
                    evidence=f"references a table that references {entity}",
                )
            )
        elif name in dimensions:
            out.append(
                TableSemantics(
                    table=name, role="dimension", evidence="a parent of the entity's activity"
                )
            )
        else:
            out.append(
                TableSemantics(table=name, role="unrelated", evidence=f"no path to {entity}")
            )
    return out


def _static_role(
    table: TableProfile,
    column: ColumnProfile,
    profile: WarehouseProfile,
    objective: Objective,
    event_time: str | None,
    reading: TimeReading | None = None,
) -> ColumnSemantics:
    def role(kind: ColumnRole, evidence: str, references: str | None = None) -> ColumnSemantics:
        return ColumnSemantics(
            table=table.name,
            column=column.name,
            role=kind,
            evidence=evidence,
            references=references,
        )

    name = column.name
    if table.name == objective.label_table:
        if name == objective.target_column:
            return role("label", "the goal's target")
        if name == objective.cutoff_column:
            return role("prediction_time", "the time each label is predicted at")
        if name == objective.label_key:
            return role("foreign_key", "links labels to entities", objective.entity_table)
        if table.name != objective.entity_table:
            return role("leakage_suspect", "recorded with the label, after the prediction time")
    parent = next(
        (r for r in profile.parents_of(table.name) if r.child_column == name and r.inclusion > 0),
        None,
    )
    if parent is not None:
        evidence = f"{parent.inclusion:.0%} of values found in {parent.parent_table}"
        return role(
            "foreign_key",
            f"{evidence} ({parent.evidence})",
            f"{parent.parent_table}.{parent.parent_column}",
        )
    if reading is not None:
        how = reading.described
        if name == event_time:
            return role("event_time", f"when the row was recorded: {how}")
        return role("timestamp", f"a point in time describing the row: {how}")
    if name in table.candidate_keys and column.kind in ("numeric", "text", "other"):
        return role("identifier", "unique and never null")
    if column.distinct_count <= 1:
        return role("constant", "a single value: no information")
    if column.kind == "temporal":
        if name == event_time:
            return role("event_time", "when the row was recorded")
        return role("timestamp", "a point in time describing the row")
    if column.kind == "boolean":
        return role("boolean", "two values")
    if column.kind == "numeric":
        lowered = name.lower()
        if lowered == "id" or lowered.endswith("_id"):
            return role("identifier", "an id by name, with no parent found")
        return role("numeric", f"numeric, {column.distinct_count:,} distinct values")
    if column.kind == "text":
        if column.distinct_count <= MAX_CATEGORIES:
            return role("categorical", f"{column.distinct_count} distinct values")
        return role("high_cardinality", f"{column.distinct_count:,} distinct short values")
    return role("other", f"type {column.data_type}")


def _label_join(objective: Objective, schema: str) -> tuple[str, str]:
    """(FROM-clause fragment for labels, cutoff expression) shared by the leakage queries."""
    cutoff = (
        f"CAST(l.{quote_ident(objective.cutoff_column)} AS TIMESTAMP)"
        if objective.cutoff_column
        else "NULL"
    )
    return qualified_name(schema, objective.label_table), cutoff


def _late_columns(
    conn: duckdb.DuckDBPyConnection,
    profile: WarehouseProfile,
    objective: Objective,
    tables: list[TableSemantics],
    schema: str,
    readings: tuple[TimeReading, ...] = (),
) -> list[ColumnSemantics]:
    """Time columns set after the prediction time on rows visible at it, and their state."""
    if not objective.cutoff_column:
        return []
    labels, cutoff = _label_join(objective, schema)
    key = quote_ident(objective.label_key)
    joins = entity_joins(profile, objective)
    found: list[ColumnSemantics] = []
    for semantics in tables:
        if semantics.role not in ("entity", "event", "child"):
            continue
        table = profile.table(semantics.table)
        assert table is not None
        join = objective.entity_key if semantics.role == "entity" else joins.get(table.name)
        if join is None:  # reached through another unique column of the entity: no direct id
            continue
        parsed = {r.column: r for r in readings if r.table == table.name}
        times = [
            c.name
            for c in table.columns
            if (c.kind == "temporal" or c.name in parsed)
            and c.name != semantics.event_time
            # The prediction time itself (an event entity's own time) is not recorded after it.
            and not (table.name == objective.label_table and c.name == objective.cutoff_column)
        ]
        if not times:
            continue

        def at(column: str, parsed: dict[str, TimeReading] = parsed) -> str:
            return time_sql(f"t.{quote_ident(column)}", parsed.get(column))

        visible = f"{at(semantics.event_time)} < {cutoff}" if semantics.event_time else "TRUE"
        shares = ", ".join(
            f"avg(CASE WHEN {at(c)} >= {cutoff} THEN 1.0 ELSE 0.0"
            f" END) FILTER (WHERE {at(c)} IS NOT NULL)"
            for c in times
        )
        row = conn.execute(
            f"SELECT {shares} FROM {qualified_name(schema, table.name)} AS t "
            f"JOIN {labels} AS l ON l.{key} = t.{quote_ident(join)} WHERE {visible}"
        ).fetchone()
        late = [c for c, share in zip(times, row or (), strict=True) if (share or 0) > LATE_SHARE]
        for column, share in zip(times, row or (), strict=True):
            if column in late:
                found.append(
                    ColumnSemantics(
                        table=table.name,
                        column=column,
                        role="leakage_suspect",
                        evidence=(
                            f"{float(share):.1%} of the rows visible at the prediction time have"
                            f" {column} at or after it: recorded after the prediction time"
                        ),
                    )
                )
        if late:
            found += _state_columns(conn, table, late, schema)
    return found


def _state_columns(
    conn: duckdb.DuckDBPyConnection, table: TableProfile, late: list[str], schema: str
) -> list[ColumnSemantics]:
    """Categorical columns that tell whether a late time is set: they were updated with it."""
    states = [
        c
        for c in table.columns
        if c.kind in ("text", "boolean") and 2 <= c.distinct_count <= MAX_CATEGORIES
    ]
    found: list[ColumnSemantics] = []
    for time in late:
        for column in states:
            rows = conn.execute(
                f"SELECT CAST({quote_ident(column.name)} AS VARCHAR), count(*),"
                f" count({quote_ident(time)}) FROM {qualified_name(schema, table.name)}"
                " GROUP BY 1"
            ).fetchall()
            u = uncertainty([(str(v), int(n), int(set_)) for v, n, set_ in rows])
            if u >= STATE_UNCERTAINTY:
                found.append(
                    ColumnSemantics(
                        table=table.name,
                        column=column.name,
                        role="leakage_suspect",
                        evidence=(
                            f"tells whether {time} is set (uncertainty coefficient {u:.2f}): a"
                            " state updated after the prediction time"
                        ),
                    )
                )
    return found
