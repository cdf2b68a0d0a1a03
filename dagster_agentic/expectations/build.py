"""Write a plan version's expectation suite from the profile it was built on.

Everything here is measured from the warehouse when the plan is made (the profile, plus one
reference query per table for the decile cut points that drift is measured against), so a
later run can tell what changed. Thresholds leave room for ordinary change (new rows, slightly
wider ranges) and none for the faults that break a pipeline: a missing table or column, a new
type, a unit change, relabelled categories, a burst of nulls, duplicated keys, a partial load,
a stalled feed, orphaned keys.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import duckdb

from dagster_agentic.expectations.cohort import cohort_expectations
from dagster_agentic.expectations.models import DataExpectation, ExpectationSuite
from dagster_agentic.goals.objective import Objective
from dagster_agentic.warehouse.connection import qualified_name, quote_ident
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile
from dagster_agentic.warehouse.semantics import SchemaSemantics

VOLUME_LOW, VOLUME_HIGH = 0.8, 1.5
NULL_FACTOR, NULL_SLACK = 1.5, 0.01
RANGE_MARGIN = 0.5
"""Share of the reference span allowed beyond either end of a numeric range."""
OUT_OF_RANGE_FRACTION = 0.0005
UNKNOWN_VALUE_FRACTION = 0.01
MAX_ACCEPTED_VALUES = 30
FRESHNESS_SLACK_DAYS = 7.0
INCLUSION_SLACK = 0.02
DRIFT_MAX_PSI = 0.2
DECILES = tuple(round(i / 10, 1) for i in range(1, 10))
HOUR_WINDOW_DAYS = 30.0
HOUR_MAX_PSI = 0.25


def build_raw_suite(
    conn: duckdb.DuckDBPyConnection,
    profile: WarehouseProfile,
    semantics: SchemaSemantics,
    tables: tuple[str, ...],
    *,
    reference_time: str | None,
    schema: str = "main",
    objective: Objective | None = None,
) -> ExpectationSuite:
    """Expectations on ``tables`` (the raw tables a plan reads); with ``objective``, its
    cohort's columns are guarded too (see :mod:`dagster_agentic.expectations.cohort`)."""
    expectations: list[DataExpectation] = []
    for name in tables:
        table = profile.table(name)
        if table is None:
            continue
        own = list(_table(conn, table, profile, semantics, schema))
        if objective is not None and objective.entity_table == name:
            own = cohort_expectations(conn, table, objective, own, schema)
        expectations += own
        expectations += _freshness(conn, table, semantics, reference_time, schema)
        expectations += _drift(conn, table, semantics, schema)
        expectations += _hour_profile(conn, table, semantics, reference_time, schema)
    return ExpectationSuite(
        tables=tables, expectations=tuple(expectations), reference_time=reference_time
    )


def _table(
    conn: duckdb.DuckDBPyConnection,
    table: TableProfile,
    profile: WarehouseProfile,
    semantics: SchemaSemantics,
    schema: str,
) -> Iterator[DataExpectation]:
    name = table.name
    yield DataExpectation(kind="table_exists", table=name, reason="the plan reads it")
    yield DataExpectation(
        kind="row_count_between",
        table=name,
        min_value=int(table.row_count * VOLUME_LOW),
        max_value=int(table.row_count * VOLUME_HIGH) + 1,
        reason=f"{table.row_count:,} rows when the plan was made: a partial or doubled load"
        " changes every feature",
    )
    for column in table.columns:
        yield from _column(conn, table, column, profile, semantics, schema)


