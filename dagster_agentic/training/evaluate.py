"""Scoring a model against the objective's metric and target at a fixed threshold."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dagster_agentic.errors import DataError

if TYPE_CHECKING:
    from dagster_agentic.goals.objective import Metric


@dataclass(frozen=True)
class Evaluation:
    """The metric on one split at one threshold; a row is positive when score >= threshold."""

    metric: str
    target: float
    value: float
    met: bool
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
) -> Evaluation:
    """Evaluate ``scores`` against ``metric`` >= ``target``; ``population`` names the rows."""
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
    undefined = metric == "precision" and n_pred == 0
    met = value is not None and not undefined and value >= target
    rows = f"{n:,} {population}"
    if undefined:
        text = (
            f"precision is undefined on {rows}: no row scores >= threshold {threshold:.3g}, "
            f"so the target {target:.3f} is not met"
        )
    else:
        sign = ">=" if met else "<"
        detail = (
            "threshold-free"
            if metric == "roc_auc"
            else f"recall {recall:.2f} at threshold {threshold:.3g}"
            if metric != "recall"
            else f"precision {precision:.2f} at threshold {threshold:.3g}"
        )
        text = f"{metric} {value:.3f} {sign} target {target:.3f} on {rows} ({detail})"
    return Evaluation(
        metric=metric,
        target=float(target),
        value=float(value) if value is not None else math.nan,
        met=bool(met),
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
