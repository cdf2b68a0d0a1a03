"""A model's reading of a goal: the answer it gives, and how that answer becomes an objective.

The model never writes SQL. A cohort is a list of conditions (a column, an operator, values);
this module writes the predicate itself, quoting every value as a literal, and the SQL policy
checks it as it checks a user's ``overrides.cohort``. A condition on a table one hop from the
entity becomes the subquery form that policy allows. Text values must be values the warehouse
holds (when its profile lists them all), so a value the model made up is sent back, not run.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dagster_agentic.errors import GoalError
from dagster_agentic.goals.objective import Metric, TaskType
from dagster_agentic.kernel.policy.sql import ident
from dagster_agentic.warehouse.connection import quote_ident
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

Scalar = str | int | float | bool
Operator = Literal[
    "=", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "is null", "is not null"
]
Part = Literal["year", "month", "day_of_week", "hour"]
_PART_SQL = {"year": "year", "month": "month", "day_of_week": "isodow", "hour": "hour"}
_ARITY = {"between": 2, "is null": 0, "is not null": 0, "in": -1, "not in": -1}


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CohortCondition(_Answer):
    column: str = Field(description="'table.column' of the entity table or a table one hop away.")
    op: Operator
    values: list[Scalar] = Field(default_factory=list, description="Literal values, as data.")
    part: Part | None = Field(
        default=None, description="Compare a part of a date column (its year, month, ...)."
    )


class ReadingAnswer(_Answer):
    """The model's reading of the objective, field by field."""

    refuse: str | None = Field(
        default=None,
        description="Why the goal cannot be served as written (a task out of scope, an outcome"
        " the warehouse does not hold, an ambiguity): then the other fields are left empty.",
    )
    candidates: list[str] = Field(
        default_factory=list, description="'table.column' outcome columns considered."
    )
    target: str | None = Field(default=None, description="The outcome, as 'table.column'.")
    task: TaskType | None = None
    metric: Metric | None = None
    threshold: float | None = Field(
        default=None,
        description="A score's floor in [0, 1]; for rmse and mae a ceiling in the target's unit.",
    )
    positive_value: str | int | bool | None = Field(
        default=None, description="Binary tasks: the target's value that is the positive class."
    )
    entity_table: str | None = Field(
        default=None, description="The table whose rows are predicted; null: the label's table."
    )
    cohort: list[CohortCondition] = Field(default_factory=list)
    cohort_join: Literal["all", "any"] = "all"
    cohort_description: str = ""
    rationale: dict[str, str] = Field(
        default_factory=dict,
        description="One line per field (target, task, metric, threshold, cohort, entity):"
        " which words of the objective decided it.",
    )


def cohort_sql(
    conditions: list[CohortCondition],
    join: str,
    entity: TableProfile,
    profile: WarehouseProfile,
) -> str | None:
    """The predicate over ``entity`` the conditions describe; a :class:`GoalError` naming the
    condition that names no usable column, or a value the column does not hold."""
    if not conditions:
        return None
    clauses = [_clause(c, entity, profile) for c in conditions]
    glue = " AND " if join == "all" else " OR "
    return glue.join(f"({c})" for c in clauses) if len(clauses) > 1 else clauses[0]


def _clause(condition: CohortCondition, entity: TableProfile, profile: WarehouseProfile) -> str:
    table_name, _, column_name = condition.column.strip().rpartition(".")
    table = profile.table(table_name) if table_name else entity
    column = table.column(column_name) if table else None
    if table is None or column is None:
        raise GoalError(
            f"the cohort condition names {condition.column!r}, which is no column of the warehouse",
            fix="name a column as 'table.column' from the warehouse description",
        )
    sql = predicate(condition, column, f"{table.name}.{column.name}")
    if table.name == entity.name:
        return sql
    return _hop(sql, table, entity, profile, condition.column)


