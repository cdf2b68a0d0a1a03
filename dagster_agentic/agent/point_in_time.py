"""Point in time as a planning rule: what a plan may read, and how, before the cutoff.

Whatever kernel proposed the feature groups, the planner enforces three things here:

* **Times that arrived encoded are read as times.** Every column the schema's semantics read
  as a time from text or epoch numbers gets a ``parse_time`` adapter in the plan, so the
  relation behind ``source('raw', t)`` holds a TIMESTAMP and every cutoff filter and window
  compares times, in the dbt models, the dry run, screening and the expectations alike.
* **A table with many rows per entity is read as of the cutoff, or not at all.** Under a goal
  with a cutoff, a child or path group with no event time (or whose path table has none) is
  left out with the reason, never aggregated across all time.
* **What is static is said to be static**: entity attributes and dimension lookups.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from dagster_agentic.expectations.models import ExpectationSuite
from dagster_agentic.goals.objective import Objective
from dagster_agentic.plan.models import ColumnFix, FeatureGroup, Plan, SourceAdapter
from dagster_agentic.warehouse.semantics import SchemaSemantics

NULL_SLACK = 0.02
"""Null share a parsed time column may gain over what it had when planned (as the suite's)."""


def time_adapters(semantics: SchemaSemantics, tables: Iterable[str]) -> tuple[SourceAdapter, ...]:
    """One adapter per table of ``tables`` that has columns read as times from text/epochs."""
    out = []
    for table in dict.fromkeys(tables):
        readings = [r for r in semantics.times if r.table == table]
        if not readings:
            continue
        out.append(
            SourceAdapter(
                table=table,
                columns=tuple(
                    ColumnFix(
                        kind="parse_time",
                        column=r.column,
                        format=r.format,
                        epoch_unit=r.epoch_unit,
                    )
                    for r in readings
                ),
                reasons=tuple(f"read as a time: {r.described}" for r in readings),
            )
        )
    return tuple(out)


def enforce_point_in_time(
    groups: tuple[FeatureGroup, ...], objective: Objective, semantics: SchemaSemantics
) -> tuple[tuple[FeatureGroup, ...], tuple[str, ...]]:
    """(groups that read as of the cutoff, why each other one was left out).

    Without a cutoff there is no point in time to keep; every group stays.
    """
    if not objective.cutoff_column:
        return groups, ()
    kept, reasons = [], []
    for group in groups:
        if group.kind == "entity_attributes":
            kept.append(group)
            continue
        if not group.time_column:
            reasons.append(
                f"left out group {group.name}: {group.source_table} has many rows per entity"
                " and the plan reads no event time for it, so it cannot be read as of the"
                " cutoff (it is never aggregated across all time)"
            )
        elif group.via is not None and not group.via.time_column:
            reasons.append(
                f"left out group {group.name}: its path table {group.via.table} has no event"
                " time, so the path cannot be read as of the cutoff"
            )
        else:
            kept.append(group)
    return tuple(kept), tuple(reasons)


def static_reads(plan: Plan) -> tuple[str, ...]:
    """What the plan reads as static (not filtered by time), said once per table."""
    entity = [g.source_table for g in plan.feature_groups if g.kind == "entity_attributes"]
    lookups = [lookup for g in plan.feature_groups for lookup in g.lookups]
    static = {lookup.table: lookup for lookup in lookups if not lookup.time_key}
    timed = {lookup.table: lookup for lookup in lookups if lookup.time_key}
    lines = [f"{t}: entity attributes, one row per entity, static" for t in dict.fromkeys(entity)]
    lines += [f"{t}: a dimension looked up by key, static" for t in static if t not in entity]
    lines += [
        f"{t}: a dimension looked up by key and {lookup.time_key}, as of the prediction time"
        for t, lookup in timed.items()
        if t not in entity
    ]
    return tuple(lines)


def suite_for_adapters(
    conn: duckdb.DuckDBPyConnection, suite: ExpectationSuite, plan: Plan, relations: dict[str, str]
) -> ExpectationSuite:
    """The raw suite as the plan reads its parsed time columns: a TIMESTAMP, with the share of
    values that do not parse counted as nulls (checked on the adapted relation)."""
    parsed = {
        (a.table, fix.column) for a in plan.sources for fix in a.columns if fix.kind == "parse_time"
    }
    if not parsed:
        return suite
    nulls: dict[tuple[str, str], float] = {}
    for table, column in parsed:
        relation = relations.get(table)
        if relation is None:
            continue
        from dagster_agentic.warehouse.connection import quote_ident

        row = conn.execute(
            f"SELECT avg(CASE WHEN {quote_ident(column)} IS NULL THEN 1.0 ELSE 0.0 END)"
            f" FROM {relation} AS a"
        ).fetchone()
        nulls[(table, column)] = float(row[0] or 0.0) if row else 0.0
    expectations = []
    for e in suite.expectations:
        key = (e.table, e.column or "")
        if key in parsed and e.kind == "column_type":
            e = e.model_copy(update={"data_type": "TIMESTAMP"})
        elif key in nulls and e.kind == "null_fraction_at_most":
            floor = round(min(1.0, nulls[key] + NULL_SLACK), 6)
            e = e.model_copy(update={"max_fraction": max(e.max_fraction or 0.0, floor)})
        expectations.append(e)
    return suite.model_copy(update={"expectations": tuple(expectations)})


def raw_typed(semantics: SchemaSemantics) -> SchemaSemantics:
    """``semantics`` without event times read by parsing: for code that reads raw tables with
    a plain cast (freshness and hour-profile expectations), which such a column would break."""
    parsed = {(r.table, r.column) for r in semantics.times}
    tables = tuple(
        t.model_copy(update={"event_time": None}) if (t.table, t.event_time) in parsed else t
        for t in semantics.tables
    )
    return semantics.model_copy(update={"tables": tables})
