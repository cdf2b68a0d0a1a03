"""The leakage audit's comparison, in DuckDB: each feature group as planned, and again on the
warehouse without the rows recorded at or after a cutoff.

The sampled label rows are a TEMP table read in the label table's place, so the plan's own
feature SQL (``feature_group_sql``, under the plan's adapters) computes only sampled rows; each
aggregated table is replaced by a TEMP view of its rows before the cutoff by the audit's own
reading of its event time. Only counts and one example per differing feature leave DuckDB.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import duckdb

from dagster_agentic.features.adapters import plan_ref
from dagster_agentic.features.sql import TableRef, feature_group_sql, spine_cte, warehouse_ref
from dagster_agentic.guardrails.cost import check_cost
from dagster_agentic.guardrails.sql_policy import check_select
from dagster_agentic.plan.models import FeatureGroup, Plan
from dagster_agentic.warehouse.connection import (
    Warehouse,
    literal,
    qualified_name,
    quote_ident,
    to_scalar,
)
from dagster_agentic.warehouse.models import ScalarValue
from dagster_agentic.warehouse.times import TimeReading

RELATIVE_TOLERANCE = 1e-6
"""Numbers this close (relative to their size) are equal: sums in another order may differ."""

_PREFIX = "__agentic_audit"

EventTimes = dict[str, tuple[str, TimeReading | None]]
"""Plan table -> (its event time column, the reading when it is parsed from text/epochs)."""


class Differing(NamedTuple):
    """A feature whose values differ without the later rows: the raw facts of a leak."""

    group: str
    column: str
    rows_compared: int
    rows_differing: int
    example: dict[str, ScalarValue]


def check_groups(conn: duckdb.DuckDBPyConnection, warehouse: Warehouse, plan: Plan) -> None:
    """The SQL policy and the cost guard on each group's query, as the plan would run it."""
    ref = plan_ref(plan, warehouse_ref(plan.warehouse_schema, plan.models_schema))
    raw = {f"{plan.warehouse_schema}.{t.name}".lower() for t in plan.raw_tables}
    for group in plan.feature_groups:
        sql = feature_group_sql(plan.objective, group, ref)
        label = f"leakage audit of {group.name!r}"
        check_select(sql, allowed_tables=raw, label=label)
        check_cost(conn, sql, warehouse.limits, label=label)


def _name(part: str, index: int | None = None) -> str:
    return quote_ident(f"{_PREFIX}_{part}" + ("" if index is None else f"_{index}"))


def sample_spine(
    conn: duckdb.DuckDBPyConnection, plan: Plan, sample: int, max_cutoffs: int
) -> tuple[list[Any], int]:
    """The audited cutoffs (most frequent first) and a stable hash sample of spine rows at
    them, kept as the label rows they come from in a TEMP table read in the label's place."""
    objective = plan.objective
    base = plan_ref(plan, warehouse_ref(plan.warehouse_schema, plan.models_schema))
    spine = f"WITH {spine_cte(objective, base)}"
    cutoffs = [
        row[0]
        for row in conn.execute(
            f"{spine} SELECT cutoff_at, count(*) AS n FROM s WHERE cutoff_at IS NOT NULL"
            f" GROUP BY 1 ORDER BY n DESC, cutoff_at DESC LIMIT {int(max_cutoffs)}"
        ).fetchall()
    ]
    if not cutoffs:
        return [], 0
    listed = ", ".join(_timestamp(c) for c in cutoffs)
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {_name('spine')} AS {spine}"
        f" SELECT entity_id, cutoff_at FROM s WHERE cutoff_at IN ({listed})"
        f" ORDER BY hash(entity_id, cutoff_at), entity_id LIMIT {int(sample)}"
    )
    key = quote_ident(objective.label_key)
    cutoff = f"CAST(l.{quote_ident(objective.cutoff_column or '')} AS TIMESTAMP)"
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {_name('labels')} AS SELECT l.* FROM"
        f" {base('source', objective.label_table)} AS l WHERE EXISTS (SELECT 1 FROM"
        f" {_name('spine')} AS p WHERE p.entity_id = l.{key} AND p.cutoff_at = {cutoff})"
    )
    row = conn.execute(f"SELECT count(*) FROM {_name('spine')}").fetchone()
    return cutoffs, int(row[0]) if row else 0


def _timestamp(value: Any) -> str:
    return f"CAST({literal(str(value))} AS TIMESTAMP)"


def _refs(plan: Plan, cut: dict[str, str]) -> TableRef:
    """References that read the sampled labels, and ``cut`` (physical table -> relation) in
    place of the raw tables, under the plan's own adapters."""
    warehouse = warehouse_ref(plan.warehouse_schema, plan.models_schema)

    def base(kind: Any, name: str) -> str:
        if kind == "source" and name in cut:
            return cut[name]
        return warehouse(kind, name)

    adapted = plan_ref(plan, base)
    labels = _name("labels")

    def ref(kind: Any, name: str) -> str:
        if kind == "source" and name == plan.objective.label_table:
            return labels
        return adapted(kind, name)

    return ref


