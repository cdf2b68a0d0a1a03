"""The policy kernel's feature hypotheses, derived from the warehouse profile alone.

Entity attributes come from the entity's own row; behaviour comes from aggregating every table
that references the entity (activity volume, recency, recent windows, trend, numeric
summaries, category mix). Nothing here knows any table by name.
"""

from __future__ import annotations

import re

from dagster_agentic.features.sql import literal
from dagster_agentic.goals.objective import Objective
from dagster_agentic.plan.models import FeatureGroup, FeatureSpec
from dagster_agentic.warehouse.connection import quote_ident
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

WINDOWS_DAYS = (30, 90, 180)
MAX_NUMERIC_COLUMNS = 4
MAX_CATEGORY_COLUMNS = 3
MAX_CATEGORY_VALUES = 6
MAX_CATEGORY_DISTINCT = 12
MAX_ATTRIBUTE_DISTINCT = 100

# Time columns that describe when a row *ended* tell the future relative to its start.
_END_TIME = re.compile(r"(end|cancel|clos|resolv|updat|delet|churn)", re.IGNORECASE)
_EVENT_TIME = re.compile(r"(time|_at$|date|timestamp|created|occurred|paid)", re.IGNORECASE)
# In a table whose rows get an end time, rows are updated after they are written: their state
# columns describe today, not the prediction time, and would leak the outcome.
_MUTABLE_STATE = re.compile(r"(^|_)(status|state|stage)$", re.IGNORECASE)


def slug(value: object) -> str:
    text = re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_")
    return text or "blank"


def is_identifier(column: ColumnProfile, table: TableProfile) -> bool:
    name = column.name.lower()
    return name == "id" or name.endswith("_id") or column.name in table.candidate_keys


def entity_attribute_group(
    objective: Objective, entity: TableProfile, label_columns: set[str]
) -> FeatureGroup:
    features: list[FeatureSpec] = []
    for column in entity.columns:
        if column.name in label_columns or is_identifier(column, entity):
            continue
        col = f"t.{quote_ident(column.name)}"
        if column.kind == "numeric":
            features.append(
                FeatureSpec(
                    name=slug(column.name),
                    expression=col,
                    hypothesis=(
                        f"{column.name} of the {entity.name} row carries signal on its own"
                    ),
                )
            )
        elif column.kind == "boolean":
            features.append(
                FeatureSpec(
                    name=slug(column.name),
                    expression=f"CAST({col} AS INTEGER)",
                    hypothesis=f"the flag {column.name} separates the classes",
                )
            )
        elif column.kind == "text" and 2 <= column.distinct_count <= MAX_ATTRIBUTE_DISTINCT:
            features.append(
                FeatureSpec(
                    name=slug(column.name),
                    expression=col,
                    kind="categorical",
                    hypothesis=f"outcomes differ between {column.name} values",
                )
            )
        elif (
            column.kind == "temporal"
            and objective.cutoff_column
            and not _END_TIME.search(column.name)
        ):
            features.append(
                FeatureSpec(
                    name=f"days_since_{slug(column.name)}",
                    expression=f"date_diff('day', CAST({col} AS TIMESTAMP), s.cutoff_at)",
                    hypothesis=f"time since {column.name} (e.g. tenure) at prediction time matters",
                )
            )
    return FeatureGroup(
        name=slug(entity.name),
        kind="entity_attributes",
        source_table=entity.name,
        join_column=objective.entity_key,
        features=tuple(features),
        rationale=f"attributes of the {entity.name} row itself",
    )


def event_time_column(table: TableProfile) -> str | None:
    temporal = [c for c in table.columns if c.kind == "temporal" and not _END_TIME.search(c.name)]
    named = [c for c in temporal if _EVENT_TIME.search(c.name)]
    chosen = (named or temporal)[:1]
    return chosen[0].name if chosen else None


def end_time_columns(table: TableProfile) -> list[str]:
    return [c.name for c in table.columns if c.kind == "temporal" and _END_TIME.search(c.name)]


def child_aggregate_group(
    objective: Objective, child: TableProfile, join_column: str
) -> FeatureGroup:
    key = f"t.{quote_ident(join_column)}"
    time_column = event_time_column(child) if objective.cutoff_column else None
    ends = end_time_columns(child)
    excluded = {c.name for c in child.columns if ends and _MUTABLE_STATE.search(c.name)}
    features = _volume_features(child, key, time_column)
    features += _numeric_features(child, join_column, time_column)
    features += _category_features(child, key, join_column, time_column, excluded)
    if objective.cutoff_column:
        features += _ended_features(child, key, ends)
    rationale = f"behaviour recorded in {child.name} ({child.row_count:,} rows) per entity"
    if time_column:
        rationale += f", as of the cutoff by {time_column}"
    if excluded:
        rationale += (
            f"; {', '.join(sorted(excluded))} left out: rows carry an end time, so"
            " their state describes today, not the prediction time"
        )
    return FeatureGroup(
        name=slug(child.name),
        kind="child_aggregates",
        source_table=child.name,
        join_column=join_column,
        time_column=time_column,
        features=tuple(features),
        rationale=rationale,
    )


def _ended_features(child: TableProfile, key: str, ends: list[str]) -> list[FeatureSpec]:
    """What had ended by the prediction time is known then; what ended later is not."""
    return [
        FeatureSpec(
            name=f"n_{slug(end)}_before_cutoff",
            expression=f"count({key}) FILTER (WHERE t.{quote_ident(end)} < s.cutoff_at)",
            hypothesis=f"{child.name} rows that had ended ({end}) by the prediction time",
        )
        for end in ends
    ]


