"""Choosing the decision threshold on validation scores to meet the objective's target.

A row is predicted positive when its score is >= the threshold, the same rule ``evaluate``
applies, and every candidate threshold is one of the validation scores.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dagster_agentic.training.evaluate import checked_inputs, json_scalar, roc_auc_or_none

if TYPE_CHECKING:
    from dagster_agentic.goals.objective import Metric


@dataclass(frozen=True)
class ThresholdChoice:
    """The chosen threshold and what it achieves on validation."""

    threshold: float
    metric: str
    target: float
    validation_value: float
    validation_recall: float
    reachable: bool
    note: str
    validation_precision: float = 0.0
    n_predicted_positive: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: json_scalar(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class _Curve:
    """Counts at every distinct score, thresholds in decreasing order."""

    thresholds: np.ndarray
    tp: np.ndarray
    n_pred: np.ndarray
    n_pos: int
    n: int

    @property
    def precision(self) -> np.ndarray:
        return self.tp / self.n_pred

    @property
    def recall(self) -> np.ndarray:
        return self.tp / self.n_pos


def _curve(y: np.ndarray, scores: np.ndarray) -> _Curve:
    order = np.argsort(-scores, kind="mergesort")
    ranked, labels = scores[order], y[order]
    # Last position of each run of equal scores: thresholding there includes the whole run.
    last = np.r_[np.flatnonzero(np.diff(ranked) != 0), len(ranked) - 1]
    tp = np.cumsum(labels)[last]
    return _Curve(ranked[last], tp, last + 1, int(y.sum()), len(y))


def choose_threshold(
    y_valid: Any,
    scores_valid: Any,
    *,
    metric: Metric,
    target: float,
    min_positive_predictions: int = 5,
) -> ThresholdChoice:
    """The threshold that best serves ``metric`` >= ``target`` on validation.

    precision: the lowest threshold reaching the target with at least
    ``min_positive_predictions`` predicted positives (the most recall under the constraint);
    recall: the highest threshold reaching the target; f1 / accuracy: the maximiser;
    roc_auc: 0.5, since the metric does not depend on a threshold.
    """
    if not 0.0 <= target <= 1.0:
        raise ValueError(f"target must be between 0 and 1, got {target}")
    y, s = checked_inputs(y_valid, scores_valid, split="validation")
    curve = _curve(y, s)
    if metric == "precision":
        return _for_precision(curve, target, min_positive_predictions)
    if metric == "recall":
        index = int(np.flatnonzero(curve.recall >= target)[0])
        return _choice(curve, index, metric, target, curve.recall[index], True, "highest")
    if metric == "f1":
        f1 = 2 * curve.tp / (curve.n_pred + curve.n_pos)
        index = int(np.argmax(f1))
        return _choice(curve, index, metric, target, f1[index], f1[index] >= target, "best")
    if metric == "accuracy":
        return _for_accuracy(curve, target)
    auc = roc_auc_or_none(y, s)
    value = auc if auc is not None else math.nan
    predicted = s >= 0.5
    recall = float((predicted & (y == 1)).sum() / curve.n_pos)
    return ThresholdChoice(
        threshold=0.5,
        metric=metric,
        target=float(target),
        validation_value=float(value),
        validation_recall=recall,
        reachable=bool(value >= target),
        note=f"roc_auc does not depend on a threshold; 0.5 is used (validation roc_auc "
        f"{value:.3f})",
        validation_precision=float((predicted & (y == 1)).sum() / max(int(predicted.sum()), 1)),
        n_predicted_positive=int(predicted.sum()),
    )


def _for_precision(curve: _Curve, target: float, min_predictions: int) -> ThresholdChoice:
    precision = curve.precision
    enough = curve.n_pred >= min(min_predictions, curve.n)
    hits = np.flatnonzero(enough & (precision >= target))
    if hits.size:
        return _choice(
            curve, int(hits[-1]), "precision", target, precision[hits[-1]], True, "lowest"
        )
    eligible = np.flatnonzero(enough)
    best = eligible[precision[eligible] == precision[eligible].max()]
    index = int(best[-1])  # among equally precise thresholds, the lowest keeps most recall
    choice = _choice(curve, index, "precision", target, precision[index], False, "best")
    note = (
        f"precision {target:.3f} is not reachable on validation with at least "
        f"{min_predictions} predicted positives; {choice.note}"
    )
    return ThresholdChoice(**{**asdict(choice), "note": note})


def _for_accuracy(curve: _Curve, target: float) -> ThresholdChoice:
    accuracy = (curve.tp + (curve.n - curve.n_pos) - (curve.n_pred - curve.tp)) / curve.n
    index = int(np.argmax(accuracy))
    none_positive = (curve.n - curve.n_pos) / curve.n
    if none_positive > accuracy[index]:
        # Predicting no positives beats every score threshold (a rare positive class).
        above = float(np.nextafter(curve.thresholds[0], math.inf))
        return ThresholdChoice(
            threshold=above,
            metric="accuracy",
            target=float(target),
            validation_value=float(none_positive),
            validation_recall=0.0,
            reachable=bool(none_positive >= target),
            note=f"accuracy is highest ({none_positive:.3f}) when no row is predicted positive",
        )
    return _choice(
        curve, index, "accuracy", target, accuracy[index], accuracy[index] >= target, "best"
    )


def _choice(
    curve: _Curve,
    index: int,
    metric: str,
    target: float,
    value: float,
    reachable: bool,
    kind: str,
) -> ThresholdChoice:
    threshold = float(curve.thresholds[index])
    recall, precision = float(curve.recall[index]), float(curve.precision[index])
    n_pred = int(curve.n_pred[index])
    what = {
        "lowest": f"lowest threshold with {metric} >= {target:.3f}",
        "highest": f"highest threshold with {metric} >= {target:.3f}",
        "best": f"threshold with the best {metric}",
    }[kind]
    note = (
        f"{what}: {threshold:.4g} ({metric} {value:.3f}, precision {precision:.3f}, "
        f"recall {recall:.3f}, {n_pred:,} of {curve.n:,} validation rows predicted positive)"
    )
    return ThresholdChoice(
        threshold=threshold,
        metric=metric,
        target=float(target),
        validation_value=float(value),
        validation_recall=recall,
        reachable=bool(reachable),
        note=note,
        validation_precision=precision,
        n_predicted_positive=n_pred,
    )
