"""Aggregate features over the rows of a table that belong to one entity, as SQL expressions.

Every expression is an aggregate over source rows (alias ``t``) already restricted to rows
recorded before the prediction time (``s.cutoff_at``); windows narrow that further. Columns are
picked by their semantic role, never by table or column name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dagster_agentic.plan.models import FeatureSpec, KeyPart, Lookup
from dagster_agentic.warehouse.connection import literal, quote_ident
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile
from dagster_agentic.warehouse.semantics import SchemaSemantics

WINDOWS_DAYS = (7, 30, 90)
MAX_NUMERIC_COLUMNS = 4
MAX_CATEGORY_COLUMNS = 3
MAX_CATEGORY_VALUES = 6
MAX_CATEGORY_DISTINCT = 30
MAX_LOOKUP_COLUMNS = 2
MAX_COMPOSITE_LOOKUP_COLUMNS = 6
MAX_PIVOT_VALUES = 6
"""A category with at most this many values can split the entity's rows into one per value."""
MAX_PIVOT_COLUMNS = 8
PIVOT_FILL = 0.9
"""Share of the (entities x values) grid a long table's rows must fill to be read as one row
per entity and value (a season line and a career line per player)."""


def slug(value: object) -> str:
    text = re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_")
    return text or "blank"


@dataclass(frozen=True)
class Source:
    """One table aggregated per entity: its profile, the column that joins it, its event time."""

    table: TableProfile
    join_column: str
    time_column: str | None
    semantics: SchemaSemantics

    @property
    def key(self) -> str:
        """Counting this expression counts the entity's rows (NULL when it has none)."""
        return f"t.{quote_ident(self.join_column)}"

    def columns(self, *roles: str) -> list[ColumnProfile]:
        return [
            c
            for c in self.table.columns
            if c.name != self.join_column and self.semantics.role(self.table.name, c.name) in roles
        ]


def within(time_column: str, start_days: int, end_days: int = 0, alias: str = "t") -> str:
    t = f"{alias}.{quote_ident(time_column)}"
    upper = f" AND {t} < s.cutoff_at - INTERVAL {end_days} DAY" if end_days else ""
    return f"{t} >= s.cutoff_at - INTERVAL {start_days} DAY{upper}"


def volume_features(source: Source) -> list[FeatureSpec]:
    name, key, time = source.table.name, source.key, source.time_column
    features = [
        FeatureSpec(
            name="n_rows",
            expression=f"count({key})",
            hypothesis=f"how much the entity appears in {name}",
        )
    ]
    if not time:
        return features
    t = f"t.{quote_ident(time)}"
    for days in WINDOWS_DAYS:
        features.append(
            FeatureSpec(
                name=f"n_last_{days}d",
                expression=f"count({key}) FILTER (WHERE {within(time, days)})",
                hypothesis=f"recent activity in {name} (last {days} days) shows engagement",
            )
        )
    recent = f"count({key}) FILTER (WHERE {within(time, 30)})"
    features += [
        FeatureSpec(
            name="days_since_last",
            expression=f"date_diff('day', max({t}), s.cutoff_at)",
            hypothesis=f"a long silence in {name} before the prediction time signals risk",
        ),
        FeatureSpec(
            name="days_since_first",
            expression=f"date_diff('day', min({t}), s.cutoff_at)",
            hypothesis=f"how long the entity has appeared in {name}",
        ),
        FeatureSpec(
            name="trend_30d_vs_prior_60d",
            expression=(
                f"{recent} / (count({key}) FILTER (WHERE {within(time, 90, 30)}) / 2.0 + 1.0)"
            ),
            hypothesis=f"declining activity in {name} (30 days against the 60 before) precedes it",
        ),
        FeatureSpec(
            name="recent_share_30d",
            expression=f"{recent} / nullif(count({key}), 0)",
            hypothesis=f"the share of all {name} rows that are recent shows momentum",
        ),
        FeatureSpec(
            name="rows_per_30d",
            expression=(f"count({key}) * 30.0 / (date_diff('day', min({t}), s.cutoff_at) + 1)"),
            hypothesis=f"the rate of {name} rows over the entity's history measures intensity",
        ),
        FeatureSpec(
            name="weekend_share",
            expression=(
                f"count({key}) FILTER (WHERE dayofweek({t}) IN (0, 6)) / nullif(count({key}), 0)"
            ),
            hypothesis=f"when {name} rows happen (weekend or weekday) reflects the kind of use",
        ),
    ]
    return features


