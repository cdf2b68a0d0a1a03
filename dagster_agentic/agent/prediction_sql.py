"""The SQL of a scoring: the selected entities as a spine, and the plan's features over it.

Every piece is written here from the plan and quoted names; the one piece of the goal's text,
``predictions.where``, is parsed and written anew from its tree (:func:`check_where`), and
the query it ends up in passes the SQL policy before it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from dagster_agentic.errors import GoalError
from dagster_agentic.goals.spec import Predictions
from dagster_agentic.guardrails.sql_policy import JINJA_DELIMITERS
from dagster_agentic.plan.models import Plan
from dagster_agentic.warehouse.connection import literal, quote_ident

_WHERE_FIX = (
    "set predictions.where to one boolean SQL predicate over the entity table's columns,"
    " e.g. where: \"country = 'DE'\""
)


def check_where(where: str, entity_table: str, columns: Sequence[str]) -> str:
    """A ``predictions.where`` predicate, refused unless it is one boolean expression over
    ``columns`` of the entity table: no statement, subquery, other table, template or
    parameter. Returns the predicate as sqlglot writes the parsed tree (comments dropped);
    the whole query it becomes part of also passes the SQL policy."""
    text = where.strip()
    found = [d for d in JINJA_DELIMITERS if d in text]
    if found:
        raise GoalError(
            f"predictions.where {text!r} contains the template delimiter {found[0]!r}: it is"
            " SQL, never rendered as a template",
            fix=_WHERE_FIX,
        )
    try:
        statements = (
            [s for s in sqlglot.parse(text, read="duckdb") if s is not None] if text else []
        )
    except SqlglotError as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise GoalError(
            f"predictions.where {text!r} is not valid SQL: {reason}", fix=_WHERE_FIX
        ) from None
    if len(statements) != 1:
        raise GoalError(
            f"predictions.where {text!r} must be exactly one predicate, found"
            f" {len(statements)} statements",
            fix=_WHERE_FIX,
        )
    tree = statements[0]
    if (
        isinstance(tree, exp.Query | exp.DDL | exp.DML | exp.Command)
        or tree.find(exp.Query, exp.Subquery, exp.Placeholder, exp.Parameter) is not None
    ):
        raise GoalError(
            f"predictions.where {text!r} must be a predicate over the columns of"
            f" {entity_table}, without queries or parameters",
            fix=_WHERE_FIX,
        )
    if not isinstance(
        tree,
        exp.Predicate | exp.Connector | exp.Not | exp.Paren | exp.Boolean | exp.Column | exp.Func,
    ):
        raise GoalError(f"predictions.where {text!r} is not a boolean expression", fix=_WHERE_FIX)
    known = {c.lower(): c for c in columns}
    for column in tree.find_all(exp.Column):
        if column.table and column.table.lower() != entity_table.lower():
            raise GoalError(
                f"predictions.where {text!r} reads the table {column.table!r}; it may only use"
                f" columns of the entity table {entity_table}",
                fix=_WHERE_FIX,
            )
        if column.name.lower() not in known:
            raise GoalError(
                f"predictions.where reads the column {column.name!r}, which is not a column of"
                f" {entity_table}",
                fix=f"use columns of {entity_table}: {', '.join(columns)}",
            )
    # The parsed expression, written anew: no comment or stray text of the goal survives.
    return str(tree.sql(dialect="duckdb", comments=False))


def selection_spine(plan: Plan, selection: Predictions, ref: Any, as_of: datetime | None) -> str:
    """The CTE ``s`` (entity_id, cutoff_at): the selected entities at the prediction time."""
    objective = plan.objective
    alias = quote_ident(objective.entity_table)
    key = f"{alias}.{quote_ident(objective.entity_key)}"
    conditions = [f"{key} IS NOT NULL"]
    if selection.where:
        conditions.append(f"({selection.where})")
    if selection.entities == "unlabelled":
        conditions.append(
            f"NOT EXISTS (SELECT 1 FROM {ref('source', objective.label_table)} AS l"
            f" WHERE l.{quote_ident(objective.label_key)} = {key}"
            f" AND l.{quote_ident(objective.target_column)} IS NOT NULL)"
        )
    cutoff = (
        f"CAST({literal(as_of.strftime('%Y-%m-%d %H:%M:%S.%f'))} AS TIMESTAMP)"
        if as_of is not None
        else "CAST(NULL AS TIMESTAMP)"
    )
    return (
        "s AS (\n"
        f"    SELECT DISTINCT {key} AS entity_id, {cutoff} AS cutoff_at\n"
        f"    FROM {ref('source', objective.entity_table)} AS {alias}\n"
        f"    WHERE {' AND '.join(conditions)}\n"
        ")"
    )


def scoring_sql(plan: Plan, spine: str, ref: Any) -> str:
    """One row per spine row: its entity id and every feature of the plan, typed as the
    training matrix is (numbers as 4-byte floats, categories as they are)."""
    from dagster_agentic.features.sql import feature_group_sql

    ctes, joins, columns = [spine], [], []
    categorical = set(plan.categorical_columns)
    for index, group in enumerate(plan.feature_groups):
        alias = f"g{index}"
        body = feature_group_sql(plan.objective, group, ref, spine=spine)
        ctes.append(f"{alias} AS (\n{body})")
        joins.append(
            f"LEFT JOIN {alias} ON {alias}.entity_id = s.entity_id"
            f" AND {alias}.cutoff_at IS NOT DISTINCT FROM s.cutoff_at"
        )
        for feature in group.features:
            name = quote_ident(group.column_name(feature))
            value = f"{alias}.{name}"
            columns.append(
                f"{value} AS {name}"
                if group.column_name(feature) in categorical
                else f"CAST({value} AS FLOAT) AS {name}"
            )
    return (
        "WITH " + ",\n".join(ctes) + "\n"
        f"SELECT s.entity_id, {', '.join(columns)}\nFROM s\n"
        + "".join(j + "\n" for j in joins)
        + "ORDER BY s.entity_id\n"
    )


def allowed_tables(plan: Plan) -> set[str]:
    names = {t.name for t in plan.raw_tables} | {a.physical for a in plan.sources}
    return {f"{plan.warehouse_schema}.{name}".lower() for name in names}


def describe_selection(selection: Predictions) -> str:
    text = "every entity" if selection.entities == "all" else "entities without a label"
    return text + (f" where {selection.where}" if selection.where else "")
