"""Render a repaired plan version's source adapters as SQL relations.

A repair never touches raw data: it changes how a plan version *reads* it. The relation behind
``source('raw', t)`` becomes a subquery over the raw table that renames, casts, rescales,
relabels, imputes or shifts columns, leaves quarantined rows out and keeps one row per key.
The same relation serves the dbt models, the warehouse's dry run, feature screening and the
version's expectations, so what is checked is exactly what the features read.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dagster_agentic.features.sql import RefKind, TableRef
from dagster_agentic.plan.models import ColumnFix, Plan, RowFilter, SourceAdapter
from dagster_agentic.warehouse.connection import literal, quote_ident
from dagster_agentic.warehouse.times import time_expression


def plan_ref(plan: Plan, base: TableRef) -> TableRef:
    """``base``, with every adapted source of ``plan`` read through its adapter."""
    if not plan.sources:
        return base

    def ref(kind: RefKind, name: str) -> str:
        adapter = plan.adapter(name) if kind == "source" else None
        if adapter is None:
            return base(kind, name)
        return adapted_relation(adapter, base, plan.physical)

    return ref


def adapted_sources(plan: Plan) -> dict[str, str]:
    """Each adapted table of ``plan`` -> the SQL relation read in its place (real names)."""
    from dagster_agentic.features.sql import warehouse_ref

    ref = plan_ref(plan, warehouse_ref(plan.warehouse_schema, plan.models_schema))
    return {adapter.table: ref("source", adapter.table) for adapter in plan.sources}


def adapted_relation(
    adapter: SourceAdapter, base: TableRef, physical: Callable[[str], str] = lambda t: t
) -> str:
    """A parenthesised SELECT over the raw table that reads like the table the plan expects."""
    source = base("source", adapter.physical)
    if not (adapter.columns or adapter.keep or adapter.dedupe_on):
        return source
    replaced: list[str] = []
    projections: list[str] = []
    for column in dict.fromkeys(fix.column for fix in adapter.columns):
        fixes = [fix for fix in adapter.columns if fix.column == column]
        read = next((f.source for f in fixes if f.kind == "rename" and f.source), column)
        replaced.append(read)
        expression = quote_ident(read)
        for fix in fixes:
            expression = _apply(fix, expression, read)
        projections.append(f"{expression} AS {quote_ident(column)}")
        projections += [
            f"{_imputed(fix, read)} AS {quote_ident(column + '__imputed')}"
            for fix in fixes
            if fix.kind == "impute"
        ]
    exclude = f" EXCLUDE ({', '.join(quote_ident(c) for c in dict.fromkeys(replaced))})"
    inner = (
        f"SELECT *{exclude}, {', '.join(projections)} FROM {source}"
        if projections
        else f"SELECT * FROM {source}"
    )
    sql = f"SELECT * FROM ({inner}) AS a"
    keep = [_kept(rule, base, physical) for rule in adapter.keep]
    if keep:
        sql += " WHERE " + " AND ".join(keep)
    if adapter.dedupe_on:
        order = ", ".join(quote_ident(c) for c in adapter.dedupe_order) or "1"
        sql += (
            f" QUALIFY row_number() OVER (PARTITION BY {quote_ident(adapter.dedupe_on)}"
            f" ORDER BY {order}) = 1"
        )
    return f"({sql})"


def _apply(fix: ColumnFix, expression: str, read: str) -> str:
    if fix.kind == "rename":
        return expression
    if fix.kind == "cast":
        return f"TRY_CAST({expression} AS {fix.data_type})"
    if fix.kind == "scale":
        scaled = f"{expression} * {fix.factor!r}"
        return f"CAST({scaled} AS {fix.data_type})" if fix.data_type else scaled
    if fix.kind == "relabel":
        cases = " ".join(f"WHEN {literal(new)} THEN {literal(old)}" for new, old in fix.mapping)
        return f"CASE {expression} {cases} ELSE {expression} END"
    if fix.kind == "impute":
        value = literal(fix.value)
        if fix.data_type:
            value = f"CAST({value} AS {fix.data_type})"
        return f"CASE WHEN {_imputed(fix, read)} THEN {value} ELSE {expression} END"
    if fix.kind == "shift_time":
        since = f"CAST({literal(fix.since)} AS TIMESTAMP)"
        return (
            f"CASE WHEN {expression} >= {since}"
            f" THEN {expression} + INTERVAL ({int(fix.hours or 0)}) HOUR ELSE {expression} END"
        )
    if fix.kind == "parse_time":
        return time_expression(expression, format=fix.format, epoch_unit=fix.epoch_unit)
    if fix.kind == "normalise_key":
        return normalised_key(expression, fix.steps, fix.data_type or "VARCHAR", fix.width)
    raise ValueError(f"unknown column fix {fix.kind!r}")


_FIRST = "\\1"
"""The regular expression's first group, as the replacement of ``strip_zeros``."""
_SAFE_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]{0,40}(\(\d{1,3}(, ?\d{1,3})?\))?$")
_KEY_STEPS: dict[str, Callable[[str, int | None], str]] = {
    "trim": lambda x, _: f"trim({x})",
    "upper": lambda x, _: f"upper({x})",
    "lower": lambda x, _: f"lower({x})",
    "strip_prefix": lambda x, _: f"regexp_replace({x}, {literal('^[^0-9]+')}, {literal('')})",
    "strip_suffix": lambda x, _: f"regexp_replace({x}, {literal('[^0-9]+$')}, {literal('')})",
    "strip_zeros": lambda x, _: f"regexp_replace({x}, {literal('^0+(.)')}, {literal(_FIRST)})",
    "pad": lambda x, width: f"lpad({x}, {int(width or 1)}, {literal('0')})",
}


def normalised_key(
    expression: str, steps: tuple[str, ...], data_type: str, width: int | None = None
) -> str:
    """A key read as text, normalised by ``steps`` (a fixed vocabulary: each step is SQL written
    here, never taken from data) and cast to the parent key's ``data_type``."""
    if not _SAFE_TYPE.match(data_type):
        raise ValueError(f"not a column type: {data_type!r}")
    text = f"CAST({expression} AS VARCHAR)"
    for step in steps:
        text = _KEY_STEPS[step](text, width)
    return f"TRY_CAST({text} AS {data_type})"


def _imputed(fix: ColumnFix, read: str) -> str:
    """True for the rows an ``impute`` fix fills: NULL inside its time window."""
    condition = f"{quote_ident(read)} IS NULL"
    if fix.time_column:
        t = f"CAST({quote_ident(fix.time_column)} AS TIMESTAMP)"
        if fix.since:
            condition += f" AND {t} >= CAST({literal(fix.since)} AS TIMESTAMP)"
        if fix.until:
            condition += f" AND {t} < CAST({literal(fix.until)} AS TIMESTAMP)"
    return f"({condition})"


def _kept(rule: RowFilter, base: TableRef, physical: Callable[[str], str]) -> str:
    col = quote_ident(rule.column)
    if rule.kind == "within":
        bounds = []
        if rule.min_value is not None:
            bounds.append(f"{col} >= {rule.min_value!r}")
        if rule.max_value is not None:
            bounds.append(f"{col} <= {rule.max_value!r}")
        return f"({col} IS NULL OR ({' AND '.join(bounds) or 'TRUE'}))"
    parent = base("source", physical(rule.parent_table or ""))
    return (
        f"({col} IS NULL OR {col} IN"
        f" (SELECT {quote_ident(rule.parent_column or '')} FROM {parent}))"
    )
