"""Evidence for a diagnosis: what changed between the plan's warehouse and today's, by SQL only.

When raw-table expectations fail, three kinds of evidence explain why, all computed inside the
warehouse (catalog lookups and aggregate profiles, never table rows):

* **Schema diff** against the reference profile the plan was built on: tables and columns that
  disappeared or appeared, and columns whose type changed (from the catalog alone).
* **Rename candidates** for what disappeared: each new column of the same table with a
  compatible kind (numeric, text, temporal, ...) for a missing column, each new table for a
  missing table. A candidate's ``score`` is ``0.4 * name_similarity + 0.6 * value_similarity``:

  - *name similarity* is :class:`difflib.SequenceMatcher`'s ratio on the lower-cased names,
    raised to at least 0.9 when one name contains the other (``amount`` -> ``amount_eur``);
  - *value similarity* of columns is the mean of: ``1 - |null fraction difference|``, the
    distinct-count ratio (smaller over larger), the relative closeness of mean, stddev, min
    and max (numeric), top-value overlap (text and boolean: shared values over all values), and
    equality of min and max (temporal); of tables, the mean of the share of reference columns
    found with the same name and type and the row-count ratio.

  Values carry more weight than names: a rename keeps the data. Candidates scoring below
  :data:`MIN_SCORE` are dropped; the rest are sorted best first.
* **Profile diff** for every failed expectation's ``table.column``: the reference statistics
  next to the current ones (null fraction, distinct count, min, max, mean, stddev, top values)
  and both row counts. For a column whose type changed, one query counts the current values that
  do not parse as the old type (``not_castable``), which tells whether casting back is safe.
  For a time column that now holds text or numbers, a second query measures whether its values
  read as times with one format of the allow-list or as epochs (``parse_time``: the format or
  unit and the share that parses, see ``warehouse.times``).

Training curves or errors, when a caller has them, ride along unchanged.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import duckdb
from pydantic import BaseModel, ConfigDict

from dagster_agentic.expectations.models import ExpectationResult
from dagster_agentic.warehouse.connection import (
    Warehouse,
    column_kind,
    list_tables,
    qualified_name,
    quote_ident,
    table_columns,
)
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse
from dagster_agentic.warehouse.times import read_times

MIN_SCORE = 0.6
NAME_WEIGHT, VALUE_WEIGHT = 0.4, 0.6
CONTAINED_NAME_SIMILARITY = 0.9


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MissingColumn(_Frozen):
    table: str
    column: str
    old_type: str


class NewColumn(_Frozen):
    table: str
    column: str
    type: str


class TypeChange(_Frozen):
    table: str
    column: str
    old_type: str
    new_type: str


class SchemaDiff(_Frozen):
    """How the catalog differs from the reference profile's schema."""

    missing_tables: tuple[str, ...] = ()
    new_tables: tuple[str, ...] = ()
    missing_columns: tuple[MissingColumn, ...] = ()
    new_columns: tuple[NewColumn, ...] = ()
    type_changes: tuple[TypeChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.missing_tables
            or self.new_tables
            or self.missing_columns
            or self.new_columns
            or self.type_changes
        )


class Candidate(_Frozen):
    """Something new that may be something missing under another name."""

    old: str
    """'table.column' or 'table'."""
    new: str
    name_similarity: float
    value_similarity: float
    score: float


class Evidence(_Frozen):
    failed: tuple[ExpectationResult, ...]
    schema_diff: SchemaDiff
    renames: tuple[Candidate, ...] = ()
    profile_diff: dict[str, dict[str, Any]] = {}
    training: dict[str, Any] | None = None

    def renames_of(self, old: str) -> tuple[Candidate, ...]:
        """Candidates for ``old`` ('table' or 'table.column'), best first."""
        return tuple(c for c in self.renames if c.old == old)


def schema_diff(
    reference: WarehouseProfile, conn: duckdb.DuckDBPyConnection, schema: str = "main"
) -> SchemaDiff:
    """Compare the reference profile's tables, columns and types with the catalog."""
    current = {t.lower(): t for t in list_tables(conn, schema)}
    known = {t.name.lower() for t in reference.tables}
    missing_tables, missing, new, changed = [], [], [], []
    for table in reference.tables:
        if table.name.lower() not in current:
            missing_tables.append(table.name)
            continue
        now = dict(table_columns(conn, table.name, schema).columns)
        now_lower = {c.lower(): c for c in now}
        for col in table.columns:
            name = now_lower.get(col.name.lower())
            if name is None:
                missing.append(
                    MissingColumn(table=table.name, column=col.name, old_type=col.data_type)
                )
            elif now[name] != col.data_type:
                changed.append(
                    TypeChange(
                        table=table.name,
                        column=col.name,
                        old_type=col.data_type,
                        new_type=now[name],
                    )
                )
        old_names = {c.lower() for c in table.column_names}
        new += [
            NewColumn(table=table.name, column=c, type=t)
            for c, t in now.items()
            if c.lower() not in old_names
        ]
    return SchemaDiff(
        missing_tables=tuple(missing_tables),
        new_tables=tuple(t for low, t in sorted(current.items()) if low not in known),
        missing_columns=tuple(missing),
        new_columns=tuple(new),
        type_changes=tuple(changed),
    )


