"""The structured objective a kernel makes of a goal's natural-language text."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Metric = Literal[
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "accuracy",
    "macro_f1",
    "rmse",
    "mae",
    "r2",
]
TaskType = Literal["binary_classification", "multiclass_classification", "regression"]
ClassValue = str | int | bool

BINARY_METRICS: frozenset[str] = frozenset({"precision", "recall", "f1", "roc_auc", "accuracy"})
MULTICLASS_METRICS: frozenset[str] = frozenset({"accuracy", "macro_f1"})
REGRESSION_METRICS: frozenset[str] = frozenset({"rmse", "mae", "r2"})
TASK_METRICS: dict[str, frozenset[str]] = {
    "binary_classification": BINARY_METRICS,
    "multiclass_classification": MULTICLASS_METRICS,
    "regression": REGRESSION_METRICS,
}
LOWER_IS_BETTER: frozenset[str] = frozenset({"rmse", "mae"})
"""Error metrics: the goal is met when the metric is at most the threshold."""
UNBOUNDED_METRICS: frozenset[str] = frozenset({"rmse", "mae"})
"""Metrics in the target's own unit: their threshold is any non-negative number."""
MAX_CLASSES = 50
"""More distinct values than this make a column a regression target or an identifier."""


def higher_is_better(metric: str) -> bool:
    """True for scores (precision, R², ...), False for errors (RMSE, MAE)."""
    return metric not in LOWER_IS_BETTER


class Objective(BaseModel):
    """What the agent optimises, resolved against the warehouse.

    Every table and column named here exists in the warehouse profile the objective was
    resolved against; ``cohort_sql`` is a boolean SQL predicate over columns of ``entity_table``.

    The task decides how the target is read: a binary target is 1 where it equals
    ``positive_value``; a multiclass target takes one of ``classes`` (index order is the
    model's class order); a regression target is read as a DOUBLE. ``threshold`` is a floor
    for scores and a ceiling for errors (:data:`LOWER_IS_BETTER`), in the target's own unit
    for RMSE and MAE.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: TaskType = "binary_classification"
    entity_table: str = Field(description="The table whose rows are predicted, e.g. customers.")
    entity_key: str = Field(description="Primary key column of the entity table.")
    label_table: str = Field(
        description="Table that holds the target column (may be entity_table)."
    )
    label_key: str = Field(description="Column of label_table that references entity_key.")
    target_column: str
    positive_value: ClassValue = Field(
        default=1,
        description="Binary tasks: the value of target_column that counts as the positive class.",
    )
    classes: tuple[ClassValue, ...] = Field(
        default=(),
        description="Multiclass tasks: the target's values, in the model's class order.",
    )
    cutoff_column: str | None = Field(
        default=None,
        description="Column of label_table with the prediction time; features use data before it.",
    )
    metric: Metric
    threshold: float = Field(ge=0.0)
    confidence_level: float = Field(
        default=0.95,
        gt=0.5,
        lt=1.0,
        description="Level of the metric's confidence interval; the verdict rests on it.",
    )
    min_support: int = Field(
        default=10,
        ge=1,
        description="Fewest supporting rows (e.g. predicted positives for precision) a met or"
        " not-met verdict needs; fewer make it inconclusive.",
    )
    cohort_sql: str | None = Field(
        default=None, description="SQL predicate over entity_table columns, e.g. country IN ('DE')."
    )
    cohort_description: str = "all rows"
    rationale: tuple[str, ...] = Field(
        default=(), description="How each field was decided, one line each (for the trace)."
    )

    @model_validator(mode="after")
    def _fits_task(self) -> Objective:
        allowed = TASK_METRICS[self.task]
        if self.metric not in allowed:
            raise ValueError(
                f"metric {self.metric!r} does not fit a {self.task} task; "
                f"use one of {', '.join(sorted(allowed))}"
            )
        if self.metric not in UNBOUNDED_METRICS and self.threshold > 1.0:
            raise ValueError(f"a {self.metric} threshold lies in [0, 1], got {self.threshold:g}")
        if self.task == "multiclass_classification" and len(self.classes) < 3:
            raise ValueError("a multiclass objective lists at least three classes")
        if self.task != "multiclass_classification" and self.classes:
            raise ValueError(f"a {self.task} objective lists no classes")
        return self

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"

    @property
    def higher_is_better(self) -> bool:
        return higher_is_better(self.metric)
