"""Scoring a model against the objective's metric and target at a fixed threshold.

The metric comes with its confidence interval on the evaluated rows and the verdict that
interval supports (see ``training.confidence``): met, not met or inconclusive.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dagster_agentic.errors import DataError
from dagster_agentic.goals.objective import BINARY_METRICS
from dagster_agentic.training.confidence import (
    DEFAULT_LEVEL,
    MIN_SUPPORT,
    Interval,
    bootstrap_interval,
    proportion_interval,
    trivial_reason,
    verdict_of,
)

if TYPE_CHECKING:
    from dagster_agentic.goals.objective import Metric


@dataclass(frozen=True)
class Evaluation:
    """The metric on one split at one threshold; a row is positive when score >= threshold.

    ``met`` is ``verdict == "met"``: the interval's lower bound reaches the target on at least
    ``min_support`` supporting rows.
    """

    metric: str
    target: float
    value: float
    met: bool
    verdict: str
    """"met", "not_met" or "inconclusive"."""
    interval_low: float
    interval_high: float
    level: float
    interval_method: str
    support: int
    """The rows the metric rests on: ``support_name`` (predicted positives for precision...)."""
    support_name: str
    min_support: int
    trivial: bool
    trivial_reason: str | None
    threshold: float
    precision: float  # 0.0 when nothing is predicted positive (then precision is undefined)
    recall: float
    f1: float
    roc_auc: float | None  # None when y_true has a single class
    accuracy: float
    n_rows: int
    n_positive: int
    n_predicted_positive: int
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return {k: json_scalar(v) for k, v in asdict(self).items()}


def json_scalar(value: Any) -> Any:
    """Python scalars for JSON; non-finite floats become None."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def checked_inputs(
    y_true: Any, scores: Any, *, split: str = "evaluation"
) -> tuple[np.ndarray, np.ndarray]:
    """Labels as 0/1 int and scores as float64, or a DataError saying what is wrong."""
    y = np.asarray(y_true)
    s = np.asarray(scores, dtype="float64")
    if y.ndim != 1 or s.ndim != 1 or len(y) != len(s):
        raise DataError(
            f"{split} labels and scores differ in shape: {y.shape} vs {s.shape}",
            fix="score exactly the rows whose labels are passed, as 1-D arrays",
        )
    if len(y) == 0:
        raise DataError(
            f"no rows to evaluate in the {split} split: the cohort has no rows there",
            fix="widen the cohort filter or check that the split assigns cohort rows to it",
        )
    if not np.isfinite(s).all():
        raise DataError(
            f"{int((~np.isfinite(s)).sum()):,} {split} scores are NaN or infinite",
            fix="check the features given to the model for invalid values",
        )
    if not np.isin(y, (0, 1)).all():
        raise DataError(
            f"{split} labels must be 0 or 1, found {sorted(set(np.unique(y).tolist()))[:5]}",
            fix="map the label to 0/1 with the objective's positive value",
        )
    labels = y.astype(int)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise DataError(
            f"the target has only one class ({classes[0]}) in the {len(labels):,} {split} rows",
            fix="check the label or the cohort filter: the metric needs both classes",
        )
    return labels, s


def roc_auc_or_none(y: np.ndarray, scores: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, scores))


def evaluate(
    y_true: Any,
    scores: Any,
    *,
    threshold: float,
    metric: Metric,
    target: float,
    population: str = "rows",
    level: float = DEFAULT_LEVEL,
    min_support: int = MIN_SUPPORT,
) -> Evaluation:
    """Evaluate ``scores`` against ``metric`` >= ``target``; ``population`` names the rows.

    The verdict rests on the ``level`` confidence interval of the metric on these rows and on
    at least ``min_support`` supporting rows.
    """
    if metric not in BINARY_METRICS:
        raise DataError(
            f"{metric} is not a binary-classification metric",
            fix="evaluate multiclass and regression tasks with training.evaluate_tasks",
        )
    y, s = checked_inputs(y_true, scores)
    predicted = s >= threshold
    tp = int((predicted & (y == 1)).sum())
    n_pred, n_pos, n = int(predicted.sum()), int(y.sum()), len(y)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_pos
    f1 = 2 * tp / (n_pred + n_pos)
    accuracy = float((predicted == (y == 1)).mean())
    auc = roc_auc_or_none(y, s)
    values = {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy}
    value = auc if metric == "roc_auc" else values[metric]
    correct = int((predicted == (y == 1)).sum())
    interval = _interval(metric, y, s, threshold, tp, n_pred, n_pos, correct, level)
    verdict = verdict_of(interval, target, min_support=min_support)
    undefined = metric == "precision" and n_pred == 0
    trivial = trivial_reason(metric, target, y, predicted)
    rows = f"{n:,} {population}"
    if undefined:
        text = (
            f"precision is undefined on {rows}: no row scores >= threshold {threshold:.3g},"
            f" so no predicted positive supports a verdict on the target {target:.3f}:"
            " inconclusive"
        )
    else:
        detail = (
            "threshold-free"
            if metric == "roc_auc"
            else f"recall {recall:.2f} at threshold {threshold:.3g}"
            if metric != "recall"
            else f"precision {precision:.2f} at threshold {threshold:.3g}"
        )
        support = (
            rows
            if interval.support_name == "rows"
            else f"{interval.support:,} {interval.support_name} of {rows}"
        )
        text = (
            f"{metric} {value:.3f}, {level:.0%} CI {interval.text()} ({interval.method}) on"
            f" {support} ({detail}): {_because(verdict, interval, target, min_support)}"
        )
    if trivial:
        text += f"; the target is trivial: {trivial}"
    return Evaluation(
        metric=metric,
        target=float(target),
        value=float(value) if value is not None else math.nan,
        met=verdict == "met",
        verdict=verdict,
        interval_low=interval.low,
        interval_high=interval.high,
        level=float(level),
        interval_method=interval.method,
        support=interval.support,
        support_name=interval.support_name,
        min_support=int(min_support),
        trivial=trivial is not None,
        trivial_reason=trivial,
        threshold=float(threshold),
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
        roc_auc=auc,
        accuracy=accuracy,
        n_rows=n,
        n_positive=n_pos,
        n_predicted_positive=n_pred,
        explanation=text,
    )


def _interval(
    metric: Metric,
    y: np.ndarray,
    s: np.ndarray,
    threshold: float,
    tp: int,
    n_pred: int,
    n_pos: int,
    correct: int,
    level: float,
) -> Interval:
    if metric == "precision":
        return proportion_interval(metric, tp, n_pred, level=level)
    if metric == "recall":
        return proportion_interval(metric, tp, n_pos, level=level)
    if metric == "accuracy":
        return proportion_interval(metric, correct, len(y), level=level)
    if metric == "f1" or metric == "roc_auc":
        return bootstrap_interval(metric, y, s, threshold=threshold, level=level)
    raise DataError(
        f"{metric} is not a binary-classification metric",
        fix="evaluate multiclass and regression tasks with training.evaluate_tasks",
    )


def _because(verdict: str, interval: Interval, target: float, min_support: int) -> str:
    """The evidence for ``verdict``, in words."""
    if interval.support < min_support:
        return (
            f"only {interval.support:,} {interval.support_name}, fewer than the {min_support}"
            f" a verdict on the target {target:.3f} needs: inconclusive"
        )
    if verdict == "met":
        return f"the lower bound {interval.low:.3f} is >= target {target:.3f}: met"
    if verdict == "not_met":
        return f"the upper bound {interval.high:.3f} is < target {target:.3f}: not met"
    return f"the interval straddles the target {target:.3f}: inconclusive"