def _truncate(
    conn: duckdb.DuckDBPyConnection,
    plan: Plan,
    times: EventTimes,
    cutoff: Any,
) -> dict[str, str]:
    """TEMP views of the aggregated tables without their rows at or after ``cutoff``."""
    from dagster_agentic.warehouse.semantics import time_sql

    cut: dict[str, str] = {}
    for index, (table, (column, reading)) in enumerate(sorted(times.items())):
        physical = plan.physical(table)
        at = time_sql(quote_ident(column), reading)
        view = _name("cut", index)
        conn.execute(
            f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM"
            f" {qualified_name(plan.warehouse_schema, physical)}"
            f" WHERE {at} IS NULL OR {at} < {_timestamp(cutoff)}"
        )
        cut[physical] = view
    return cut


def _differ(a: str, b: str) -> str:
    x, y = f"TRY_CAST({a} AS DOUBLE)", f"TRY_CAST({b} AS DOUBLE)"
    return (
        f"(CASE WHEN {a} IS NULL AND {b} IS NULL THEN FALSE"
        f" WHEN {a} IS NULL OR {b} IS NULL THEN TRUE"
        f" WHEN {x} IS NOT NULL AND {y} IS NOT NULL"
        f" THEN abs({x} - {y}) > {RELATIVE_TOLERANCE!r} * greatest(1.0, abs({x}), abs({y}))"
        f" ELSE CAST({a} AS VARCHAR) IS DISTINCT FROM CAST({b} AS VARCHAR) END)"
    )


def compare(
    conn: duckdb.DuckDBPyConnection,
    plan: Plan,
    times: EventTimes,
    cutoffs: Sequence[Any],
) -> list[Differing]:
    groups = [
        g
        for g in plan.feature_groups
        if g.kind != "entity_attributes"
        and all(t in times for t in (g.source_table, *((g.via.table,) if g.via else ())))
    ]
    if not groups:
        return []
    real = _refs(plan, {})
    for index, group in enumerate(groups):
        sql = feature_group_sql(plan.objective, group, real)
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {_name('real', index)} AS {sql}")
    owner = {g.column_name(f): g.name for g in groups for f in g.features}
    totals: dict[str, list[int]] = {}
    examples: dict[str, dict[str, ScalarValue]] = {}
    for cutoff in cutoffs:
        truncated = _refs(plan, _truncate(conn, plan, times, cutoff))
        for index, group in enumerate(groups):
            sql = feature_group_sql(plan.objective, group, truncated)
            conn.execute(f"CREATE OR REPLACE TEMP TABLE {_name('cut_rows')} AS {sql}")
            _count(conn, group, index, cutoff, totals, examples)
    return [
        Differing(owner[column], column, compared, differing, examples.get(column, {}))
        for column, (compared, differing) in totals.items()
        if differing
    ]


def _count(
    conn: duckdb.DuckDBPyConnection,
    group: FeatureGroup,
    index: int,
    cutoff: Any,
    totals: dict[str, list[int]],
    examples: dict[str, dict[str, ScalarValue]],
) -> None:
    """Add the rows compared and differing at ``cutoff`` to ``totals``; keep one example."""
    columns = [group.column_name(f) for f in group.features]
    join = (
        f"FROM {_name('real', index)} AS r JOIN {_name('cut_rows')} AS c"
        " ON c.entity_id IS NOT DISTINCT FROM r.entity_id AND c.cutoff_at = r.cutoff_at"
        f" WHERE r.cutoff_at = {_timestamp(cutoff)}"
    )
    counts = ", ".join(
        f"count(*) FILTER (WHERE {_differ(f'r.{quote_ident(c)}', f'c.{quote_ident(c)}')})"
        for c in columns
    )
    row = conn.execute(f"SELECT count(*), {counts} {join}").fetchone()
    assert row is not None
    compared = int(row[0])
    for column, differing in zip(columns, row[1:], strict=True):
        entry = totals.setdefault(column, [0, 0])
        entry[0] += compared
        entry[1] += int(differing)
        if differing and column not in examples:
            col = quote_ident(column)
            found = conn.execute(
                f"SELECT r.entity_id, CAST(r.cutoff_at AS VARCHAR), CAST(r.{col} AS VARCHAR),"
                f" CAST(c.{col} AS VARCHAR) {join} AND {_differ(f'r.{col}', f'c.{col}')}"
                " ORDER BY r.entity_id LIMIT 1"
            ).fetchone()
            if found is not None:
                examples[column] = {
                    "entity_id": to_scalar(found[0]),
                    "cutoff_at": to_scalar(found[1]),
                    "as_planned": to_scalar(found[2]),
                    "without_later_rows": to_scalar(found[3]),
                }


def drop_temp(conn: duckdb.DuckDBPyConnection) -> None:
    """Drop the audit's TEMP objects (they would go with the connection; this is tidiness)."""
    rows = conn.execute(
        "SELECT table_name, table_type FROM information_schema.tables"
        " WHERE table_schema = 'main' AND table_catalog = 'temp' AND table_name LIKE ?",
        [f"{_PREFIX}%"],
    ).fetchall()
    for name, kind in rows:
        what = "VIEW" if kind == "VIEW" else "TABLE"
        conn.execute(f"DROP {what} IF EXISTS temp.main.{quote_ident(str(name))}")