def predicate(
    condition: CohortCondition, column: ColumnProfile, where: str, alias: str = ""
) -> str:
    """The condition on ``column`` as SQL: the column as the policy writes a cohort's, or
    quoted after ``alias`` as feature SQL reads it."""
    operand = f"{alias}.{quote_ident(column.name)}" if alias else ident(column.name)
    if condition.part is not None:
        if column.kind != "temporal":
            raise GoalError(
                f"the cohort condition takes the {condition.part} of {where}, which is no date",
                fix="compare the column itself, or take a part of a date column",
            )
        operand = f"{_PART_SQL[condition.part]}({operand})"
    arity = _ARITY.get(condition.op, 1)
    values = condition.values
    if (arity >= 0 and len(values) != arity) or (arity < 0 and not values):
        wanted = "one or more values" if arity < 0 else f"{arity} value(s)"
        raise GoalError(
            f"the cohort condition {condition.op!r} on {where} takes {wanted}, got {len(values)}",
            fix="give the operator the values it compares with",
        )
    listed = condition.op in {"in", "not in"}
    literals = [_literal(v, column, where, condition.part is not None, listed) for v in values]
    if listed and column.kind == "text" and column.values:
        held = {str(v.value) for v in column.values}
        if not any(str(v).lower() in {h.lower() for h in held} for v in values):
            shown = ", ".join(repr(h) for h in sorted(held)[:20])
            raise GoalError(
                f"none of {', '.join(repr(str(v)) for v in values[:10])} is a value of {where};"
                f" its values: {shown}",
                fix="list values exactly as the column holds them",
            )
    if condition.op in {"is null", "is not null"}:
        return f"{operand} {condition.op.upper()}"
    if condition.op == "between":
        return f"{operand} BETWEEN {literals[0]} AND {literals[1]}"
    if condition.op in {"in", "not in"}:
        return f"{operand} {condition.op.upper()} ({', '.join(literals)})"
    return f"{operand} {condition.op} {literals[0]}"


def _literal(value: Scalar, column: ColumnProfile, where: str, part: bool, listed: bool) -> str:
    """``value`` as a SQL literal for ``column``. A text value must be one the column holds
    (any case), except in a list (``listed``, one of whose values must be): there a value the
    column does not hold yet selects nothing today and the rows that gain it later."""
    if part or column.kind == "numeric":
        number = _number(value)
        if number is None:
            raise GoalError(
                f"the cohort compares the numeric {where} with {value!r}, which is no number",
                fix="compare a numeric column with a number",
            )
        whole = number.is_integer() and abs(number) < 2**53
        return repr(int(number)) if whole else repr(number)
    if column.kind == "boolean":
        if not isinstance(value, bool) and str(value).lower() not in {"true", "false"}:
            raise GoalError(
                f"the cohort compares the yes/no {where} with {value!r}",
                fix="compare a boolean column with true or false",
            )
        return "TRUE" if str(value).lower() == "true" else "FALSE"
    text = str(value)
    if column.kind == "text":
        held = [str(v.value) for v in column.values if v.value is not None]
        if column.values and text not in held:
            close = [h for h in held if h.lower() == text.lower()]
            if len(close) != 1 and listed:
                return _quoted(text)
            if len(close) != 1:
                shown = ", ".join(repr(h) for h in held[:20])
                raise GoalError(
                    f"{text!r} is not a value of {where}; its values: {shown}",
                    fix="use a value exactly as the column holds it",
                )
            text = close[0]
    return _quoted(text)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _number(value: Scalar) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _hop(
    predicate: str,
    table: TableProfile,
    entity: TableProfile,
    profile: WarehouseProfile,
    named: str,
) -> str:
    """``predicate`` over a table one foreign key from ``entity``, as a predicate on it."""
    for link in profile.relationships:
        if link.child_table == entity.name and link.parent_table == table.name:
            # The entity points at a parent row (a dimension): its key is among the parent's.
            return (
                f"{ident(link.child_column)} IN (SELECT {ident(link.parent_column)}"
                f" FROM {ident(table.name)} WHERE {predicate})"
            )
        if link.parent_table == entity.name and link.child_table == table.name:
            # Rows of a child table point at the entity: some row of it meets the condition.
            return (
                f"{ident(link.parent_column)} IN (SELECT {ident(link.child_column)}"
                f" FROM {ident(table.name)} WHERE {predicate})"
            )
    raise GoalError(
        f"the cohort condition names {named!r}, but {table.name} is not one foreign key from"
        f" the entity table {entity.name}",
        fix=f"select the cohort by columns of {entity.name} or of a table it links to",
    )
