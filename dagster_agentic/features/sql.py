"""Render a plan's feature groups and training set as SQL.

Table references are written through a ``TableRef`` callback, so the same SQL is rendered
twice: with dbt's ``source()``/``ref()`` for the generated project (``dbt_project``, which
also makes every other character of it literal to Jinja), and with plain ``schema.table``
names for the guardrail's parse and the warehouse's dry run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from dagster_agentic.features.label import label_sql, labelled_sql
from dagster_agentic.goals.objective import Objective
from dagster_agentic.plan.models import FeatureGroup, Plan
from dagster_agentic.warehouse.composite import read_sql
from dagster_agentic.warehouse.connection import quote_ident

RefKind = Literal["source", "model"]
TableRef = Callable[[RefKind, str], str]
"""Maps ('source', raw table) or ('model', model name) to SQL that names the relation."""


def warehouse_ref(raw_schema: str, agent_schema: str) -> TableRef:
    """Reference relations by their real names in the warehouse."""

    def ref(kind: RefKind, name: str) -> str:
        schema = raw_schema if kind == "source" else agent_schema
        return f"{quote_ident(schema)}.{quote_ident(name)}"

    return ref


def model_name(goal: str, part: str) -> str:
    """dbt model names are global in a project: prefix them with the goal."""
    return f"{goal}__{part}"


def spine_cte(objective: Objective, ref: TableRef) -> str:
    """One row per labelled entity and prediction time: the rows every feature is computed for."""
    cutoff = (
        f"CAST(l.{quote_ident(objective.cutoff_column)} AS TIMESTAMP)"
        if objective.cutoff_column
        else "CAST(NULL AS TIMESTAMP)"
    )
    key = quote_ident(objective.label_key)
    return (
        "s AS (\n"
        f"    SELECT DISTINCT l.{key} AS entity_id, {cutoff} AS cutoff_at\n"
        f"    FROM {ref('source', objective.label_table)} AS l\n"
        f"    WHERE l.{key} IS NOT NULL\n"
        ")"
    )


def feature_group_sql(
    objective: Objective, group: FeatureGroup, ref: TableRef, *, spine: str | None = None
) -> str:
    """A SELECT with one row per (entity_id, cutoff_at) and one column per feature.

    ``spine`` replaces the labelled spine (:func:`spine_cte`) with another CTE named ``s`` of
    the same two columns, e.g. the entities to score and the time they are scored at.
    """
    hypotheses = "\n".join(
        f"-- {group.column_name(f)}: {_one_line(f.hypothesis)}" for f in group.features
    )
    columns = ",\n".join(
        f"    {f.expression} AS {quote_ident(group.column_name(f))}" for f in group.features
    )
    point_in_time = objective.cutoff_column is not None
    source = ref("source", group.source_table)
    if group.via is not None:
        via = group.via
        on_via = f"p.{quote_ident(via.join_column)} = s.entity_id"
        if via.time_column and point_in_time:
            on_via += f" AND p.{quote_ident(via.time_column)} < s.cutoff_at"
        joins = f"LEFT JOIN {ref('source', via.table)} AS p ON {on_via}\n"
        on = f"t.{quote_ident(group.join_column)} = p.{quote_ident(via.key_column)}"
    else:
        joins = ""
        on = f"t.{quote_ident(group.join_column)} = s.entity_id"
    if group.kind != "entity_attributes" and group.time_column and point_in_time:
        # Point-in-time: only rows recorded before the prediction time may describe it.
        on += f" AND t.{quote_ident(group.time_column)} < s.cutoff_at"
    joins += f"LEFT JOIN {source} AS t ON {on}\n"
    for lookup in group.lookups:
        on_lookup = " AND ".join(
            f"{lookup.alias}.{quote_ident(part.key_column)}"
            f" = {read_sql(f't.{quote_ident(part.column)}', part.bucket)}"
            for part in lookup.parts
        )
        if lookup.time_key and point_in_time:
            # A dimension row of a later time is not known at the prediction time.
            on_lookup += f" AND {lookup.alias}.{quote_ident(lookup.time_key)} <= s.cutoff_at"
        joins += f"LEFT JOIN {ref('source', lookup.table)} AS {lookup.alias} ON {on_lookup}\n"
    sql = (
        f"{hypotheses}\nWITH {spine or spine_cte(objective, ref)}\n"
        f"SELECT\n    s.entity_id,\n    s.cutoff_at,\n{columns}\nFROM s\n{joins}"
    )
    if group.kind == "entity_attributes":
        return sql
    return sql + "GROUP BY s.entity_id, s.cutoff_at\n"


def _one_line(text: str) -> str:
    """Comment text that cannot end its ``--`` comment: a line break would start SQL."""
    return " ".join(text.split())


def split_expression(plan: Plan) -> str:
    spec = plan.training_set
    bucket = f"hash(s.entity_id, {spec.split_seed}) % 1000"
    train_end = round(spec.train_fraction * 1000)
    valid_end = round((spec.train_fraction + spec.valid_fraction) * 1000)
    return (
        f"CASE WHEN {bucket} < {train_end} THEN 'train' "
        f"WHEN {bucket} < {valid_end} THEN 'valid' ELSE 'test' END"
    )


def training_set_sql(plan: Plan, ref: TableRef) -> str:
    """Spine + every feature group + label + split + cohort flag, one row per labelled entity.

    The label is encoded per task (:mod:`dagster_agentic.features.label`): 0/1, a class index,
    or a DOUBLE; rows without a label under that encoding are left out.
    """
    objective = plan.objective
    label = f"l.{quote_ident(objective.target_column)}"
    cohort = objective.cohort_sql or "TRUE"
    joins, columns = [], []
    for index, group in enumerate(plan.feature_groups):
        alias = f"g{index}"
        joins.append(
            f"LEFT JOIN {ref('model', model_name(plan.goal, group.name))} AS {alias}"
            f" ON {alias}.entity_id = s.entity_id"
            f" AND {alias}.cutoff_at IS NOT DISTINCT FROM s.cutoff_at"
        )
        columns += [f"    {alias}.{quote_ident(group.column_name(f))}" for f in group.features]
    cutoff_match = (
        f" AND CAST(l.{quote_ident(objective.cutoff_column)} AS TIMESTAMP) = s.cutoff_at"
        if objective.cutoff_column
        else ""
    )
    return (
        f"WITH {spine_cte(objective, ref)},\n"
        "cohort AS (\n"
        f"    SELECT {quote_ident(objective.entity_key)} AS entity_id,\n"
        f"           COALESCE(({cohort}), FALSE) AS in_cohort\n"
        f"    FROM {ref('source', objective.entity_table)}\n"
        ")\n"
        "SELECT\n    s.entity_id,\n    s.cutoff_at,\n" + ",\n".join(columns) + ",\n"
        f"    {label_sql(objective, label)} AS label,\n"
        f"    {split_expression(plan)} AS split,\n"
        "    COALESCE(c.in_cohort, FALSE) AS in_cohort\n"
        "FROM s\n"
        f"JOIN {ref('source', objective.label_table)} AS l"
        f" ON l.{quote_ident(objective.label_key)} = s.entity_id{cutoff_match}\n"
        + "".join(j + "\n" for j in joins)
        + "LEFT JOIN cohort AS c ON c.entity_id = s.entity_id\n"
        f"WHERE {labelled_sql(objective, label)}\n"
    )