def numeric_features(source: Source) -> list[FeatureSpec]:
    name, time = source.table.name, source.time_column
    features: list[FeatureSpec] = []
    for column in source.columns("numeric")[:MAX_NUMERIC_COLUMNS]:
        col, c = f"t.{quote_ident(column.name)}", slug(column.name)
        for agg, fn, why in (
            ("avg", "avg", f"the typical {column.name} in {name} differs by outcome"),
            ("min", "min", f"the lowest {column.name} in {name} matters"),
            ("max", "max", f"extreme {column.name} values in {name} matter"),
            ("sum", "sum", f"the total {column.name} in {name} measures involvement"),
            ("std", "stddev_samp", f"volatile {column.name} in {name} signals instability"),
        ):
            features.append(
                FeatureSpec(name=f"{agg}_{c}", expression=f"{fn}({col})", hypothesis=why)
            )
        if time:
            recent = within(time, 30)
            features += [
                FeatureSpec(
                    name=f"sum_{c}_last_30d",
                    expression=f"sum({col}) FILTER (WHERE {recent})",
                    hypothesis=f"recent {column.name} in {name} reflects current behaviour",
                ),
                FeatureSpec(
                    name=f"avg_{c}_last_30d_vs_all",
                    expression=f"avg({col}) FILTER (WHERE {recent}) / nullif(avg({col}), 0)",
                    hypothesis=f"a change in the typical {column.name} in {name} signals a shift",
                ),
            ]
    return features


def pivot_features(source: Source) -> list[FeatureSpec]:
    """Each numeric column per value of a category that splits the entity's rows into one row
    per value: a long table (minutes per account and PERIOD, stats per player and season) read
    wide, since the day's minutes and the night's say more apart than mixed in one average.

    The split is read from the profile: the rows fill (nearly) the grid of entities times the
    category's values. The average over a value's rows is that row's value when there is one.
    """
    key = source.table.column(source.join_column)
    numeric = source.columns("numeric")[:MAX_PIVOT_COLUMNS]
    if key is None or not numeric or not key.distinct_count:
        return []
    rows = source.table.row_count
    for column in source.columns("categorical"):
        values = [v.value for v in column.top_values if v.value is not None]
        grid = key.distinct_count * column.distinct_count
        if not (
            2 <= column.distinct_count <= MAX_PIVOT_VALUES
            and len(values) == column.distinct_count
            and len({slug(v) for v in values}) == len(values)
            and column.null_fraction == 0.0
            and PIVOT_FILL * grid <= rows <= grid
        ):
            continue
        by = f"t.{quote_ident(column.name)}"
        return [
            FeatureSpec(
                name=f"avg_{slug(measure.name)}_{slug(column.name)}_{slug(value)}",
                expression=(
                    f"avg(t.{quote_ident(measure.name)}) FILTER (WHERE {by} = {literal(value)})"
                ),
                hypothesis=(
                    f"{measure.name} in the entity's {column.name} {value!r} row of"
                    f" {source.table.name} says more than its mix over every {column.name}"
                ),
            )
            for value in values
            for measure in numeric
        ]
    return []


def category_features(source: Source) -> list[FeatureSpec]:
    name, key, time = source.table.name, source.key, source.time_column
    features: list[FeatureSpec] = []
    columns = [
        c
        for c in source.columns("categorical", "boolean")
        if 2 <= c.distinct_count <= MAX_CATEGORY_DISTINCT
    ]
    for column in columns[:MAX_CATEGORY_COLUMNS]:
        col = f"t.{quote_ident(column.name)}"
        features.append(
            FeatureSpec(
                name=f"n_distinct_{slug(column.name)}",
                expression=f"count(DISTINCT {col})",
                hypothesis=f"variety of {column.name} in {name} reflects breadth of use",
            )
        )
        features += _value_features(name, key, col, column, time)
    for column in source.columns("foreign_key", "high_cardinality")[:MAX_CATEGORY_COLUMNS]:
        features.append(
            FeatureSpec(
                name=f"n_distinct_{slug(column.name)}",
                expression=f"count(DISTINCT t.{quote_ident(column.name)})",
                hypothesis=f"how many different {column.name} the entity touches in {name}",
            )
        )
    return features


def _value_features(
    table: str, key: str, col: str, column: ColumnProfile, time: str | None, prefix: str = ""
) -> list[FeatureSpec]:
    """Counts and shares of the most frequent values: encodings that never read the label."""
    features: list[FeatureSpec] = []
    for top in column.top_values[:MAX_CATEGORY_VALUES]:
        if top.value is None:
            continue
        base = f"{prefix}{slug(column.name)}_{slug(top.value)}"
        match = f"{col} = {literal(top.value)}"
        features += [
            FeatureSpec(
                name=f"n_{base}",
                expression=f"count({key}) FILTER (WHERE {match})",
                hypothesis=f"how often {column.name} is {top.value!r} in {table}",
            ),
            FeatureSpec(
                name=f"share_{base}",
                expression=f"count({key}) FILTER (WHERE {match}) / nullif(count({key}), 0)",
                hypothesis=f"the share of {table} rows with {column.name} {top.value!r}",
            ),
        ]
        if time:
            features.append(
                FeatureSpec(
                    name=f"n_{base}_last_90d",
                    expression=f"count({key}) FILTER (WHERE {match} AND {within(time, 90)})",
                    hypothesis=(
                        f"recent {table} rows with {column.name} {top.value!r} signal a change"
                    ),
                )
            )
    return features