def _column(
    conn: duckdb.DuckDBPyConnection,
    table: TableProfile,
    column: ColumnProfile,
    profile: WarehouseProfile,
    semantics: SchemaSemantics,
    schema: str,
) -> Iterator[DataExpectation]:
    name, col = table.name, column.name
    role = semantics.role(name, col)
    yield DataExpectation(kind="column_exists", table=name, column=col, reason=f"a {role} column")
    yield DataExpectation(
        kind="column_type",
        table=name,
        column=col,
        data_type=column.data_type,
        reason=f"{column.data_type} when the plan was made: the feature SQL depends on it",
    )
    yield DataExpectation(
        kind="null_fraction_at_most",
        table=name,
        column=col,
        max_fraction=round(min(1.0, column.null_fraction * NULL_FACTOR + NULL_SLACK), 6),
        reason=f"{column.null_fraction:.2%} null when the plan was made",
    )
    if col in table.candidate_keys:
        yield DataExpectation(
            kind="unique", table=name, column=col, reason="a key: duplicated rows double-count"
        )
    parent = next((r for r in profile.parents_of(name) if r.child_column == col), None)
    if parent is not None:
        yield DataExpectation(
            kind="foreign_key_inclusion",
            table=name,
            column=col,
            parent=f"{parent.parent_table}.{parent.parent_column}",
            min_value=round(max(0.0, parent.inclusion - INCLUSION_SLACK), 6),
            reason=f"{parent.inclusion:.1%} of values found in {parent.parent_table}",
        )
    source = qualified_name(schema, name)
    if role == "numeric" and isinstance(column.min, int | float):
        measured = finite_range(conn, source, col)
        if measured is not None:
            low, high, odd = measured
            margin = RANGE_MARGIN * max(high - low, abs(high), 1e-9)
            yield DataExpectation(
                kind="between",
                table=name,
                column=col,
                min_value=max(low - margin, 0.0) if low >= 0 else low - margin,
                max_value=high + margin,
                max_fraction=round(
                    OUT_OF_RANGE_FRACTION + (odd * NULL_FACTOR + NULL_SLACK if odd else 0.0), 6
                ),
                reason=f"values in [{low:g}, {high:g}] when the plan was made"
                + (f" ({odd:.2%} NaN or infinite)" if odd else "")
                + ": a unit change or corrupt values fall far outside",
            )
    if (
        role in ("categorical", "boolean", "leakage_suspect")
        and column.kind in ("text", "boolean")
        and 0 < column.distinct_count <= MAX_ACCEPTED_VALUES
    ):
        values = distinct_text(conn, source, col, MAX_ACCEPTED_VALUES)
        if values:
            yield DataExpectation(
                kind="accepted_values",
                table=name,
                column=col,
                values=values,
                max_fraction=UNKNOWN_VALUE_FRACTION,
                reason="the values the feature encodings were written for",
            )


def distinct_text(
    conn: duckdb.DuckDBPyConnection, source: str, column: str, limit: int
) -> tuple[str, ...]:
    """Every non-null value of ``column`` as the validation reads it (``CAST(... AS
    VARCHAR)``: booleans as ``true``/``false``, enums by label), or none past ``limit``.

    Read from the warehouse, not from the profile's top values, so that the suite compares
    like with like on every type: a version's checks hold on the data it was planned on.
    """
    text = f"CAST({quote_ident(column)} AS VARCHAR)"
    rows = conn.execute(
        f"SELECT DISTINCT {text} FROM {source} WHERE {quote_ident(column)} IS NOT NULL"
        f" ORDER BY 1 LIMIT {int(limit) + 1}"
    ).fetchall()
    if len(rows) > limit:
        return ()
    return tuple(str(row[0]) for row in rows)


def finite_range(
    conn: duckdb.DuckDBPyConnection, source: str, column: str
) -> tuple[float, float, float] | None:
    """(min, max) of the finite values of a numeric column, and the share of its non-null
    values that are NaN or infinite (floats only). None when no value is finite."""
    value = f"CAST({quote_ident(column)} AS DOUBLE)"
    row = conn.execute(
        f"SELECT min({value}) FILTER (WHERE isfinite({value})),"
        f" max({value}) FILTER (WHERE isfinite({value})),"
        f" avg(CASE WHEN isfinite({value}) THEN 0.0 ELSE 1.0 END)"
        f" FROM {source} WHERE {quote_ident(column)} IS NOT NULL"
    ).fetchone()
    if not row or row[0] is None or row[1] is None:
        return None
    return float(row[0]), float(row[1]), float(row[2] or 0.0)


def _freshness(
    conn: duckdb.DuckDBPyConnection,
    table: TableProfile,
    semantics: SchemaSemantics,
    reference_time: str | None,
    schema: str,
) -> Iterator[DataExpectation]:
    column = _event_time(table, semantics)
    if column is None or not reference_time:
        return
    time = column.name
    t = quote_ident(time)
    row = conn.execute(
        f"SELECT date_diff('second', max(CAST({t} AS TIMESTAMP)), CAST(? AS TIMESTAMP)) / 86400.0"
        f" FROM {qualified_name(schema, table.name)} WHERE CAST({t} AS TIMESTAMP) < CAST(? AS"
        " TIMESTAMP)",
        [reference_time, reference_time],
    ).fetchone()
    gap = float(row[0]) if row and row[0] is not None else None
    if gap is None:
        return
    yield DataExpectation(
        kind="fresh_within_days",
        table=table.name,
        column=time,
        max_days=round(gap + FRESHNESS_SLACK_DAYS, 3),
        reason=f"the latest row before the prediction time was {gap:.1f} days before it:"
        " a stalled feed leaves recent behaviour empty",
    )


