"""Typed summaries of a warehouse, computed in place by SQL.

These are the only things the profiler hands to the rest of the agent: small, serialisable
summaries, never table contents.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ALL_VALUES_MAX = 50
"""Columns with at most this many distinct values list all of them (``ColumnProfile.values``)."""
TEXT_VALUES_MAX = 250
"""Text columns list every value up to this many distinct ones: the words of a goal are
matched against them (states, cities, product lines), and only counts per value are kept."""

ScalarValue = str | int | float | bool | None
TimeBucket = Literal["hour", "day"]
"""How a child's time is read to match a composite key's time part: truncated to the hour/day."""
"""A single value as it appears in a profile (dates and timestamps are ISO strings)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TopValue(_Frozen):
    value: ScalarValue
    count: int


class ColumnProfile(_Frozen):
    """Statistics of one column, all computed by SQL in the warehouse."""

    name: str
    data_type: str = Field(description="DuckDB type name, upper case, e.g. 'BIGINT', 'VARCHAR'.")
    kind: Literal["numeric", "boolean", "temporal", "text", "other"]
    null_fraction: float
    distinct_count: int = Field(description="Approximate for large tables (approx_count_distinct).")
    min: ScalarValue = None
    max: ScalarValue = None
    mean: float | None = None
    stddev: float | None = None
    top_values: tuple[TopValue, ...] = Field(
        default=(), description="Most frequent values, most frequent first (at most 10)."
    )
    values: tuple[TopValue, ...] = Field(
        default=(),
        description="Every value with its count, most frequent first, when the column has at"
        " most ALL_VALUES_MAX distinct values (TEXT_VALUES_MAX for text: categories, places,"
        " a dimension's names); empty otherwise.",
    )
    comment: str | None = Field(
        default=None, description="The column's comment in the catalog (COMMENT ON COLUMN)."
    )

    @property
    def is_binary(self) -> bool:
        """Two distinct non-null values: a candidate classification label."""
        return self.distinct_count == 2 or (self.kind == "boolean" and self.distinct_count <= 2)


class TableProfile(_Frozen):
    name: str
    schema_name: str = "main"
    row_count: int
    comment: str | None = Field(
        default=None, description="The table's comment in the catalog (COMMENT ON TABLE)."
    )
    columns: tuple[ColumnProfile, ...]
    candidate_keys: tuple[str, ...] = Field(
        default=(), description="Single columns that are unique and never null."
    )
    composite_keys: tuple[tuple[str, ...], ...] = Field(
        default=(),
        description="Minimal column pairs (or triples) jointly unique and never null; searched"
        " only in tables without a single-column key.",
    )

    def column(self, name: str) -> ColumnProfile | None:
        for column in self.columns:
            if column.name.lower() == name.lower():
                return column
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


class Relationship(_Frozen):
    """A many-to-one link: every row of ``child_table`` points at one row of ``parent_table``."""

    child_table: str
    child_column: str
    parent_table: str
    parent_column: str
    inclusion: float = Field(
        description="Fraction of the child's distinct non-null values found in the parent key."
    )
    evidence: Literal["name", "values", "name_and_values"]


class CompositeRelationship(_Frozen):
    """A many-to-one link on several columns: ``child_columns`` -> ``parent_columns``.

    ``buckets`` says, per column, how the child value is read: as it is (None) or truncated to
    the hour or day of a time-keyed parent (a flight's departure -> the weather's hour).
    """

    child_table: str
    child_columns: tuple[str, ...]
    parent_table: str
    parent_columns: tuple[str, ...]
    buckets: tuple[TimeBucket | None, ...]
    inclusion: float


class WarehouseProfile(_Frozen):
    tables: tuple[TableProfile, ...]
    relationships: tuple[Relationship, ...] = ()
    composite_relationships: tuple[CompositeRelationship, ...] = ()
    name: str = Field(
        default="",
        description="The warehouse's own name (its database and, when not 'main', its schema): "
        "'aids_registry'. A goal may name it ('patients in the AIDS registry'): every row.",
    )
    fingerprint: str = Field(
        description="Stable hash of the schema (tables, columns, types); changes with it."
    )

    def table(self, name: str) -> TableProfile | None:
        for table in self.tables:
            if table.name.lower() == name.lower():
                return table
        return None

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(table.name for table in self.tables)

    def children_of(self, parent_table: str) -> tuple[Relationship, ...]:
        return tuple(r for r in self.relationships if r.parent_table == parent_table)

    def parents_of(self, child_table: str) -> tuple[Relationship, ...]:
        return tuple(r for r in self.relationships if r.child_table == child_table)
