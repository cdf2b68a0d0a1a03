"""What a language model is shown of the warehouse: metadata and summary statistics, never rows.

A table is its name, row count, comment and keys; a column is its name, type, kind, null share,
distinct count, range or mean, comment and (when ``sample_values`` is on) its most frequent
values, each cut to ``VALUE_CHARS``. Every string that came from the warehouse (names,
comments, values) is data: the prompt quotes it inside a JSON document the model is told never
to follow. A view that would not fit the prompt's bound is summarised, widest tables first:
their columns' values go, then columns beyond ``MIN_COLUMNS`` per table (their names kept as a
list), and the view says so.
"""

from __future__ import annotations

import json
from typing import Any

from dagster_agentic.goals.objective import MAX_CLASSES
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

VALUE_CHARS = 80
TOP_VALUES = 12
MIN_COLUMNS = 12


def warehouse_view(
    profile: WarehouseProfile, *, sample_values: bool, max_chars: int
) -> dict[str, Any]:
    """The warehouse as the model sees it, within ``max_chars`` of JSON where it can be."""
    tables = [table_view(t, sample_values) for t in profile.tables]
    view: dict[str, Any] = {
        "tables": tables,
        "relationships": [
            f"{r.child_table}.{r.child_column} -> {r.parent_table}.{r.parent_column}"
            for r in profile.relationships
        ]
        + [
            f"{r.child_table}({', '.join(r.child_columns)}) -> "
            f"{r.parent_table}({', '.join(r.parent_columns)})"
            for r in profile.composite_relationships
        ],
    }
    notes: list[str] = []
    for table in sorted(tables, key=lambda t: -len(t["columns"])):
        if _size(view) <= max_chars:
            break
        for column in table["columns"]:
            column.pop("values", None)
        notes.append(f"{table['name']}: values left out to fit the prompt")
        if _size(view) > max_chars and len(table["columns"]) > MIN_COLUMNS:
            rest = table["columns"][MIN_COLUMNS:]
            table["columns"] = table["columns"][:MIN_COLUMNS]
            table["more_columns"] = [c["name"] for c in rest]
            notes.append(f"{table['name']}: {len(rest)} columns listed by name only")
    if notes:
        view["summarised"] = notes
    return view


def table_view(table: TableProfile, sample_values: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": table.name,
        "rows": table.row_count,
        "columns": [_column(c, sample_values) for c in table.columns],
    }
    if table.comment:
        entry["comment"] = _cut(table.comment, 200)
    if table.candidate_keys:
        entry["unique_columns"] = list(table.candidate_keys)
    if table.composite_keys:
        entry["unique_column_sets"] = [list(k) for k in table.composite_keys]
    return entry


def _column(column: ColumnProfile, sample_values: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": column.name,
        "type": column.data_type,
        "kind": column.kind,
        "distinct": column.distinct_count,
    }
    if column.null_fraction:
        entry["null_share"] = round(column.null_fraction, 3)
    if column.kind in {"numeric", "temporal"} and column.min is not None:
        entry["min"], entry["max"] = _scalar(column.min), _scalar(column.max)
    if column.mean is not None:
        entry["mean"] = round(column.mean, 4)
    if column.comment:
        entry["comment"] = _cut(column.comment, 200)
    listed = column.values or column.top_values
    # Values of categories only: a column with more distinct values than classes (names,
    # e-mails, identifiers, free text) would show rows, not categories.
    categorical = column.distinct_count <= (12 if column.kind == "numeric" else MAX_CLASSES)
    if sample_values and listed and categorical:
        entry["values"] = [_scalar(v.value) for v in listed[:TOP_VALUES] if v.value is not None]
    return entry


def _scalar(value: object) -> object:
    if isinstance(value, bool | int) or value is None:
        return value
    if isinstance(value, float):
        return round(value, 6)
    return _cut(str(value), VALUE_CHARS)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _size(view: dict[str, Any]) -> int:
    return len(json.dumps(view, ensure_ascii=False))