def collect_evidence(
    warehouse: Warehouse,
    reference: WarehouseProfile,
    results: Sequence[ExpectationResult],
    *,
    training: dict[str, Any] | None = None,
    schema: str = "main",
) -> Evidence:
    """Everything a diagnosis needs about the failed ``results``, computed in the warehouse."""
    failed = tuple(r for r in results if not r.passed)
    with warehouse.connect(read_only=True) as conn:
        diff = schema_diff(reference, conn, schema)
    if not failed:
        return Evidence(failed=(), schema_diff=diff, training=training)
    failed_tables = {r.expectation.table.lower() for r in failed}
    failed_columns = {
        f"{r.expectation.table}.{r.expectation.column}".lower()
        for r in failed
        if r.expectation.column
    }
    missing_tables = [t for t in diff.missing_tables if t.lower() in failed_tables]
    missing_columns = [
        m for m in diff.missing_columns if f"{m.table}.{m.column}".lower() in failed_columns
    ]
    involved = {
        t
        for t in {r.expectation.table for r in failed} | {m.table for m in missing_columns}
        if t not in diff.missing_tables
    }
    if missing_tables:
        involved |= set(diff.new_tables)
    current = (
        profile_warehouse(warehouse, schema=schema, tables=sorted(involved))
        if involved
        else WarehouseProfile(tables=(), fingerprint="")
    )
    renames = _column_candidates(reference, current, diff, missing_columns) + _table_candidates(
        reference, current, diff, missing_tables
    )
    with warehouse.connect(read_only=True) as conn:
        profile_diff = _profile_diff(conn, reference, current, diff, failed, schema)
    return Evidence(
        failed=failed,
        schema_diff=diff,
        renames=tuple(sorted(renames, key=lambda c: (c.old, -c.score, c.new))),
        profile_diff=profile_diff,
        training=training,
    )


# --- rename candidates ------------------------------------------------------------------------


def name_similarity(old: str, new: str) -> float:
    a, b = old.lower(), new.lower()
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    if a and b and (a in b or b in a):
        ratio = max(ratio, CONTAINED_NAME_SIMILARITY)
    return round(ratio, 4)


def _closeness(a: Any, b: Any) -> float | None:
    """1 for equal numbers, falling linearly to 0 as they differ by their larger magnitude."""
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return None
    if isinstance(a, bool) or isinstance(b, bool):
        return 1.0 if a == b else 0.0
    scale = max(abs(float(a)), abs(float(b)))
    return 1.0 if scale == 0 else max(0.0, 1.0 - abs(float(a) - float(b)) / scale)


def column_similarity(old: ColumnProfile, new: ColumnProfile) -> float:
    """How alike two column profiles are, in [0, 1] (see the module docstring)."""
    parts = [1.0 - min(1.0, abs(old.null_fraction - new.null_fraction))]
    big = max(old.distinct_count, new.distinct_count)
    parts.append(1.0 if big == 0 else min(old.distinct_count, new.distinct_count) / big)
    if old.kind == "numeric" and new.kind == "numeric":
        for a, b in ((old.mean, new.mean), (old.stddev, new.stddev), (old.min, new.min)):
            close = _closeness(a, b)
            if close is not None:
                parts.append(close)
        close = _closeness(old.max, new.max)
        if close is not None:
            parts.append(close)
    elif old.kind == "temporal":
        parts += [float(old.min == new.min), float(old.max == new.max)]
    if old.top_values or new.top_values:
        old_tops = {str(v.value) for v in old.top_values}
        new_tops = {str(v.value) for v in new.top_values}
        parts.append(len(old_tops & new_tops) / len(old_tops | new_tops))
    return round(sum(parts) / len(parts), 4)


def table_similarity(old: TableProfile, new: TableProfile) -> float:
    """Mean of the share of old columns kept (same name and type) and the row-count ratio."""
    kept = {(c.name.lower(), c.data_type) for c in new.columns}
    share = (
        sum((c.name.lower(), c.data_type) in kept for c in old.columns) / len(old.columns)
        if old.columns
        else 0.0
    )
    big = max(old.row_count, new.row_count)
    rows = 1.0 if big == 0 else min(old.row_count, new.row_count) / big
    return round((share + rows) / 2, 4)


