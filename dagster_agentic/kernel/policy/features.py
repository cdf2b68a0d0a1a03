"""The policy kernel's feature hypotheses, derived from the profile and the schema's semantics.

Entity attributes come from the entity's own row (and the dimension rows it points at) and
from every table one-to-one with it (``warehouse/extensions.py``: a unique column holding the
entity's ids, whatever its name); behaviour comes from aggregating every table that references
the entity (or a key holding its ids one-to-one), and every table that references those
(depth-2 paths such as customers <- sessions <- transactions). Nothing here
knows any table by name: columns are used by their semantic role, and leakage suspects never
enter a feature except through a point-in-time filter.

Point in time: under a goal with a cutoff, a table with many rows per entity is aggregated only
through its event time (a time type, or text/epochs read through a ``parse_time`` adapter); a
table whose event time cannot be read is left out (:func:`left_out_sources` says why), never
aggregated across all time. Entity attributes (one-to-one tables included) and dimension
lookups are read as static.
"""

from __future__ import annotations

from dagster_agentic.goals.objective import Objective
from dagster_agentic.kernel.policy.aggregates import (
    Source,
    category_features,
    ended_features,
    free_text_features,
    lookup_features,
    lookups_for,
    numeric_features,
    pivot_features,
    slug,
    volume_features,
)
from dagster_agentic.kernel.policy.time_features import entity_time_features
from dagster_agentic.plan.models import FeatureGroup, FeatureSpec, Lookup, PathStep
from dagster_agentic.warehouse.connection import quote_ident
from dagster_agentic.warehouse.extensions import Tie, key_holders, one_to_one_tables
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile
from dagster_agentic.warehouse.semantics import SchemaSemantics

MAX_REFERENCE_CATEGORIES = 100
"""A foreign key with at most this many distinct values is also a categorical feature."""


def entity_attribute_group(
    objective: Objective,
    entity: TableProfile,
    profile: WarehouseProfile,
    semantics: SchemaSemantics,
) -> FeatureGroup:
    features = attribute_features(objective, entity, semantics, objective.entity_key)
    source = Source(entity, objective.entity_key, None, semantics)
    skip = {entity.name, objective.label_table} | {t.table for t in _extensions(objective, profile)}
    lookups = lookups_for(source, profile, skip=skip)
    for lookup, parent in lookups:
        features += lookup_features(source, lookup, parent, aggregate=False)
    return FeatureGroup(
        name=slug(entity.name),
        kind="entity_attributes",
        source_table=entity.name,
        join_column=objective.entity_key,
        lookups=tuple(lookup for lookup, _ in lookups),
        features=tuple(features),
        rationale=f"attributes of the {entity.name} row itself"
        + (f" and its {', '.join(p.name for _, p in lookups)}" if lookups else "")
        + ": static, one row per entity, read as it is"
        + _keyed_lookups(tuple(lookup for lookup, _ in lookups))
        + _time_note(objective, entity)
        + _suspects_note(semantics, entity.name),
    )


def attribute_features(
    objective: Objective, table: TableProfile, semantics: SchemaSemantics, join_column: str
) -> list[FeatureSpec]:
    """One feature per usable column of a row that describes the entity (alias ``t``)."""
    features: list[FeatureSpec] = []
    for column in table.columns:
        role = semantics.role(table.name, column.name)
        col, name = f"t.{quote_ident(column.name)}", slug(column.name)
        if role == "numeric":
            features.append(
                FeatureSpec(
                    name=name,
                    expression=col,
                    hypothesis=f"{column.name} of the {table.name} row carries signal on its own",
                )
            )
        elif role == "boolean":
            features.append(
                FeatureSpec(
                    name=name,
                    expression=f"CAST({col} AS INTEGER)",
                    hypothesis=f"the flag {column.name} separates the classes",
                )
            )
        elif role == "categorical" and column.distinct_count <= 100:
            features.append(
                FeatureSpec(
                    name=name,
                    expression=col,
                    kind="categorical",
                    hypothesis=f"outcomes differ between {column.name} values",
                )
            )
        elif column.kind == "temporal" or role in ("timestamp", "event_time", "prediction_time"):
            features += entity_time_features(objective, table, column, role)
        elif role == "foreign_key" and column.name != join_column:
            features += _reference_feature(table, column)
        elif role == "free_text":
            features.append(
                FeatureSpec(
                    name=f"length_{name}",
                    expression=f"length({col})",
                    hypothesis=f"how much is written in {column.name}",
                )
            )
    return features


