"""The target named by ``overrides.target``: a column of the warehouse, or an error that
says which names come close."""

from __future__ import annotations

import difflib

from dagster_agentic.errors import GoalError
from dagster_agentic.kernel.policy.text import quote
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

_FIX = "set target='table.column' in the goal's overrides"


def override_column(profile: WarehouseProfile, override: str) -> tuple[TableProfile, ColumnProfile]:
    """The table and column ``overrides.target`` names ('column' or 'table.column', any
    case); an error with similar names when it names none, and one listing the tables when
    it names a column of several."""
    table_name, _, column_name = override.strip().rpartition(".")
    pairs = [
        (t, c)
        for t in profile.tables
        if not table_name or t.name.lower() == table_name.lower()
        for c in t.columns
        if c.name.lower() == column_name.lower()
    ]
    if not pairs:
        raise GoalError(
            f"overrides.target {quote(override)} is not a column of the warehouse"
            f"{_similar(profile, override)}",
            fix="set target to an existing column as 'column' or 'table.column'",
        )
    if len(pairs) > 1:
        names = sorted(f"{t.name}.{c.name}" for t, c in pairs)
        raise GoalError(
            f"overrides.target {quote(override)} names a column of several tables: "
            f"{', '.join(names)}",
            fix=f"{_FIX}, e.g. target='{names[0]}'",
        )
    return pairs[0]


def _similar(profile: WarehouseProfile, wanted: str) -> str:
    names = sorted({f"{t.name}.{c.name}" for t in profile.tables for c in t.columns})
    names += sorted({c.name for t in profile.tables for c in t.columns})
    close = difflib.get_close_matches(wanted.lower(), names, n=5, cutoff=0.5)
    return f"; similar columns: {', '.join(close)}" if close else ""
