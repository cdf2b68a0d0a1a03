"""Features a model proposes beyond the policy's templates, as structured ideas, never SQL.

An idea names a child-table feature group of the plan, an aggregate, the source column it
reads, conditions on the source's columns and a window before the prediction time. This module
writes the SQL expression itself (quoted identifiers, literal values the column holds, the
group's own time column for the window), so an idea can only be an aggregate of the kinds the
policy writes. The planner then treats it as any candidate: the SQL policy checks the dbt model,
the leakage audit and the point-in-time rules apply, the warehouse screens it against the
label, and SHAP tells whether it was worth its place.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dagster_agentic.errors import GoalError
from dagster_agentic.kernel.llm.reading import CohortCondition, predicate
from dagster_agentic.plan.models import FeatureGroup, FeatureSpec
from dagster_agentic.warehouse.connection import quote_ident
from dagster_agentic.warehouse.models import WarehouseProfile

MAX_IDEAS = 24
Aggregate = Literal["count", "sum", "avg", "min", "max", "stddev", "count_distinct", "share"]
_SQL = {"sum": "sum", "avg": "avg", "min": "min", "max": "max", "stddev": "stddev_samp"}


class FeatureIdea(BaseModel):
    """A feature hypothesis: ``aggregate`` of ``column`` over the entity's rows of the group's
    source that meet ``where``, within ``window_days`` before the prediction time. ``share``
    is the fraction of the entity's rows (in the window) that meet ``where``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: str = Field(description="A child_aggregates feature group of the plan.")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")
    aggregate: Aggregate
    column: str | None = Field(
        default=None, description="Source column (not needed for count and share)."
    )
    where: list[CohortCondition] = Field(
        default_factory=list, description="Conditions on the source table's columns."
    )
    window_days: int | None = Field(default=None, ge=1, le=3650)
    hypothesis: str = Field(max_length=300)


def compile_ideas(
    ideas: list[FeatureIdea], groups: tuple[FeatureGroup, ...], profile: WarehouseProfile
) -> dict[str, tuple[FeatureSpec, ...]]:
    """The new features per group name; a :class:`GoalError` naming the idea that cannot be."""
    if len(ideas) > MAX_IDEAS:
        raise GoalError(f"{len(ideas)} feature ideas; propose at most {MAX_IDEAS}")
    by_name = {g.name: g for g in groups}
    added: dict[str, list[FeatureSpec]] = {}
    for idea in ideas:
        group = by_name.get(idea.group)
        if group is None or group.kind != "child_aggregates":
            usable = [g.name for g in groups if g.kind == "child_aggregates"]
            raise GoalError(
                f"feature idea {idea.name!r}: {idea.group!r} is no child_aggregates group;"
                f" groups: {', '.join(usable) or 'none'}"
            )
        taken = {f.name for f in group.features} | {f.name for f in added.get(group.name, [])}
        if idea.name in taken:
            raise GoalError(
                f"feature idea {idea.name!r}: group {group.name} has a feature so named"
            )
        added.setdefault(group.name, []).append(_feature(idea, group, profile))
    return {name: tuple(features) for name, features in added.items()}


def _feature(idea: FeatureIdea, group: FeatureGroup, profile: WarehouseProfile) -> FeatureSpec:
    source = profile.table(group.source_table)
    assert source is not None  # the policy planned the group on a profiled table
    where = f"feature idea {idea.name!r}"
    filters = []
    for condition in idea.where:
        table, _, name = condition.column.rpartition(".")
        column = source.column(name)
        if column is None or (table and table.lower() != source.name.lower()):
            raise GoalError(f"{where}: {condition.column!r} is no column of {source.name}")
        filters.append(predicate(condition, column, f"{source.name}.{column.name}", alias="t"))
    window = []
    if idea.window_days is not None:
        if group.time_column is None:
            raise GoalError(f"{where}: {source.name} has no time column, so no window")
        window.append(
            f"t.{quote_ident(group.time_column)} >= s.cutoff_at - INTERVAL {idea.window_days} DAY"
        )
    key = f"t.{quote_ident(group.join_column)}"
    if idea.aggregate in {"count", "share"}:
        target = key
    else:
        if idea.column is None:
            raise GoalError(f"{where}: {idea.aggregate} needs a column")
        column = source.column(idea.column.rpartition(".")[2])
        if column is None:
            raise GoalError(f"{where}: {idea.column!r} is no column of {source.name}")
        if idea.aggregate != "count_distinct" and column.kind != "numeric":
            raise GoalError(f"{where}: {idea.aggregate} needs a numeric column, not {column.name}")
        target = f"t.{quote_ident(column.name)}"
    if idea.aggregate == "share":
        if not filters:
            raise GoalError(f"{where}: a share needs a condition (where)")
        numerator = _filtered(f"count({key})", [*filters, *window])
        expression = f"{numerator} / nullif({_filtered(f'count({key})', window)}, 0)"
    elif idea.aggregate == "count_distinct":
        expression = _filtered(f"count(DISTINCT {target})", [*filters, *window])
    else:
        function = "count" if idea.aggregate == "count" else _SQL[idea.aggregate]
        expression = _filtered(f"{function}({target})", [*filters, *window])
    return FeatureSpec(
        name=idea.name, expression=expression, hypothesis=idea.hypothesis, kind="numeric"
    )


def _filtered(aggregate: str, conditions: list[str]) -> str:
    if not conditions:
        return aggregate
    return f"{aggregate} FILTER (WHERE {' AND '.join(conditions)})"