def _extensions(objective: Objective, profile: WarehouseProfile) -> tuple[Tie, ...]:
    """Tables with at most one row per entity besides the entity (the label table aside)."""
    skip = frozenset({objective.label_table}) - {objective.entity_table}
    return one_to_one_tables(profile, objective.entity_table, objective.entity_key, skip)


def extension_group(
    objective: Objective,
    tie: Tie,
    profile: WarehouseProfile,
    semantics: SchemaSemantics,
) -> FeatureGroup | None:
    """The columns of a table one-to-one with the entity, read as the entity's own attributes.

    Its row is found by the entity's id (``tie.column`` holds the key's values) or, when it is
    tied to another unique column of the entity, through the entity's row. Like the entity's
    own columns it is static: read as it is, not as of the cutoff.
    """
    table = profile.table(tie.table)
    if table is None:
        return None
    via = None
    if tie.entity_column != objective.entity_key:
        via = PathStep(
            table=objective.entity_table,
            join_column=objective.entity_key,
            key_column=tie.entity_column,
        )
    features = attribute_features(objective, table, semantics, tie.column)
    source = Source(table, tie.column, None, semantics)
    tied = {t.table for t in _extensions(objective, profile)}
    skip = {objective.entity_table, objective.label_table} | tied
    lookups = lookups_for(source, profile, skip=skip)
    for lookup, parent in lookups:
        features += lookup_features(source, lookup, parent, aggregate=False)
    joined = (
        f"by {objective.entity_table}.{tie.entity_column}"
        if via
        else f"by the entity's id ({tie.table}.{tie.column})"
    )
    return FeatureGroup(
        name=slug(table.name),
        kind="entity_attributes",
        source_table=table.name,
        join_column=tie.column,
        via=via,
        lookups=tuple(lookup for lookup, _ in lookups),
        features=tuple(features),
        rationale=f"attributes of the {table.name} row one-to-one with the entity, found"
        f" {joined}: {tie.evidence}"
        + (f"; with its {', '.join(p.name for _, p in lookups)}" if lookups else "")
        + "; static, at most one row per entity, read as it is (as the entity's own attributes"
        " are)"
        + _keyed_lookups(tuple(lookup for lookup, _ in lookups))
        + _suspects_note(semantics, table.name),
    )


def _suspects_note(semantics: SchemaSemantics, table: str) -> str:
    """The columns of ``table`` no feature reads because they restate the label, with why."""
    suspects = semantics.columns_of(table, "leakage_suspect")
    if not suspects:
        return ""
    return "; left out as leakage suspects: " + "; ".join(
        f"{c.column} ({c.evidence})" for c in suspects
    )


def _keyed_lookups(lookups: tuple[Lookup, ...]) -> str:
    """How each composite-keyed dimension is matched (time parts truncated to their bucket)."""
    notes = []
    for lookup in lookups:
        if not lookup.more:
            continue
        parts = ", ".join(
            f"{p.column}{f' (to the {p.bucket})' if p.bucket else ''} = {p.key_column}"
            for p in lookup.parts
        )
        when = f", rows up to the prediction time by {lookup.time_key}" if lookup.time_key else ""
        notes.append(f"{lookup.table} matched on {parts}{when}")
    return "; " + "; ".join(notes) if notes else ""


def _time_note(objective: Objective, entity: TableProfile) -> str:
    """Which time the entity's time features are measured to (see ``time_features.py``)."""
    if objective.cutoff_column is None:
        return (
            "; no prediction time: ages are measured to the latest time of each column (or to"
            " the time the entity is scored at)"
        )
    if objective.label_table == entity.name:
        return f"; predicted at the entity's own {objective.cutoff_column}"
    return f"; ages as of {objective.label_table}.{objective.cutoff_column}"


