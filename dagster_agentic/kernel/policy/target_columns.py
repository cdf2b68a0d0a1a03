"""Which columns of a warehouse can be a goal's outcome at all, before any word is read.

Not a key that identifies rows (text, or a run of whole numbers), not a time, not a column
named like a key, not a foreign key to another entity (a code into a small dimension of
classes may be), not a column that enumerates a table's grain (a price list's brand); and of
the kind the task needs: two values, a few classes, or a quantity.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dagster_agentic.goals.objective import MAX_CLASSES, TaskType
from dagster_agentic.kernel.policy.text import name_tokens
from dagster_agentic.warehouse.key_names import has_key_name
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

_KEY_SUFFIX = re.compile(r"(?i:(^|_)(id|key|ref|uuid|guid|pk|fk)$)|[a-z](Id|ID|Key|Ref)$")
CLASSES: TaskType = "classification"  # type: ignore[assignment]


def fits(column: ColumnProfile, task: TaskType | None, table: TableProfile) -> bool:
    """Whether ``column`` can be the target of ``task`` (any task when None)."""
    if (
        column.name in table.candidate_keys
        and not column.is_binary
        and is_identifier(column, table)
    ):
        return False
    if column.kind == "temporal" or column.distinct_count < 2 or _KEY_SUFFIX.search(column.name):
        return False
    binary = column.is_binary
    categorical = column.kind in {"text", "boolean", "numeric"} and (
        3 <= column.distinct_count <= MAX_CLASSES
    )
    numeric = column.kind == "numeric" and column.distinct_count > 2
    if task == "binary_classification":
        return binary
    if task == "multiclass_classification":
        return categorical and not binary
    if task == "regression":
        return numeric
    if task == CLASSES:
        return binary or categorical
    return binary or categorical or numeric


def is_identifier(column: ColumnProfile, table: TableProfile) -> bool:
    """A unique column that identifies rows rather than measures them: text, or a run of
    whole numbers (1..n). A unique price or area is a quantity, a fine regression target."""
    if column.kind != "numeric":
        return True
    low, high = column.min, column.max
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return True
    whole = float(low).is_integer() and float(high).is_integer()
    return whole and float(high) - float(low) + 1 <= 1.01 * max(table.row_count, 1)


def candidate_columns(
    profile: WarehouseProfile, task: TaskType | None
) -> list[tuple[TableProfile, ColumnProfile]]:
    # A key to another entity is no outcome; a code pointing into a small dimension of
    # classes ('chosen_mode' -> fishing_modes) may be.
    foreign = {
        (r.child_table, r.child_column)
        for r in profile.relationships
        if (parent := profile.table(r.parent_table)) is None or parent.row_count > MAX_CLASSES
    }
    # A small table other tables point into is a dimension: its rows are their categories
    # (5 heating systems), too few to learn an outcome from; its columns describe them.
    dimensions = {
        r.parent_table
        for r in profile.relationships
        if (parent := profile.table(r.parent_table)) is not None
        and parent.row_count <= MAX_CLASSES
        and r.child_table != r.parent_table
    }
    # The key other tables point at identifies rows (pigs.pk_pig of final_weights.fk_pig),
    # however its values run: never an outcome.
    referenced = {(r.parent_table, r.parent_column) for r in profile.relationships}
    return [
        (t, c)
        for t in profile.tables
        for c in t.columns
        if (t.name, c.name) not in foreign
        and ((t.name, c.name) not in referenced or c.is_binary)
        and t.name not in dimensions
        and fits(c, task, t)
        and enumerated_by(profile, t, c) is None
    ]


def enumerated_by(
    profile: WarehouseProfile, table: TableProfile, column: ColumnProfile
) -> str | None:
    """The key column of ``table`` whose every value has each value of ``column`` once, if any.

    A price list with one row per purchase and brand has a Brand column that takes every
    brand once within each purchase: it is part of the row's grain, not an outcome (a label
    has one value per entity, or per entity and time). Read from the profile: every value of
    the column occurs exactly as many times as the key has values, and the table holds
    exactly keys x values rows.
    """
    listed = [v for v in column.values if v.value is not None]
    if column.kind not in {"text", "boolean", "numeric"} or len(listed) < 2:
        return None
    if len(listed) != column.distinct_count or column.null_fraction:
        return None
    for link in profile.parents_of(table.name):
        key = table.column(link.child_column)
        if key is None or key.null_fraction or not 1 < key.distinct_count < table.row_count:
            continue
        groups = key.distinct_count
        if table.row_count == groups * len(listed) and all(v.count == groups for v in listed):
            return key.name
    return None


def is_key(profile: WarehouseProfile, table: TableProfile, column: ColumnProfile) -> bool:
    """A column that links rows (either end of a relationship), or a unique one named as a
    key (``pk_participant``; a unique SalePrice is a measurement): never an outcome."""
    linked = any(
        (r.child_table, r.child_column) == (table.name, column.name)
        or (r.parent_table, r.parent_column) == (table.name, column.name)
        for r in profile.relationships
    )
    return linked or (column.name in table.candidate_keys and has_key_name(column.name))


def numbered_column(
    profile: WarehouseProfile, task: TaskType, numbers: Sequence[str], notes: list[str]
) -> tuple[TableProfile, ColumnProfile] | None:
    """The one column of the task's kind whose name holds a number the objective writes
    ('ended before 37 weeks' of preterm_lt37wk), when no word names a column: a number in a
    name is as particular as a word of it. None when no column, or several, hold one."""
    written = {n.lstrip("0") or "0" for n in numbers}
    held = [
        (table, column, number)
        for table, column in candidate_columns(profile, task)
        for number in _name_numbers(column.name)
        if number in written
    ]
    if len({(t.name, c.name) for t, c, _ in held}) != 1:
        return None
    table, column, number = held[0]
    notes.append(
        f"target {table.name}.{column.name}: no word names a column of the task's kind, and it"
        f" is the one such column whose name holds the number {number!r} the objective writes"
    )
    return table, column


def _name_numbers(name: str) -> set[str]:
    """The numbers inside a column's name: '37' of preterm_lt37wk, '1992' of died_by_1992."""
    return {
        digits.lstrip("0") or "0"
        for part in name_tokens(name)
        for digits in re.findall(r"\d+", part)
    }
