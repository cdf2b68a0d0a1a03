"""Validate an expectation suite inside the warehouse: aggregates in, a few values out.

Per table, one aggregate query evaluates every expectation on the columns that are still there
with the type they had; schema expectations read the catalog; drift and key inclusion take one
grouped query each. A failed expectation carries its evidence: the observed value and a sample
of at most five failing values, never a table's rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import duckdb

from dagster_agentic.errors import WarehouseError
from dagster_agentic.expectations.build import HOUR_WINDOW_DAYS, bucket_shares, hour_shares
from dagster_agentic.expectations.models import DataExpectation, ExpectationResult, ExpectationSuite
from dagster_agentic.expectations.types import holds
from dagster_agentic.observability import tools
from dagster_agentic.warehouse.connection import (
    Warehouse,
    list_tables,
    literal,
    qualified_name,
    quote_ident,
    table_columns,
    to_scalar,
)

SAMPLE = 5
_PSI_FLOOR = 1e-4


def validate_suite(
    warehouse: Warehouse,
    suite: ExpectationSuite,
    *,
    schema: str = "main",
    relations: Mapping[str, str] | None = None,
) -> list[ExpectationResult]:
    """Every expectation of ``suite``. ``relations`` maps a table to the SQL relation a plan
    version reads in its place (a repaired version's adapted source), validated instead."""
    results: list[ExpectationResult] = []
    with warehouse.connect(read_only=True) as conn:
        for table in suite.tables:
            results += validate_table(conn, suite, table, schema=schema, relations=relations)
    return results


@tools.traced("expectations", tools.table_inputs, tools.results_outputs)
def validate_table(
    conn: duckdb.DuckDBPyConnection,
    suite: ExpectationSuite,
    table: str,
    *,
    schema: str = "main",
    relations: Mapping[str, str] | None = None,
) -> list[ExpectationResult]:
    expectations = suite.of(table)
    relations = relations or {}
    source = relations.get(table) or qualified_name(schema, table)
    try:
        if table in relations:
            described = conn.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            columns = [(str(row[0]), str(row[1])) for row in described]
        else:
            _, columns, _ = table_columns(conn, table, schema)
    except (WarehouseError, duckdb.Error):
        available = ", ".join(list_tables(conn, schema))
        return [
            _result(e, False, f"table {table} is missing (tables now: {available})")
            for e in expectations
        ]
    types = dict(columns)
    results, aggregated = [], []
    for e in expectations:
        missing = e.column is not None and e.column not in types
        if e.kind == "table_exists":
            results.append(_result(e, True, "present"))
        elif e.kind == "column_exists":
            observed = {"columns": sorted(types)} if missing else {}
            results.append(_result(e, not missing, "missing" if missing else "present", observed))
        elif missing:
            results.append(_result(e, False, f"column {e.column} is missing"))
        elif e.kind == "column_type":
            now = types[e.column or ""]
            same = now == e.data_type
            kept = same or holds(e.data_type or "", now)
            text = f"{now} (was {e.data_type}{'' if same or not kept else ', a widening'})"
            results.append(_result(e, kept, text, {"data_type": now}))
        elif (
            e.column is not None
            and e.kind not in ("row_count_between",)
            and _type_changed(e, types, expectations)
        ):
            results.append(_result(e, False, f"not evaluated: {e.column} changed type"))
        elif e.kind == "drift_psi_at_most":
            results.append(_drift(conn, source, e))
        elif e.kind == "hour_profile_psi_at_most":
            results.append(_hour_profile(conn, source, e, suite.reference_time))
        elif e.kind == "foreign_key_inclusion":
            parent = (e.parent or ".").split(".", 1)[0]
            results.append(
                _inclusion(conn, source, e, relations.get(parent) or qualified_name(schema, parent))
            )
        else:
            aggregated.append(e)
    results += _aggregates(conn, source, aggregated, suite.reference_time)
    order = {id(e): i for i, e in enumerate(expectations)}
    return sorted(results, key=lambda r: order.get(id(r.expectation), 0))


def _type_changed(
    e: DataExpectation, types: dict[str, str], expectations: tuple[DataExpectation, ...]
) -> bool:
    declared = next(
        (x.data_type for x in expectations if x.kind == "column_type" and x.column == e.column),
        None,
    )
    now = types.get(e.column or "")
    return declared is not None and (now is None or not holds(declared, now))


def _result(
    e: DataExpectation,
    passed: bool,
    message: str,
    observed: dict[str, Any] | None = None,
    sample: tuple[Any, ...] = (),
) -> ExpectationResult:
    return ExpectationResult(
        expectation=e,
        passed=passed,
        message=message,
        observed=observed or {},
        failing_sample=tuple(to_scalar(v) for v in sample),
    )


def _violation(e: DataExpectation) -> str | None:
    """A predicate true for a failing row's value, for expectations judged row by row."""
    col = quote_ident(e.column or "")
    if e.kind == "between":
        value = f"CAST({col} AS DOUBLE)"
        return (
            f"(NOT isfinite({value}) OR {value} < {_number(e.min_value)}"
            f" OR {value} > {_number(e.max_value)})"
        )
    if e.kind == "accepted_values":
        return f"CAST({col} AS VARCHAR) NOT IN ({', '.join(literal(v) for v in e.values)})"
    return None


def _number(value: float | None) -> str:
    """A DOUBLE literal, NaN and infinities included (``repr`` would write a bare name)."""
    number = float("nan") if value is None else float(value)
    return repr(number) if math.isfinite(number) else f"CAST('{number!r}' AS DOUBLE)"


def _aggregates(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    expectations: list[DataExpectation],
    reference_time: str | None,
) -> list[ExpectationResult]:
    if not expectations:
        return []
    exprs = []
    for e in expectations:
        col = quote_ident(e.column or "")
        if e.kind == "row_count_between":
            exprs.append("count(*)")
        elif e.kind == "null_fraction_at_most":
            exprs.append(f"avg(CASE WHEN {col} IS NULL THEN 1.0 ELSE 0.0 END)")
        elif e.kind == "unique":
            exprs.append(f"count({col}) - count(DISTINCT {col})")
        elif e.kind == "cohort_share_between":
            exprs.append(
                f"avg(CASE WHEN COALESCE(({e.predicate or 'TRUE'}), FALSE) THEN 1.0 ELSE 0.0 END)"
            )
        elif e.kind == "fresh_within_days":
            ref = f"CAST({literal(reference_time or '')} AS TIMESTAMP)"
            t = f"CAST({col} AS TIMESTAMP)"
            exprs.append(
                f"date_diff('second', max({t}) FILTER (WHERE {t} < {ref}), {ref}) / 86400.0"
            )
        else:
            exprs.append(
                f"avg(CASE WHEN {_violation(e)} THEN 1.0 ELSE 0.0 END) FILTER (WHERE {col} IS NOT"
                " NULL)"
            )
    row = conn.execute(f"SELECT {', '.join(exprs)} FROM {source}").fetchone() or ()
    return [_judge(conn, source, e, value) for e, value in zip(expectations, row, strict=True)]


def _judge(
    conn: duckdb.DuckDBPyConnection, source: str, e: DataExpectation, value: Any
) -> ExpectationResult:
    if e.kind == "row_count_between":
        n = int(value)
        ok = (e.min_value or 0) <= n <= (e.max_value or math.inf)
        return _result(
            e, ok, f"{n:,} rows (expected {e.min_value:,.0f}-{e.max_value:,.0f})", {"rows": n}
        )
    if e.kind == "null_fraction_at_most":
        share = float(value or 0.0)
        ok = share <= (e.max_fraction or 0.0)
        return _result(
            e, ok, f"{share:.2%} null (at most {e.max_fraction:.2%})", {"null_fraction": share}
        )
    if e.kind == "unique":
        duplicates = int(value or 0)
        sample = (
            ()
            if not duplicates
            else _sample(
                conn,
                f"SELECT {quote_ident(e.column or '')} FROM {source}"
                " GROUP BY 1 HAVING count(*) > 1",
            )
        )
        return _result(
            e,
            duplicates == 0,
            f"{duplicates:,} duplicated values",
            {"duplicates": duplicates},
            sample,
        )
    if e.kind == "cohort_share_between":
        share = float(value or 0.0)
        ok = (e.min_value or 0.0) <= share <= (e.max_value or 1.0)
        return _result(
            e,
            ok,
            f"the cohort holds {share:.1%} of rows (expected {e.min_value:.1%}-"
            f"{e.max_value:.1%})" + ("" if ok or share else ": it has vanished"),
            {"cohort_share": share},
        )
    if e.kind == "fresh_within_days":
        gap = None if value is None else float(value)
        ok = gap is not None and gap <= (e.max_days or 0.0)
        text = (
            "no rows before the prediction time"
            if gap is None
            else f"latest row {gap:.1f} days before the prediction time"
        )
        return _result(e, ok, f"{text} (at most {e.max_days:g})", {"days": gap})
    share = float(value or 0.0)
    ok = share <= (e.max_fraction or 0.0)
    sample = (
        ()
        if ok
        else _sample(
            conn,
            f"SELECT DISTINCT {quote_ident(e.column or '')} FROM {source} WHERE {_violation(e)}",
        )
    )
    what = "outside the expected range" if e.kind == "between" else "not among the known values"
    return _result(e, ok, f"{share:.2%} of values {what}", {"failing_fraction": share}, sample)


def _sample(conn: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    return tuple(r[0] for r in conn.execute(f"{sql} LIMIT {SAMPLE}").fetchall())


def psi(reference: tuple[float, ...], current: tuple[float, ...]) -> float:
    """Population stability index between two bucket share vectors."""
    total = 0.0
    for expected, actual in zip(reference, current, strict=True):
        e, a = max(expected, _PSI_FLOOR), max(actual, _PSI_FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def _drift(conn: duckdb.DuckDBPyConnection, source: str, e: DataExpectation) -> ExpectationResult:
    current = bucket_shares(conn, source, e.column or "", e.cut_points)
    value = psi(e.reference_shares, current)
    ok = value <= (e.max_psi or 0.0)
    return _result(
        e,
        ok,
        f"PSI {value:.3f} against the plan's reference (at most {e.max_psi:g})",
        {
            "psi": round(value, 6),
            "shares": list(current),
            "reference_shares": list(e.reference_shares),
        },
    )


def _hour_profile(
    conn: duckdb.DuckDBPyConnection, source: str, e: DataExpectation, reference_time: str | None
) -> ExpectationResult:
    current = hour_shares(
        conn, source, e.column or "", reference_time or "", e.window_days or HOUR_WINDOW_DAYS
    )
    value = psi(e.reference_shares, current)
    peak = max(range(24), key=lambda h: current[h]) if sum(current) else None
    was = max(range(24), key=lambda h: e.reference_shares[h])
    return _result(
        e,
        value <= (e.max_psi or 0.0),
        f"hour-of-day PSI {value:.3f} (at most {e.max_psi:g}); busiest hour {peak}, was {was}",
        {"psi": round(value, 6), "busiest_hour": peak, "was": was},
    )


def _inclusion(
    conn: duckdb.DuckDBPyConnection, source: str, e: DataExpectation, parent_relation: str
) -> ExpectationResult:
    parent_column = (e.parent or ".").split(".", 1)[1]
    col = quote_ident(e.column or "")
    try:
        row = conn.execute(
            f"SELECT count(*), count(p.k) FROM (SELECT DISTINCT {col} AS v FROM {source}"
            f" WHERE {col} IS NOT NULL) AS c LEFT JOIN (SELECT {quote_ident(parent_column)} AS k"
            f" FROM {parent_relation}) AS p ON c.v = p.k"
        ).fetchone()
    except duckdb.Error as error:
        return _result(e, False, f"cannot check against {e.parent}: {error}")
    n, found = (int(row[0]), int(row[1])) if row else (0, 0)
    share = found / n if n else 1.0
    sample = (
        ()
        if share >= (e.min_value or 0.0)
        else _sample(
            conn,
            f"SELECT DISTINCT c.{col} FROM {source} AS c WHERE c.{col} IS NOT NULL AND NOT EXISTS"
            f" (SELECT 1 FROM {parent_relation} AS p"
            f" WHERE p.{quote_ident(parent_column)} = c.{col})",
        )
    )
    return _result(
        e,
        share >= (e.min_value or 0.0),
        f"{share:.1%} of values found in {e.parent} (at least {e.min_value:.1%})",
        {"inclusion": round(share, 6)},
        sample,
    )
