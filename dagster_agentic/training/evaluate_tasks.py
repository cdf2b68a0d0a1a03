"""Scoring a multiclass or regression model against the objective's metric and target.

There is no decision threshold: a multiclass row is predicted as its most probable class
(argmax), a regression row as the model's value. The metric comes with its confidence
interval on the evaluated rows (``training.task_confidence``) and the verdict that interval
supports, in the metric's direction: a score (accuracy, macro-F1, R²) is met when the lower
bound reaches the target, an error (RMSE, MAE) when the upper bound is at or below it.

The rows are either a held-out test split or, on small data, the pooled out-of-fold
predictions of a cross-validation (``method``), which the explanation states.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from dagster_agentic.errors import DataError
from dagster_agentic.goals.objective import TASK_METRICS, higher_is_better
from dagster_agentic.training.confidence import DEFAULT_LEVEL, MIN_SUPPORT, verdict_of
from dagster_agentic.training.evaluate import json_scalar
from dagster_agentic.training.task_confidence import (
    baseline,
    in_unit,
    macro_f1,
    regression_value,
    task_interval,
    trivial_task_reason,
)


@dataclass(frozen=True)
class TaskEvaluation:
    """The metric of a multiclass or regression model on one set of rows."""

    task: str
    metric: str
    target: float
    value: float
    met: bool
    verdict: str
    """"met", "not_met" or "inconclusive"."""
    higher_is_better: bool
    interval_low: float
    interval_high: float
    level: float
    interval_method: str
    support: int
    support_name: str
    min_support: int
    trivial: bool
    trivial_reason: str | None
    baseline: float
    baseline_description: str
    n_rows: int
    method: str
    """"holdout" (the test split) or "cross_validation" (pooled out-of-fold predictions)."""
    method_detail: str
    explanation: str
    metrics: dict[str, float] = field(default_factory=dict)
    """Every metric of the task on these rows (accuracy and macro_f1, or rmse, mae and r2)."""

    def to_dict(self) -> dict[str, Any]:
        data = {k: json_scalar(v) for k, v in asdict(self).items() if k != "metrics"}
        data["metrics"] = {k: json_scalar(v) for k, v in self.metrics.items()}
        return data


def predicted_classes(output: Any, n_classes: int) -> np.ndarray:
    """Class indices from (n, k) probabilities (argmax) or from (n,) indices as given."""
    values = np.asarray(output)
    if values.ndim == 2:
        if values.shape[1] != n_classes:
            raise DataError(
                f"the model gives {values.shape[1]} class probabilities, the objective has"
                f" {n_classes} classes",
                fix="retrain the model for the objective's classes",
            )
        return values.argmax(axis=1).astype(np.int64)
    return values.astype(np.int64)


def evaluate_task(
    task: str,
    y_true: Any,
    output: Any,
    *,
    metric: str,
    target: float,
    n_classes: int = 0,
    classes: Sequence[Any] = (),
    population: str = "rows",
    level: float = DEFAULT_LEVEL,
    min_support: int = MIN_SUPPORT,
    method: str = "holdout",
    method_detail: str = "the test split",
) -> TaskEvaluation:
    """Evaluate ``output`` (class probabilities or indices; regression values) on ``y_true``;
    ``classes`` (the target's values in class-index order) name the baseline's class."""
    if task not in ("multiclass_classification", "regression"):
        raise DataError(
            f"evaluate_task scores multiclass and regression tasks, not {task!r}",
            fix="evaluate binary tasks with training.evaluate.evaluate",
        )
    if metric not in TASK_METRICS[task]:
        raise DataError(
            f"metric {metric!r} does not fit a {task} task",
            fix=f"use one of {', '.join(sorted(TASK_METRICS[task]))}",
        )
    y, predicted = _checked(task, y_true, output, n_classes)
    n = len(y)
    if task == "multiclass_classification":
        metrics = {
            "accuracy": float((predicted == y).mean()),
            "macro_f1": macro_f1(y, predicted, n_classes),
        }
    else:
        metrics = {m: regression_value(m, y, predicted) for m in ("rmse", "mae", "r2")}
    value = metrics[metric]
    up = higher_is_better(metric)
    interval = task_interval(metric, y, predicted, n_classes=n_classes, level=level)
    verdict = verdict_of(interval, target, min_support=min_support, higher_is_better=up)
    base = baseline(metric, y, n_classes, classes)
    trivial = trivial_task_reason(metric, target, base)
    shown = _shown(metric)
    rows = f"{n:,} {population}"
    text = (
        f"{metric} {shown(value)}, {level:.0%} CI [{shown(interval.low)}, {shown(interval.high)}]"
        f" ({interval.method}) on {rows}, from {method_detail}:"
        f" {_because(verdict, interval.low, interval.high, target, up, n, min_support, shown)}"
        f"; baseline: {base.description} gives {metric} {shown(base.value)}"
    )
    if trivial:
        text += f"; the target is trivial: {trivial}"
    return TaskEvaluation(
        task=task,
        metric=metric,
        target=float(target),
        value=float(value),
        met=verdict == "met",
        verdict=verdict,
        higher_is_better=up,
        interval_low=interval.low,
        interval_high=interval.high,
        level=float(level),
        interval_method=interval.method,
        support=interval.support,
        support_name=interval.support_name,
        min_support=int(min_support),
        trivial=trivial is not None,
        trivial_reason=trivial,
        baseline=float(base.value),
        baseline_description=base.description,
        n_rows=n,
        method=method,
        method_detail=method_detail,
        explanation=text,
        metrics=metrics,
    )


def _checked(task: str, y_true: Any, output: Any, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true)
    if y.ndim != 1 or len(y) == 0:
        raise DataError(
            f"no rows to evaluate (labels of shape {y.shape})",
            fix="widen the cohort filter or check that the split assigns cohort rows to it",
        )
    if task == "regression":
        values = np.asarray(output, dtype="float64")
        truth = y.astype("float64")
        if values.shape != truth.shape:
            raise DataError(
                f"targets and predictions differ in shape: {truth.shape} vs {values.shape}",
                fix="predict exactly the rows whose targets are passed",
            )
        bad = ~(np.isfinite(values) & np.isfinite(truth))
        if bad.any():
            raise DataError(
                f"{int(bad.sum()):,} targets or predictions are NULL, NaN or infinite",
                fix="check the features given to the model and drop rows with a NULL target",
            )
        return truth, values
    predicted = predicted_classes(output, n_classes)
    if predicted.shape != y.shape:
        raise DataError(
            f"labels and predictions differ in shape: {y.shape} vs {predicted.shape}",
            fix="predict exactly the rows whose labels are passed",
        )
    labels = y.astype(np.int64)
    if labels.min() < 0 or labels.max() >= n_classes:
        raise DataError(
            f"labels must be class indices 0..{n_classes - 1}, found {sorted(set(labels))[:5]}",
            fix="encode the label as the index of its value in the objective's classes",
        )
    return labels, predicted


def _shown(metric: str) -> Any:
    return in_unit if metric in ("rmse", "mae") else (lambda v: f"{v:.3f}")


def _because(
    verdict: str,
    low: float,
    high: float,
    target: float,
    up: bool,
    rows: int,
    min_support: int,
    shown: Any,
) -> str:
    """The evidence for ``verdict``, in words, in the metric's direction."""
    goal = f"target {shown(target)}"
    if rows < min_support:
        return (
            f"only {rows:,} rows, fewer than the {min_support} a verdict on the {goal} needs:"
            " inconclusive"
        )
    if verdict == "met":
        if up:
            return f"the lower bound {shown(low)} is >= {goal}: met"
        return f"the upper bound {shown(high)} is <= {goal}: met"
    if verdict == "not_met":
        if up:
            return f"the upper bound {shown(high)} is < {goal}: not met"
        return f"the lower bound {shown(low)} is > {goal}: not met"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"the interval is undefined on these rows: inconclusive on the {goal}"
    return f"the interval straddles the {goal}: inconclusive"