def _reference_feature(entity: TableProfile, column: ColumnProfile) -> list[FeatureSpec]:
    """The foreign key's own value as a category, next to its dimension's attributes.

    A dimension with one or two attributes (a store's region) says less than which store it
    is: the key itself keeps that signal, wherever its cardinality allows a category.
    """
    if not 2 <= column.distinct_count <= MAX_REFERENCE_CATEGORIES:
        return []
    return [
        FeatureSpec(
            name=slug(column.name),
            expression=f"CAST(t.{quote_ident(column.name)} AS VARCHAR)",
            kind="categorical",
            hypothesis=f"outcomes differ between the {column.name} the {entity.name} row points at",
        )
    ]


def _aggregates(source: Source, objective: Objective) -> list[FeatureSpec]:
    features = volume_features(source)
    features += numeric_features(source)
    features += pivot_features(source)
    features += category_features(source)
    features += free_text_features(source)
    if objective.cutoff_column:
        features += ended_features(source)
    return features


def _rationale(
    source: Source, semantics: SchemaSemantics, prefix: str, dimensions: tuple[str, ...] = ()
) -> str:
    table = source.table
    text = f"{prefix} ({table.row_count:,} rows) per entity"
    if source.time_column:
        text += f", as of the cutoff by {source.time_column}"
        reading = semantics.time_reading(table.name, source.time_column)
        if reading is not None:
            text += f" (read as a time: {reading.described})"
    if dimensions:
        text += f"; dimension lookups ({', '.join(dimensions)}) are static: read as they are"
    return text + _suspects_note(semantics, table.name)


def aggregate_group(
    objective: Objective,
    table: TableProfile,
    join_column: str,
    profile: WarehouseProfile,
    semantics: SchemaSemantics,
    *,
    via: PathStep | None = None,
) -> FeatureGroup:
    """Aggregates of ``table`` per entity: its rows reference the entity through
    ``join_column``, or, on a depth-2 path, reference the rows of ``via`` that do."""
    time = _time_column(objective, table, semantics)
    source = Source(table, join_column, time, semantics)
    skip = {objective.entity_table, objective.label_table} | ({via.table} if via else set())
    lookups = lookups_for(source, profile, skip=skip)
    features = _aggregates(source, objective)
    for lookup, parent in lookups:
        features += lookup_features(source, lookup, parent, aggregate=True)
    what = f"behaviour recorded in {table.name}"
    return FeatureGroup(
        name=f"{slug(table.name)}_via_{slug(via.table)}" if via else slug(table.name),
        kind="path_aggregates" if via else "child_aggregates",
        source_table=table.name,
        join_column=join_column,
        time_column=time,
        via=via,
        lookups=tuple(lookup for lookup, _ in lookups),
        features=tuple(features),
        rationale=_rationale(
            source,
            semantics,
            f"{what} through {via.table} (depth 2)" if via else what,
            tuple(parent.name for _, parent in lookups),
        ),
    )


def _time_column(
    objective: Objective, table: TableProfile, semantics: SchemaSemantics
) -> str | None:
    if not objective.cutoff_column:
        return None
    described = semantics.table(table.name)
    return described.event_time if described else None


def propose_feature_groups(
    objective: Objective, profile: WarehouseProfile, semantics: SchemaSemantics
) -> tuple[FeatureGroup, ...]:
    entity = profile.table(objective.entity_table)
    assert entity is not None  # the objective was resolved against this profile
    groups = [entity_attribute_group(objective, entity, profile, semantics)]
    for tie in _extensions(objective, profile):
        extension = extension_group(objective, tie, profile, semantics)
        if extension is not None and _tie_unreadable(objective, tie, semantics) is None:
            groups.append(extension)
    for table, join_column, via in _sources(objective, profile, semantics, entity.name):
        if _unreadable(objective, table, semantics, via, join_column) is None:
            groups.append(
                aggregate_group(objective, table, join_column, profile, semantics, via=via)
            )
    return tuple(g for g in groups if g.features)