def _within(time_column: str, start_days: int, end_days: int = 0) -> str:
    t = f"t.{quote_ident(time_column)}"
    upper = f" AND {t} < s.cutoff_at - INTERVAL {end_days} DAY" if end_days else ""
    return f"{t} >= s.cutoff_at - INTERVAL {start_days} DAY{upper}"


def _volume_features(child: TableProfile, key: str, time_column: str | None) -> list[FeatureSpec]:
    table = child.name
    features = [
        FeatureSpec(
            name="n_rows",
            expression=f"count({key})",
            hypothesis=f"how much the entity appears in {table}",
        )
    ]
    if not time_column:
        return features
    t = f"t.{quote_ident(time_column)}"
    for days in WINDOWS_DAYS:
        features.append(
            FeatureSpec(
                name=f"n_last_{days}d",
                expression=f"count({key}) FILTER (WHERE {_within(time_column, days)})",
                hypothesis=f"recent activity in {table} (last {days} days) shows engagement",
            )
        )
    features += [
        FeatureSpec(
            name="days_since_last",
            expression=f"date_diff('day', max({t}), s.cutoff_at)",
            hypothesis=f"a long silence in {table} before the prediction time signals risk",
        ),
        FeatureSpec(
            name="days_since_first",
            expression=f"date_diff('day', min({t}), s.cutoff_at)",
            hypothesis=f"how long the entity has appeared in {table}",
        ),
        FeatureSpec(
            name="trend_30d_vs_prior_60d",
            expression=(
                f"count({key}) FILTER (WHERE {_within(time_column, 30)}) / "
                f"(count({key}) FILTER (WHERE {_within(time_column, 90, 30)}) / 2.0 + 1.0)"
            ),
            hypothesis=f"declining activity in {table} (30 days against the 60 before) precedes it",
        ),
    ]
    return features


def _numeric_features(
    child: TableProfile, join_column: str, time_column: str | None
) -> list[FeatureSpec]:
    numeric = [
        c
        for c in child.columns
        if c.kind == "numeric" and c.name != join_column and not is_identifier(c, child)
    ]
    features: list[FeatureSpec] = []
    for column in numeric[:MAX_NUMERIC_COLUMNS]:
        col, name = f"t.{quote_ident(column.name)}", slug(column.name)
        features += [
            FeatureSpec(
                name=f"avg_{name}",
                expression=f"avg({col})",
                hypothesis=f"the typical {column.name} in {child.name} differs by outcome",
            ),
            FeatureSpec(
                name=f"max_{name}",
                expression=f"max({col})",
                hypothesis=f"extreme {column.name} values in {child.name} matter",
            ),
            FeatureSpec(
                name=f"sum_{name}",
                expression=f"sum({col})",
                hypothesis=f"the total {column.name} in {child.name} measures involvement",
            ),
            FeatureSpec(
                name=f"std_{name}",
                expression=f"stddev_samp({col})",
                hypothesis=f"volatile {column.name} in {child.name} signals instability",
            ),
        ]
        if time_column:
            features.append(
                FeatureSpec(
                    name=f"sum_{name}_last_30d",
                    expression=f"sum({col}) FILTER (WHERE {_within(time_column, 30)})",
                    hypothesis=f"recent {column.name} in {child.name} reflects current behaviour",
                )
            )
    return features


def _category_features(
    child: TableProfile,
    key: str,
    join_column: str,
    time_column: str | None,
    excluded: set[str],
) -> list[FeatureSpec]:
    categorical = [
        c
        for c in child.columns
        if c.kind in ("text", "boolean")
        and c.name != join_column
        and c.name not in excluded
        and 2 <= c.distinct_count <= MAX_CATEGORY_DISTINCT
    ]
    features: list[FeatureSpec] = []
    for column in categorical[:MAX_CATEGORY_COLUMNS]:
        col = f"t.{quote_ident(column.name)}"
        for top in column.top_values[:MAX_CATEGORY_VALUES]:
            if top.value is None:
                continue
            name, match = f"{slug(column.name)}_{slug(top.value)}", f"{col} = {literal(top.value)}"
            features += [
                FeatureSpec(
                    name=f"n_{name}",
                    expression=f"count({key}) FILTER (WHERE {match})",
                    hypothesis=f"how often {column.name} is {top.value!r} in {child.name}",
                ),
                FeatureSpec(
                    name=f"share_{name}",
                    expression=f"avg(CASE WHEN {match} THEN 1.0 ELSE 0.0 END)",
                    hypothesis=f"the share of {child.name} rows with {column.name} {top.value!r}",
                ),
            ]
            if time_column:
                features.append(
                    FeatureSpec(
                        name=f"n_{name}_last_180d",
                        expression=(
                            f"count({key}) FILTER (WHERE {match} AND {_within(time_column, 180)})"
                        ),
                        hypothesis=(
                            f"recent {child.name} rows with {column.name} {top.value!r}"
                            " signal a change"
                        ),
                    )
                )
    return features


def propose_feature_groups(
    objective: Objective, profile: WarehouseProfile
) -> tuple[FeatureGroup, ...]:
    entity = profile.table(objective.entity_table)
    assert entity is not None  # the objective was resolved against this profile
    label_columns = {objective.target_column, objective.cutoff_column or ""}
    groups = [entity_attribute_group(objective, entity, label_columns)]
    for relation in profile.children_of(entity.name):
        child = profile.table(relation.child_table)
        if (
            child is None
            or child.name == objective.label_table
            or relation.parent_column != objective.entity_key
            or relation.child_column in child.candidate_keys
        ):
            continue
        groups.append(child_aggregate_group(objective, child, relation.child_column))
    return tuple(g for g in groups if g.features)