def _candidate(old: str, new: str, names: float, values: float) -> Candidate:
    score = round(NAME_WEIGHT * names + VALUE_WEIGHT * values, 4)
    return Candidate(old=old, new=new, name_similarity=names, value_similarity=values, score=score)


def _column_candidates(
    reference: WarehouseProfile,
    current: WarehouseProfile,
    diff: SchemaDiff,
    missing: Sequence[MissingColumn],
) -> list[Candidate]:
    found = []
    for m in missing:
        ref_table, now_table = reference.table(m.table), current.table(m.table)
        old = ref_table.column(m.column) if ref_table else None
        if old is None or now_table is None:
            continue
        for n in diff.new_columns:
            new = now_table.column(n.column) if n.table == m.table else None
            if new is None or column_kind(n.type) != old.kind:
                continue
            found.append(
                _candidate(
                    f"{m.table}.{m.column}",
                    f"{n.table}.{n.column}",
                    name_similarity(m.column, n.column),
                    column_similarity(old, new),
                )
            )
    return [c for c in found if c.score >= MIN_SCORE]


def _table_candidates(
    reference: WarehouseProfile,
    current: WarehouseProfile,
    diff: SchemaDiff,
    missing: Sequence[str],
) -> list[Candidate]:
    found = []
    for name in missing:
        old = reference.table(name)
        for new_name in diff.new_tables:
            new = current.table(new_name)
            if old is None or new is None:
                continue
            found.append(
                _candidate(
                    name, new_name, name_similarity(name, new_name), table_similarity(old, new)
                )
            )
    return [c for c in found if c.score >= MIN_SCORE]


# --- profile diff -----------------------------------------------------------------------------


def _stats(column: ColumnProfile | None) -> dict[str, Any] | None:
    if column is None:
        return None
    return {
        "data_type": column.data_type,
        "null_fraction": column.null_fraction,
        "distinct_count": column.distinct_count,
        "min": column.min,
        "max": column.max,
        "mean": column.mean,
        "stddev": column.stddev,
        "top_values": [[v.value, v.count] for v in column.top_values],
    }


def _profile_diff(
    conn: duckdb.DuckDBPyConnection,
    reference: WarehouseProfile,
    current: WarehouseProfile,
    diff: SchemaDiff,
    failed: Sequence[ExpectationResult],
    schema: str,
) -> dict[str, dict[str, Any]]:
    changes = {(t.table.lower(), t.column.lower()): t for t in diff.type_changes}
    out: dict[str, dict[str, Any]] = {}
    for r in failed:
        table, column = r.expectation.table, r.expectation.column
        key = f"{table}.{column}" if column else table
        if key in out:
            continue
        ref_table, now_table = reference.table(table), current.table(table)
        entry: dict[str, Any] = {
            "rows": {
                "reference": ref_table.row_count if ref_table else None,
                "current": now_table.row_count if now_table else None,
            }
        }
        if column:
            entry["reference"] = _stats(ref_table.column(column) if ref_table else None)
            entry["current"] = _stats(now_table.column(column) if now_table else None)
            change = changes.get((table.lower(), column.lower()))
            if change is not None:
                entry["cast_to"] = change.old_type
                entry["not_castable"] = _not_castable(conn, schema, table, column, change.old_type)
                if column_kind(change.old_type) == "temporal":
                    reading = _time_reading(conn, schema, table, column, change.new_type)
                    if reading is not None:
                        entry["parse_time"] = reading
        out[key] = entry
    return out


def _time_reading(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, column: str, data_type: str
) -> dict[str, Any] | None:
    """How a former time column's current values read as times, if they do."""
    try:
        found = read_times(conn, qualified_name(schema, table), table, [(column, data_type)])
    except duckdb.Error:
        return None
    if not found:
        return None
    reading = found[0]
    return {
        "format": reading.format,
        "epoch_unit": reading.epoch_unit,
        "share": reading.share,
        "sampled": reading.sampled,
        "described": reading.described,
    }


def _not_castable(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, column: str, data_type: str
) -> int | None:
    """Non-null values that do not parse as ``data_type``; None when DuckDB cannot try."""
    col = quote_ident(column)
    try:
        row = conn.execute(
            f"SELECT count(*) FILTER (WHERE TRY_CAST({col} AS {data_type}) IS NULL"
            f" AND {col} IS NOT NULL) FROM {qualified_name(schema, table)}"
        ).fetchone()
    except duckdb.Error:
        return None
    return int(row[0]) if row else None