def free_text_features(source: Source) -> list[FeatureSpec]:
    return [
        FeatureSpec(
            name=f"avg_length_{slug(column.name)}",
            expression=f"avg(length(t.{quote_ident(column.name)}))",
            hypothesis=f"how much is written in {source.table.name}.{column.name}",
        )
        for column in source.columns("free_text")[:MAX_NUMERIC_COLUMNS]
    ]


def ended_features(source: Source) -> list[FeatureSpec]:
    """A time recorded after the prediction time is only usable as 'had it happened by then'."""
    suspects = [
        c.column
        for c in source.semantics.columns_of(source.table.name, "leakage_suspect")
        if (column := source.table.column(c.column)) is not None and column.kind == "temporal"
    ]
    return [
        FeatureSpec(
            name=f"n_{slug(end)}_before_cutoff",
            expression=f"count({source.key}) FILTER (WHERE t.{quote_ident(end)} < s.cutoff_at)",
            hypothesis=f"{source.table.name} rows that had ended ({end}) by the prediction time",
        )
        for end in suspects
    ]


def lookups_for(
    source: Source, profile: WarehouseProfile, skip: set[str]
) -> tuple[tuple[Lookup, TableProfile], ...]:
    """Dimension tables the source references (``source.column -> dim.key``), not in ``skip``."""
    found: list[tuple[Lookup, TableProfile]] = []
    for relation in profile.parents_of(source.table.name):
        parent = profile.table(relation.parent_table)
        if (
            parent is None
            or relation.parent_table in skip
            or relation.child_column == source.join_column
            or source.semantics.role(source.table.name, relation.child_column) != "foreign_key"
        ):
            continue
        alias = f"d{len(found)}"
        lookup = Lookup(
            alias=alias,
            table=parent.name,
            column=relation.child_column,
            key_column=relation.parent_column,
        )
        found.append((lookup, parent))
    for composite in profile.composite_relationships:
        parent = profile.table(composite.parent_table)
        if (
            composite.child_table != source.table.name
            or parent is None
            or parent.name in skip
            or source.join_column in composite.child_columns
        ):
            continue
        parts = [
            KeyPart(column=column, key_column=key, bucket=bucket)
            for column, key, bucket in zip(
                composite.child_columns, composite.parent_columns, composite.buckets, strict=True
            )
        ]
        times = [
            part.key_column
            for part in parts
            if (column := parent.column(part.key_column)) is not None and column.kind == "temporal"
        ]
        first = parts[0]
        lookup = Lookup(
            alias=f"d{len(found)}",
            table=parent.name,
            column=first.column,
            key_column=first.key_column,
            bucket=first.bucket,
            more=tuple(parts[1:]),
            time_key=times[0] if times else None,
        )
        found.append((lookup, parent))
    return tuple(found)


def lookup_features(
    source: Source, lookup: Lookup, parent: TableProfile, *, aggregate: bool
) -> list[FeatureSpec]:
    """Attributes of the dimension row each source row points at (aggregated per entity)."""
    semantics = source.semantics
    features: list[FeatureSpec] = []
    prefix = f"{slug(parent.name)}_"
    keys = {part.key_column for part in lookup.parts}
    # A dimension keyed by several columns (place and hour) is read for its measurements.
    most = MAX_LOOKUP_COLUMNS if not lookup.more else MAX_COMPOSITE_LOOKUP_COLUMNS
    attributes = [c for c in parent.columns if c.name not in keys]
    categorical = [
        c
        for c in attributes
        if semantics.role(parent.name, c.name) in ("categorical", "boolean")
        and 2 <= c.distinct_count <= MAX_CATEGORY_DISTINCT
    ][:most]
    numeric = [c for c in attributes if semantics.role(parent.name, c.name) == "numeric"]
    for column in categorical:
        col = f"{lookup.alias}.{quote_ident(column.name)}"
        if aggregate:
            features += [
                f
                for f in _value_features(source.table.name, source.key, col, column, None, prefix)
                if f.name.startswith("share_")
            ]
        else:
            features.append(
                FeatureSpec(
                    name=f"{prefix}{slug(column.name)}",
                    expression=col,
                    kind="categorical",
                    hypothesis=f"outcomes differ by the {parent.name} {column.name}",
                )
            )
    for column in numeric[:most]:
        col = f"{lookup.alias}.{quote_ident(column.name)}"
        features.append(
            FeatureSpec(
                name=f"{'avg_' if aggregate else ''}{prefix}{slug(column.name)}",
                expression=f"avg({col})" if aggregate else col,
                hypothesis=f"the {parent.name} {column.name} behind the entity's rows matters",
            )
        )
    return features
