"""The policy kernel's data expectations: what must hold for the plan's assumptions to hold.

Each expectation is one that real data can break: a point-in-time violation, a duplicated
entity, a volume collapse, a value outside what the plan was built on.
"""

from __future__ import annotations

import math

from dagster_agentic.goals.objective import Objective
from dagster_agentic.plan.models import Expectation, FeatureGroup, TrainingSetSpec
from dagster_agentic.warehouse.models import WarehouseProfile

# Volume may move between plan and run; a halving or doubling means something else happened.
VOLUME_LOW, VOLUME_HIGH = 0.5, 2.0
RANGE_MARGIN = 0.5
"""Share of the planned span allowed beyond either end of a numeric attribute's range: new
entities arrive with values a little outside it; a unit change or corruption lands far off."""


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _label_rows(objective: Objective, profile: WarehouseProfile) -> int:
    table = profile.table(objective.label_table)
    return table.row_count if table else 0


def _volume(objective: Objective, profile: WarehouseProfile, severity: str) -> Expectation:
    rows = _label_rows(objective, profile)
    return Expectation(
        check="row_count_between",
        min_value=max(1, int(rows * VOLUME_LOW)),
        max_value=int(rows * VOLUME_HIGH) + 1,
        severity="error" if severity == "error" else "warn",
        reason=f"one row per labelled entity: about {rows:,} when the plan was made",
    )


def group_expectations(
    group: FeatureGroup, objective: Objective, profile: WarehouseProfile
) -> tuple[Expectation, ...]:
    expectations = [_volume(objective, profile, "warn")]
    source = profile.table(group.source_table)
    for feature in group.features:
        if feature.name.startswith("days_since"):
            expectations.append(
                Expectation(
                    check="between",
                    column=group.column_name(feature),
                    min_value=0,
                    severity="error" if group.kind != "entity_attributes" else "warn",
                    reason="point in time: nothing may be recorded after the prediction time",
                )
            )
            continue
        column = source.column(feature.name) if source else None
        if group.kind == "entity_attributes" and column is not None:
            if feature.kind == "categorical" and column.distinct_count <= 20:
                values = tuple(str(v.value) for v in column.top_values if v.value is not None)
                if len(values) == column.distinct_count:
                    expectations.append(
                        Expectation(
                            check="accepted_values",
                            column=group.column_name(feature),
                            values=values,
                            reason=f"the {column.name} values the plan was built on",
                        )
                    )
            elif column.kind == "numeric" and _finite(column.min) and _finite(column.max):
                low, high = float(column.min), float(column.max)  # type: ignore[arg-type]
                margin = RANGE_MARGIN * max(high - low, abs(high), 1e-9)
                expectations.append(
                    Expectation(
                        check="between",
                        column=group.column_name(feature),
                        min_value=max(low - margin, 0.0) if low >= 0 else low - margin,
                        max_value=high + margin,
                        reason=f"the range of {column.name} when the plan was made"
                        f" ([{low:g}, {high:g}], with room for new rows slightly outside it)",
                    )
                )
    return tuple(expectations)


def training_set_spec(objective: Objective, profile: WarehouseProfile) -> TrainingSetSpec:
    return TrainingSetSpec(
        expectations=(
            _volume(objective, profile, "error"),
            Expectation(
                check="not_null", column="entity_id", severity="error", reason="every row has an id"
            ),
            _label_expectation(objective),
            Expectation(
                check="accepted_values",
                column="split",
                values=("train", "valid", "test"),
                severity="error",
                reason="every row belongs to exactly one split",
            ),
        )
    )


def _label_expectation(objective: Objective) -> Expectation:
    """What the training set's label holds for the task: 0/1 for a binary goal, the class
    indices of ``Objective.classes`` for a multiclass one, a value on every row for a
    regression (rows without a target are left out of the training set)."""
    if objective.task == "regression":
        return Expectation(
            check="not_null", column="label", severity="error", reason="a regression target"
        )
    if objective.task == "multiclass_classification":
        return Expectation(
            check="accepted_values",
            column="label",
            values=tuple(range(len(objective.classes))),
            severity="error",
            reason=f"the index of one of the {len(objective.classes)} classes",
        )
    return Expectation(
        check="accepted_values",
        column="label",
        values=(0, 1),
        severity="error",
        reason="a binary label",
    )
