"""Facts a remedy needs that a diagnosis does not carry, measured in the warehouse.

A null burst is imputed only inside its window, so the window is found from the daily null
share; a clock shift is undone only from the moment it began, found as the day from which the
hour-of-day profile looks like the new one; duplicates are ordered by every column, so the
copy that is kept is the same on every run. Each measurement is one aggregate query; no rows
leave the warehouse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from dagster_agentic.features.adapters import adapted_sources
from dagster_agentic.healing.diagnosis import Diagnosis
from dagster_agentic.kernel.protocol import diagnosis_key
from dagster_agentic.plan.models import Plan
from dagster_agentic.warehouse.connection import Warehouse, literal, qualified_name, quote_ident

BURST_MIN_EXCESS = 0.05
"""A day belongs to a null burst when its null share exceeds the reference by this much (and
is at least twice the reference)."""
NEAR_HOURS = 1
"""Hours either side of the busiest hour that count as "near" it when locating a clock shift."""


def measure(
    warehouse: Warehouse,
    plan: Plan,
    diagnoses: Sequence[Diagnosis],
    parents: Mapping[tuple[str, str], str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per diagnosis key, the facts its remedy needs (absent when none can be measured).

    ``parents`` maps (table, column) to the ``parent_table.column`` its foreign-key check names:
    a join column whose type changed is tried for a key normalisation like one whose keys
    stopped matching (``healing.keys``)."""
    relations = adapted_sources(plan)
    parents = parents or {}
    facts: dict[str, dict[str, Any]] = {}
    with warehouse.connect(read_only=True) as conn:
        for d in diagnoses:
            relation = relations.get(d.table) or qualified_name(
                plan.warehouse_schema, plan.physical(d.table)
            )
            found: dict[str, Any] | None = None
            if d.cause == "null_burst" and d.column:
                found = _burst_window(conn, plan, relation, d)
            elif d.cause == "clock_shift" and d.column:
                found = _switch_moment(conn, relation, d)
            elif d.cause in ("key_format_change", "changed_type") and d.column:
                parent = d.details.get("parent") or parents.get((d.table, d.column))
                if parent and not d.details.get("cast"):
                    found = _key_recovery(conn, plan, relations, relation, d.column, str(parent))
            elif d.cause == "duplicated_rows":
                described = conn.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
                found = {"columns": [str(row[0]) for row in described]}
            if found:
                facts[diagnosis_key(d)] = found
    return facts


def _key_recovery(
    conn: duckdb.DuckDBPyConnection,
    plan: Plan,
    relations: Mapping[str, str],
    relation: str,
    column: str,
    parent: str,
) -> dict[str, Any] | None:
    """The measured normalisation that relates ``column`` to ``parent`` again, if one does."""
    from dagster_agentic.healing.keys import recover_key

    parent_table, _, parent_column = parent.partition(".")
    if not parent_column:
        return None
    parent_relation = relations.get(parent_table) or qualified_name(
        plan.warehouse_schema, plan.physical(parent_table)
    )
    try:
        found = recover_key(conn, relation, column, parent_relation, parent_column)
    except duckdb.Error:
        return None
    return found.facts() | {"parent": parent} if found else None


def time_column_of(plan: Plan, table: str) -> str | None:
    """The event time the plan's features read ``table`` by, if any."""
    for group in plan.feature_groups:
        if group.source_table == table and group.time_column:
            return group.time_column
        if group.via is not None and group.via.table == table and group.via.time_column:
            return group.via.time_column
    return None


def _burst_window(
    conn: duckdb.DuckDBPyConnection, plan: Plan, relation: str, d: Diagnosis
) -> dict[str, Any] | None:
    time_column = time_column_of(plan, d.table)
    if time_column is None:
        return None
    reference = float(d.details.get("reference_null_fraction") or 0.0)
    threshold = max(2 * reference, reference + BURST_MIN_EXCESS)
    col, t = quote_ident(d.column or ""), f"CAST({quote_ident(time_column)} AS TIMESTAMP)"
    days = conn.execute(
        f"SELECT CAST({t} AS DATE) AS day, avg(CASE WHEN {col} IS NULL THEN 1.0 ELSE 0.0 END)"
        f" FROM {relation} WHERE {t} IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    burst = [day for day, share in days if float(share) > threshold]
    if not burst:
        return None
    since = dt.datetime.combine(burst[0], dt.time())
    until = dt.datetime.combine(burst[-1], dt.time()) + dt.timedelta(days=1)
    outside = f"({t} < CAST({literal(since.isoformat())} AS TIMESTAMP) OR {t} >= CAST("
    outside += f"{literal(until.isoformat())} AS TIMESTAMP))"
    row = conn.execute(f"SELECT median({col}) FROM {relation} WHERE {outside}").fetchone()
    if not row or row[0] is None:
        return None
    return {
        "time_column": time_column,
        "since": since.isoformat(sep=" "),
        "until": until.isoformat(sep=" "),
        "value": float(row[0]),
        "days": len(burst),
        "threshold": threshold,
    }


def _near(hour: int) -> str:
    return ", ".join(str((hour + k) % 24) for k in range(-NEAR_HOURS, NEAR_HOURS + 1))


def _switch_moment(
    conn: duckdb.DuckDBPyConnection, relation: str, d: Diagnosis
) -> dict[str, Any] | None:
    was, now = d.details.get("was"), d.details.get("busiest_hour")
    if not isinstance(was, int) or not isinstance(now, int) or was == now:
        return None
    t = f"CAST({quote_ident(d.column or '')} AS TIMESTAMP)"
    days = conn.execute(
        f"SELECT CAST({t} AS DATE), count(*),"
        f" avg(CASE WHEN hour({t}) IN ({_near(was)}) THEN 1.0 ELSE 0.0 END),"
        f" avg(CASE WHEN hour({t}) IN ({_near(now)}) THEN 1.0 ELSE 0.0 END)"
        f" FROM {relation} WHERE {t} IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    if not days:
        return None
    shifted = [(day, int(n), float(new) > float(old)) for day, n, old, new in days]
    total_shifted = sum(n for _, n, s in shifted if s)
    best, best_score, before = None, -1, 0
    after = total_shifted
    for day, n, is_shifted in shifted:
        # rows agreeing with "unshifted before `day`, shifted from `day` on"
        score = before + after
        if score > best_score:
            best, best_score = day, score
        before += 0 if is_shifted else n
        after -= n if is_shifted else 0
    if best is None:
        return None
    rows = sum(n for _, n, _ in shifted)
    return {
        "since": dt.datetime.combine(best, dt.time()).isoformat(sep=" "),
        "agreement": round(best_score / rows, 4) if rows else 0.0,
    }
