"""Choosing the decision threshold on validation scores to meet the objective's target.

A row is predicted positive when its score is >= the threshold, the same rule ``evaluate``
applies, and every candidate threshold is one of the validation scores.

Precision and recall targets are chosen **with margin**: a threshold whose validation
precision only just touches the target falls below it on test about half the time. So the
threshold must reach the target with its one-sided lower confidence bound (Wilson, at the
objective's level) on validation, which leaves room for the sampling noise of the test rows.
Where no threshold reaches the target with margin, the goal is reported infeasible on
validation, with the best trade-off found and its interval.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dagster_agentic.training.confidence import (
    DEFAULT_LEVEL,
    MIN_SUPPORT,
    bootstrap_interval,
    wilson,
    wilson_lower,
    z_value,
)
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
    validation_low: float = 0.0
    validation_high: float = 1.0
    """The ``level`` two-sided confidence interval of ``validation_value`` on validation."""
    validation_lower_bound: float | None = None
    """The one-sided lower confidence bound the margin rule used (precision, recall)."""
    validation_support: int = 0
    level: float = DEFAULT_LEVEL
    rule: str = ""
    """How the threshold was chosen, in words."""

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
    min_positive_predictions: int = MIN_SUPPORT,
    level: float = DEFAULT_LEVEL,
) -> ThresholdChoice:
    """The threshold that best serves ``metric`` >= ``target`` on validation.

    precision: the lowest threshold whose one-sided ``level`` lower confidence bound on
    validation precision reaches the target, with at least ``min_positive_predictions``
    predicted positives (the most recall under the constraint); if none does, the threshold
    with the highest lower bound, reported unreachable. recall: the highest threshold whose
    lower bound on validation recall reaches the target; if none, the highest threshold whose
    recall does. f1 / accuracy: the maximiser; roc_auc: 0.5, since the metric does not depend
    on a threshold.
    """
    if not 0.0 <= target <= 1.0:
        raise ValueError(f"target must be between 0 and 1, got {target}")
    y, s = checked_inputs(y_valid, scores_valid, split="validation")
    curve = _curve(y, s)
    if metric == "precision":
        return _for_precision(curve, target, min_positive_predictions, level)
    if metric == "recall":
        return _for_recall(curve, target, level)
    if metric == "f1":
        f1 = 2 * curve.tp / (curve.n_pred + curve.n_pos)
        index = int(np.argmax(f1))
        choice = _choice(
            curve, index, metric, target, f1[index], f1[index] >= target, "best", level
        )
        interval = bootstrap_interval("f1", y, s, threshold=choice.threshold, level=level)
        return _with(choice, low=interval.low, high=interval.high, support=interval.support)
    if metric == "accuracy":
        return _for_accuracy(curve, target, level)
    auc = roc_auc_or_none(y, s)
    value = auc if auc is not None else math.nan
    predicted = s >= 0.5
    recall = float((predicted & (y == 1)).sum() / curve.n_pos)
    interval = bootstrap_interval("roc_auc", y, s, threshold=0.5, level=level)
    return ThresholdChoice(
        threshold=0.5,
        metric=metric,
        target=float(target),
        validation_value=float(value),
        validation_recall=recall,
        reachable=bool(value >= target),
        note=f"roc_auc does not depend on a threshold; 0.5 is used (validation roc_auc "
        f"{value:.3f}, {level:.0%} CI {_text(interval.low, interval.high)})",
        validation_precision=float((predicted & (y == 1)).sum() / max(int(predicted.sum()), 1)),
        n_predicted_positive=int(predicted.sum()),
        validation_low=interval.low,
        validation_high=interval.high,
        validation_support=interval.support,
        level=level,
        rule="roc_auc is threshold-free",
    )


def _for_precision(
    curve: _Curve, target: float, min_predictions: int, level: float
) -> ThresholdChoice:
    precision = curve.precision
    lower = wilson_lower(curve.tp, curve.n_pred, z=z_value(level, sided=1))
    enough = curve.n_pred >= min(min_predictions, curve.n)
    hits = np.flatnonzero(enough & (lower >= target))
    rule = (
        f"lowest threshold whose one-sided {level:.0%} lower bound on validation precision"
        f" reaches {target:.3f}, with at least {min_predictions} predicted positives"
    )
    if hits.size:
        index = int(hits[-1])
        choice = _choice(curve, index, "precision", target, precision[index], True, "margin", level)
        return _with(choice, lower_bound=float(lower[index]), rule=rule)
    eligible = np.flatnonzero(enough)
    best = eligible[lower[eligible] == lower[eligible].max()]
    index = int(best[-1])  # among equally supported thresholds, the lowest keeps most recall
    choice = _choice(curve, index, "precision", target, precision[index], False, "bound", level)
    reached = np.flatnonzero(enough & (precision >= target))
    point = (
        f"; the point estimate alone reaches it from threshold"
        f" {curve.thresholds[reached[-1]]:.4g} ({int(curve.n_pred[reached[-1]]):,} predicted"
        " positives), too few to be confident"
        if reached.size
        else ""
    )
    note = (
        f"precision {target:.3f} is not reachable with margin on validation (no threshold with"
        f" at least {min_predictions} predicted positives has a one-sided {level:.0%} lower"
        f" bound >= {target:.3f}){point}; best trade-off: {choice.note}, lower bound"
        f" {lower[index]:.3f}"
    )
    return _with(choice, note=note, lower_bound=float(lower[index]), rule=rule)


def _for_recall(curve: _Curve, target: float, level: float) -> ThresholdChoice:
    lower = wilson_lower(curve.tp, np.full_like(curve.tp, curve.n_pos), z=z_value(level, sided=1))
    rule = (
        f"highest threshold whose one-sided {level:.0%} lower bound on validation recall"
        f" reaches {target:.3f}"
    )
    hits = np.flatnonzero(lower >= target)
    if hits.size:
        index = int(hits[0])
        choice = _choice(curve, index, "recall", target, curve.recall[index], True, "margin", level)
        return _with(choice, lower_bound=float(lower[index]), rule=rule)
    index = int(np.flatnonzero(curve.recall >= target)[0])  # recall 1 is always reachable
    choice = _choice(curve, index, "recall", target, curve.recall[index], False, "highest", level)
    note = (
        f"recall {target:.3f} is not reachable with margin on validation (no threshold has a"
        f" one-sided {level:.0%} lower bound >= {target:.3f} on {curve.n_pos:,} positives);"
        f" best trade-off: {choice.note}, lower bound {lower[index]:.3f}"
    )
    return _with(choice, note=note, lower_bound=float(lower[index]), rule=rule)


def _with(
    choice: ThresholdChoice,
    *,
    note: str | None = None,
    lower_bound: float | None = None,
    rule: str | None = None,
    low: float | None = None,
    high: float | None = None,
    support: int | None = None,
) -> ThresholdChoice:
    changes = {
        "note": note,
        "validation_lower_bound": lower_bound,
        "rule": rule,
        "validation_low": low,
        "validation_high": high,
        "validation_support": support,
    }
    return ThresholdChoice(
        **{**asdict(choice), **{k: v for k, v in changes.items() if v is not None}}
    )


def _text(low: float, high: float) -> str:
    return f"[{low:.3f}, {high:.3f}]"


def _for_accuracy(curve: _Curve, target: float, level: float) -> ThresholdChoice:
    accuracy = (curve.tp + (curve.n - curve.n_pos) - (curve.n_pred - curve.tp)) / curve.n
    index = int(np.argmax(accuracy))
    none_positive = (curve.n - curve.n_pos) / curve.n
    if none_positive > accuracy[index]:
        # Predicting no positives beats every score threshold (a rare positive class).
        above = float(np.nextafter(curve.thresholds[0], math.inf))
        low, high = wilson(curve.n - curve.n_pos, curve.n, z=z_value(level))
        return ThresholdChoice(
            threshold=above,
            metric="accuracy",
            target=float(target),
            validation_value=float(none_positive),
            validation_recall=0.0,
            reachable=bool(none_positive >= target),
            note=f"accuracy is highest ({none_positive:.3f}, {level:.0%} CI"
            f" {_text(low, high)}) when no row is predicted positive",
            validation_low=low,
            validation_high=high,
            validation_support=curve.n,
            level=level,
            rule="the threshold with the best validation accuracy",
        )
    return _choice(
        curve, index, "accuracy", target, accuracy[index], accuracy[index] >= target, "best", level
    )


def _choice(
    curve: _Curve,
    index: int,
    metric: str,
    target: float,
    value: float,
    reachable: bool,
    kind: str,
    level: float,
) -> ThresholdChoice:
    threshold = float(curve.thresholds[index])
    tp, recall, precision = int(curve.tp[index]), float(curve.recall[index]), 0.0
    n_pred = int(curve.n_pred[index])
    precision = tp / n_pred
    trials = {"precision": n_pred, "recall": curve.n_pos, "accuracy": curve.n}.get(metric, 0)
    successes = {
        "precision": tp,
        "recall": tp,
        "accuracy": tp + (curve.n - curve.n_pos) - (n_pred - tp),
    }.get(metric, 0)
    low, high = wilson(successes, trials, z=z_value(level)) if trials else (0.0, 1.0)
    what = {
        "margin": f"{'lowest' if metric == 'precision' else 'highest'} threshold with {metric}"
        f" >= {target:.3f} with margin",
        "highest": f"highest threshold with {metric} >= {target:.3f}",
        "best": f"threshold with the best {metric}",
        "bound": f"threshold with the highest lower bound on {metric}",
    }[kind]
    interval = f", {level:.0%} CI {_text(low, high)}" if trials else ""
    note = (
        f"{what}: {threshold:.4g} ({metric} {value:.3f}{interval}, "
        + "".join(
            f"{name} {v:.3f}, "
            for name, v in (("precision", precision), ("recall", recall))
            if name != metric
        )
        + f"{n_pred:,} of {curve.n:,} validation rows predicted positive)"
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
        validation_low=low,
        validation_high=high,
        validation_support=trials,
        level=level,
        rule=f"the threshold with the best validation {metric}",
    )
