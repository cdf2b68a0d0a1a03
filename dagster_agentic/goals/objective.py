"""The structured objective a kernel makes of a goal's natural-language text."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Metric = Literal["precision", "recall", "f1", "roc_auc", "accuracy"]
TaskType = Literal["binary_classification"]


class Objective(BaseModel):
    """What the agent optimises, resolved against the warehouse.

    Every table and column named here exists in the warehouse profile the objective was
    resolved against; ``cohort_sql`` is a boolean SQL predicate over columns of ``entity_table``.
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
    positive_value: str | int | bool = Field(
        default=1, description="Value of target_column that counts as the positive class."
    )
    cutoff_column: str | None = Field(
        default=None,
        description="Column of label_table with the prediction time; features use data before it.",
    )
    metric: Metric
    threshold: float = Field(ge=0.0, le=1.0)
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
