"""Ground a reading decided elsewhere (a language model's, field by field) in the warehouse.

A model says which column is the outcome, the task, the metric, the positive class, the
entity and the cohort; the warehouse says the rest (the keys, the label's join, the cutoff,
the classes), and checks each field the way it checks a user's overrides: a column that does
not exist, a task the column cannot carry or a cohort predicate the SQL policy refuses is an
error naming the problem, which the model is shown before it answers again.
"""

from __future__ import annotations

from dagster_agentic.errors import GoalError
from dagster_agentic.goals.objective import ClassValue, Metric, Objective, TaskType
from dagster_agentic.kernel.policy.cohort import resolve_cohort
from dagster_agentic.kernel.policy.entity import find_cutoff, resolve_entity
from dagster_agentic.kernel.policy.sql import cohort_columns
from dagster_agentic.kernel.policy.target_override import override_column
from dagster_agentic.kernel.policy.task import TaskHint, class_values, decide_task
from dagster_agentic.warehouse.models import ColumnProfile, WarehouseProfile


def ground_reading(
    profile: WarehouseProfile,
    *,
    target: str,
    task: TaskType,
    metric: Metric,
    threshold: float,
    positive_value: ClassValue | None,
    entity_table: str | None,
    cohort_sql: str | None,
    cohort_description: str,
    notes: list[str],
) -> Objective:
    """The :class:`Objective` of a reading given field by field; ``notes`` (how each field
    was decided) come first in its rationale, the warehouse's own lines after them."""
    lines = list(notes)
    label, column = override_column(profile, target)
    where = f"{label.name}.{column.name}"
    decided, task_line = decide_task(column, TaskHint(task, "the reading names the task"), where)
    if decided != task:
        raise GoalError(
            f"the task {task} does not fit the target {where}: its"
            f" {column.distinct_count} distinct {column.kind} values make it {decided}",
            fix="choose a target whose values fit the task, or the task its values fit",
        )
    lines.append(task_line)
    classes: tuple[ClassValue, ...] = ()
    positive: ClassValue = 1
    if task == "binary_classification":
        positive = _positive(column, positive_value, where)
        lines.append(f"positive class {positive!r} of {where}")
    elif task == "multiclass_classification":
        classes = class_values(column, where)
    entity = resolve_entity(profile, label, column.name, [], entity_table, lines)
    keys = {entity.label_key.lower()} | (
        {entity.key.lower()} if entity.table == label.name else set()
    )
    if column.name.lower() in keys:
        raise GoalError(
            f"the target {where} is the key that identifies each {entity.table} row, not an"
            " outcome",
            fix="name the column that holds the outcome",
        )
    cutoff = find_cutoff(
        label, lines, label_key=entity.label_key, label_is_entity=entity.table == label.name
    )
    table = profile.table(entity.table)
    assert table is not None  # resolve_entity returns a table of the profile
    sql, description = None, "all rows"
    if cohort_sql is not None:
        cohort = resolve_cohort(
            [],
            table,
            column.name if entity.table == label.name else None,
            cohort_sql,
            [],
            profile=profile,
            label=(label.name, column.name),
        )
        if (
            any(c.column.lower() == column.name.lower() for c in cohort_columns(cohort.sql))
            and entity.table == label.name
        ):
            raise GoalError(
                f"the cohort {cohort.sql!r} filters on the target {where}: the goal would be"
                " measured only on rows whose outcome is known in advance",
                fix="select the cohort by columns other than the outcome",
            )
        sql, description = cohort.sql, cohort_description or f"{table.name} where {cohort.sql}"
        lines.append(f"cohort {sql}")
    return Objective(
        task=task,
        entity_table=entity.table,
        entity_key=entity.key,
        label_table=label.name,
        label_key=entity.label_key,
        target_column=column.name,
        positive_value=positive,
        classes=classes,
        cutoff_column=cutoff,
        metric=metric,
        threshold=threshold,
        cohort_sql=sql,
        cohort_description=description,
        rationale=tuple(lines),
    )


def _positive(column: ColumnProfile, value: ClassValue | None, where: str) -> ClassValue:
    if column.kind == "boolean":
        return True
    held = [tv.value for tv in (column.values or column.top_values) if tv.value is not None]
    if value is None:
        raise GoalError(
            f"a binary reading of {where} names no positive class",
            fix=f"name which of {', '.join(repr(v) for v in held)} is the positive class",
        )
    for candidate in held:
        if str(candidate).strip().lower() == str(value).strip().lower():
            return candidate if isinstance(candidate, str | int | bool) else str(candidate)
        if isinstance(candidate, int | float) and _number(value) == float(candidate):
            return int(candidate) if float(candidate).is_integer() else str(candidate)
    raise GoalError(
        f"the positive class {value!r} is not a value of {where}",
        fix=f"name one of {', '.join(repr(v) for v in held)}",
    )


def _number(value: object) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None