def left_out_sources(
    objective: Objective, profile: WarehouseProfile, semantics: SchemaSemantics
) -> tuple[str, ...]:
    """Why each table with many rows per entity is left out: its (or its path's) event time
    cannot be read, and aggregating it across all time would read rows after the cutoff; or
    it (or a one-to-one table) is reached only through a leakage suspect."""
    entity = profile.table(objective.entity_table)
    if entity is None:
        return ()
    reasons = [
        why
        for tie in _extensions(objective, profile)
        if (why := _tie_unreadable(objective, tie, semantics)) is not None
    ]
    for table, join_column, via in _sources(objective, profile, semantics, entity.name):
        why = _unreadable(objective, table, semantics, via, join_column)
        if why is not None:
            reasons.append(why)
    return tuple(dict.fromkeys(reasons))


def _tie_unreadable(objective: Objective, tie: Tie, semantics: SchemaSemantics) -> str | None:
    """Why a one-to-one table is not read: it is found through a leakage suspect (a column
    the goal excludes, say), whose values would choose the row."""
    steps = [(tie.table, tie.column), (objective.entity_table, tie.entity_column)]
    for owner, column in steps:
        if semantics.role(owner, column) == "leakage_suspect":
            return f"left out {tie.table}: it is found through {owner}.{column}, a leakage suspect"
    return None


def _sources(
    objective: Objective, profile: WarehouseProfile, semantics: SchemaSemantics, entity: str
) -> list[tuple[TableProfile, str, PathStep | None]]:
    """Every table aggregated per entity: (table, its joining column, the path step if any)."""
    found: list[tuple[TableProfile, str, PathStep | None]] = []
    children = _children(objective, profile, entity)
    found += [(child, join_column, None) for child, join_column in children]
    direct = {child.name for child, _ in children}
    for child, join_column in children:
        for relation in profile.children_of(child.name):
            grandchild = profile.table(relation.child_table)
            if (
                grandchild is None
                or grandchild.name in direct
                or grandchild.name in (entity, objective.label_table)
                or relation.child_column in grandchild.candidate_keys
            ):
                continue
            via = PathStep(
                table=child.name,
                join_column=join_column,
                key_column=relation.parent_column,
                time_column=_time_column(objective, child, semantics),
            )
            found.append((grandchild, relation.child_column, via))
    return found


def _unreadable(
    objective: Objective,
    table: TableProfile,
    semantics: SchemaSemantics,
    via: PathStep | None,
    join_column: str,
) -> str | None:
    """Why ``table`` (on ``via``'s path, joined on ``join_column``) cannot be read as of the
    cutoff, or at all; None when it can. A path through a leakage suspect (a column excluded
    by the goal, say) is not read: which rows an entity reaches through it is the column's
    information."""
    steps = [(table.name, join_column)]
    if via is not None:
        steps += [(via.table, via.join_column), (via.table, via.key_column)]
    for owner, column in steps:
        if semantics.role(owner, column) == "leakage_suspect":
            return (
                f"left out {table.name}: it is reached through {owner}.{column}, a leakage suspect"
            )
    if not objective.cutoff_column:
        return None
    if _time_column(objective, table, semantics) is None:
        return (
            f"left out {table.name} ({table.row_count:,} rows): it has many rows per entity and"
            " no event time that can be read (no time column, nor text or epochs that parse),"
            " so it cannot be read as of the cutoff; it is not aggregated across all time"
        )
    if via is not None and via.time_column is None:
        return (
            f"left out {table.name} through {via.table}: {via.table} has no event time that can"
            " be read, so the path cannot be read as of the cutoff"
        )
    return None


def _children(
    objective: Objective, profile: WarehouseProfile, entity: str
) -> list[tuple[TableProfile, str]]:
    """Tables with many rows per entity: (table, the column that references the entity).

    A table referencing another table's key that holds the entity's ids one-to-one (the
    entity extends it, or it extends the entity) references the entity's id as well.
    """
    holders = key_holders(
        profile, entity, objective.entity_key, frozenset({objective.label_table}) - {entity}
    )
    found: list[tuple[TableProfile, str]] = []
    for relation in profile.relationships:
        child = profile.table(relation.child_table)
        if (
            child is None
            or (relation.parent_table, relation.parent_column) not in holders
            or child.name == objective.label_table
            or relation.child_column in child.candidate_keys
        ):
            continue
        found.append((child, relation.child_column))
    return found