def _event_time(table: TableProfile, semantics: SchemaSemantics) -> ColumnProfile | None:
    """The column recording when rows of an activity table happened, if it has one."""
    described = semantics.table(table.name)
    if described is None or described.role == "entity" or not described.event_time:
        return None
    return table.column(described.event_time)


def _drift(
    conn: duckdb.DuckDBPyConnection, table: TableProfile, semantics: SchemaSemantics, schema: str
) -> Iterator[DataExpectation]:
    numeric = [
        c
        for c in table.columns
        if semantics.role(table.name, c.name) == "numeric" and c.distinct_count > 10
    ]
    if not numeric or not table.row_count:
        return
    source = qualified_name(schema, table.name)
    cuts_row = conn.execute(
        "SELECT "
        + ", ".join(f"quantile_cont({quote_ident(c.name)}, {list(DECILES)})" for c in numeric)
        + f" FROM {source}"
    ).fetchone()
    for column, cuts in zip(numeric, cuts_row or (), strict=True):
        points = tuple(
            sorted({float(v) for v in cuts or [] if v is not None and math.isfinite(float(v))})
        )
        if len(points) < 2:
            continue
        shares = bucket_shares(conn, source, column.name, points)
        yield DataExpectation(
            kind="drift_psi_at_most",
            table=table.name,
            column=column.name,
            critical=False,
            cut_points=points,
            reference_shares=shares,
            max_psi=DRIFT_MAX_PSI,
            reason="its distribution when the plan was made: features screened on it may no"
            " longer hold",
        )


def _hour_profile(
    conn: duckdb.DuckDBPyConnection,
    table: TableProfile,
    semantics: SchemaSemantics,
    reference_time: str | None,
    schema: str,
) -> Iterator[DataExpectation]:
    """When in the day rows are recorded, recently: a clock or time-zone change moves it."""
    column = _event_time(table, semantics)
    if not reference_time or column is None or not column.data_type.startswith("TIMESTAMP"):
        return
    shares = hour_shares(conn, qualified_name(schema, table.name), column.name, reference_time)
    if sum(shares) == 0:
        return
    yield DataExpectation(
        kind="hour_profile_psi_at_most",
        table=table.name,
        column=column.name,
        critical=False,
        reference_shares=shares,
        max_psi=HOUR_MAX_PSI,
        window_days=HOUR_WINDOW_DAYS,
        reason="the hours of the day rows were recorded at in the last"
        f" {HOUR_WINDOW_DAYS:g} days before the prediction time: a time-zone or clock change"
        " shifts every window feature",
    )


def hour_shares(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    column: str,
    reference_time: str,
    window_days: float = HOUR_WINDOW_DAYS,
) -> tuple[float, ...]:
    """Share of rows per hour of the day (24), in the window before ``reference_time``."""
    t = f"CAST({quote_ident(column)} AS TIMESTAMP)"
    ref = "CAST(? AS TIMESTAMP)"
    rows = dict(
        conn.execute(
            f"SELECT hour({t}), count(*) FROM {source} WHERE {t} < {ref}"
            f" AND {t} >= {ref} - INTERVAL {int(window_days)} DAY GROUP BY 1",
            [reference_time, reference_time],
        ).fetchall()
    )
    total = sum(rows.values())
    return tuple(round(rows.get(h, 0) / total, 6) if total else 0.0 for h in range(24))


def bucket_shares(
    conn: duckdb.DuckDBPyConnection, source: str, column: str, cut_points: tuple[float, ...]
) -> tuple[float, ...]:
    """Share of non-null values in each bucket between ``cut_points`` (len + 1 buckets)."""
    col = quote_ident(column)
    bucket = " + ".join(f"({col} > {p!r})::INTEGER" for p in cut_points)
    rows = dict(
        conn.execute(
            f"SELECT {bucket} AS b, count(*) FROM {source} WHERE {col} IS NOT NULL GROUP BY 1"
        ).fetchall()
    )
    total = sum(rows.values()) or 1
    return tuple(round(rows.get(i, 0) / total, 6) for i in range(len(cut_points) + 1))
