"""The goal's ``exclude_columns``, resolved against the warehouse before anything is planned.

A user knows what the data cannot: which columns are recorded with or after the outcome (an
actual arrival time when delays are predicted at departure, a rate set from the grade being
predicted), or may not be used (a protected attribute). Each entry names a column as
``table.column`` or, when the name is unique, ``column``; every one must exist, and none may
be the target or a key the goal needs, so a typo is an error rather than a leak that goes on.
The resolved columns become leakage suspects of the schema analysis: no feature, aggregate or
lookup reads them, and the plan's rationale says why.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from dagster_agentic.errors import GoalError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.warehouse.models import WarehouseProfile

_FIX = "name each excluded column as 'table.column' (or 'column' when only one table has it)"


def resolve_exclusions(
    entries: tuple[str, ...], profile: WarehouseProfile, objective: Objective
) -> Mapping[tuple[str, str], str]:
    """``{(table, column): evidence}`` for every entry of ``exclude_columns``; raises
    ``GoalError`` naming the entry, the candidates and the fix."""
    out: dict[tuple[str, str], str] = {}
    for entry in entries:
        table_name, _, column_name = entry.strip().rpartition(".")
        matches = [
            (t.name, c.name)
            for t in profile.tables
            if not table_name or t.name.lower() == table_name.lower()
            for c in t.columns
            if c.name.lower() == column_name.lower()
        ]
        if not matches:
            names = [f"{t.name}.{c.name}" for t in profile.tables for c in t.columns]
            close = difflib.get_close_matches(entry, names, n=3, cutoff=0.6)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise GoalError(
                f"exclude_columns entry {entry!r} is not a column of the warehouse{hint}",
                fix=_FIX,
            )
        if len(matches) > 1:
            names = sorted(f"{t}.{c}" for t, c in matches)
            raise GoalError(
                f"exclude_columns entry {entry!r} names a column of several tables:"
                f" {', '.join(names)}",
                fix=f"{_FIX}, e.g. {names[0]!r}",
            )
        table, column = matches[0]
        needed = {
            (objective.label_table, objective.target_column): "the target",
            (objective.label_table, objective.label_key): "the label's key",
            (objective.entity_table, objective.entity_key): "the entity's key",
        }
        if (table, column) in needed:
            raise GoalError(
                f"exclude_columns entry {entry!r} is {needed[(table, column)]} of the goal:"
                " it cannot be left out",
                fix="remove it from exclude_columns",
            )
        out[(table, column)] = "excluded by the goal (exclude_columns)"
    return out
