"""Confidence intervals and trivial baselines for multiclass and regression metrics.

* accuracy is a proportion of rows: Wilson's score interval, as for binary accuracy;
* macro-F1, RMSE, MAE and R² are not: a percentile bootstrap over rows with a fixed seed and a
  bounded number of resamples, every resample drawn as row counts (a multinomial) so each
  statistic is a weighted sum over the original rows, vectorised and deterministic.

Every interval's support is the number of rows it rests on: ``min_support`` counts rows for
these metrics.

The **baseline** of a metric is what a model that ignores its input reaches on the same rows:
the majority class for accuracy and macro-F1, the rows' own mean for RMSE and R² (R² 0 by
construction) and their median for MAE. It is an optimistic constant (fitted on the very rows
it is scored on), so a target at or below it (at or above it for an error) is **trivial**.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dagster_agentic.training.confidence import (
    BOOTSTRAP_CELLS,
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    DEFAULT_LEVEL,
    Interval,
    wilson,
    z_value,
)

MULTICLASS_BOOTSTRAP = frozenset({"macro_f1"})
REGRESSION_BOOTSTRAP = frozenset({"rmse", "mae", "r2"})


def macro_f1(y: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """Mean F1 over the classes present in ``y`` or ``predicted`` (sklearn's macro average)."""
    tp, pred, true = _class_counts(np.ones((1, len(y))), y, predicted, n_classes)
    return float(_macro(tp, pred, true)[0])


def regression_value(metric: str, y: np.ndarray, prediction: np.ndarray) -> float:
    """RMSE, MAE or R² of ``prediction`` (R² NaN when the target is constant)."""
    value = _regression(metric, np.ones((1, len(y))), y, prediction)[0]
    return float(value)


def task_interval(
    metric: str,
    y: np.ndarray,
    output: np.ndarray,
    *,
    n_classes: int = 0,
    level: float = DEFAULT_LEVEL,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Interval:
    """The ``level`` interval of ``metric``; ``output`` is predicted classes or values."""
    n = len(y)
    if metric == "accuracy":
        correct = int((output == y).sum())
        low, high = wilson(correct, n, z=z_value(level))
        return Interval(low, high, level, "wilson", n, "rows")
    if metric not in MULTICLASS_BOOTSTRAP | REGRESSION_BOOTSTRAP:
        raise ValueError(f"no interval for metric {metric!r}")
    rng = np.random.default_rng(seed)
    chunk = max(1, BOOTSTRAP_CELLS // max(n, 1))
    parts = []
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype("float64")
        if metric == "macro_f1":
            parts.append(_macro(*_class_counts(counts, y, output, n_classes)))
        else:
            parts.append(_regression(metric, counts, y, output))
    values = np.concatenate(parts)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return Interval(-math.inf, math.inf, level, "bootstrap", n, "rows")
    alpha = 1 - level
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return Interval(float(low), float(high), level, "bootstrap", n, "rows")


@dataclass(frozen=True)
class Baseline:
    """What a model that ignores its input reaches on the evaluated rows."""

    value: float
    description: str
    """e.g. "predicting the majority class 2 (41.0% of rows)"."""


def baseline(
    metric: str, y: np.ndarray, n_classes: int = 0, classes: Sequence[object] = ()
) -> Baseline:
    """The constant model's ``metric`` on rows with labels or values ``y``; ``classes`` (the
    target's values in class-index order) name the majority class as the user knows it."""
    if metric in ("accuracy", "macro_f1"):
        labels = y.astype(int)
        counts = np.bincount(labels, minlength=max(n_classes, int(labels.max()) + 1))
        majority = int(counts.argmax())
        share = counts[majority] / len(labels)
        name = repr(classes[majority]) if majority < len(classes) else str(majority)
        what = f"predicting the majority class {name} ({share:.1%} of rows)"
        if metric == "accuracy":
            return Baseline(float(share), what)
        constant = np.full(len(labels), majority)
        return Baseline(macro_f1(labels, constant, len(counts)), what)
    values = y.astype("float64")
    if metric == "mae":
        median = float(np.median(values))
        return Baseline(
            float(np.abs(values - median).mean()), f"predicting the median {in_unit(median)}"
        )
    mean = float(values.mean())
    constant = np.full(len(values), mean)
    if metric == "r2":
        return Baseline(0.0, f"predicting the mean {in_unit(mean)}")
    return Baseline(
        regression_value(metric, values, constant), f"predicting the mean {in_unit(mean)}"
    )


def trivial_task_reason(metric: str, target: float, base: Baseline) -> str | None:
    """Why ``target`` is met by the constant model ``base``, or None."""
    if metric in ("rmse", "mae"):
        if target >= base.value:
            return (
                f"{base.description} gives {metric} {in_unit(base.value)}, at or below the"
                f" target {in_unit(target)}"
            )
        return None
    if target <= 0:
        return f"a {metric} target of {target:g} is met by any model"
    if target <= base.value:
        return f"{base.description} gives {metric} {base.value:.3f}, at or above the target"
    return None


def in_unit(value: float) -> str:
    """A value in the target's unit: thousands separated, four significant digits below."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _class_counts(
    counts: np.ndarray, y: np.ndarray, predicted: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per resample and class: true positives, predictions and actual rows."""
    k = max(n_classes, int(max(y.max(), predicted.max())) + 1)
    actual = np.eye(k)[y.astype(int)]
    guessed = np.eye(k)[predicted.astype(int)]
    return counts @ (actual * guessed), counts @ guessed, counts @ actual


def _macro(tp: np.ndarray, pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    denominator = pred + true
    present = denominator > 0
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=present)
    n_present = present.sum(axis=1)
    return np.divide(f1.sum(axis=1), n_present, out=np.full(len(tp), np.nan), where=n_present > 0)


def _regression(
    metric: str, counts: np.ndarray, y: np.ndarray, prediction: np.ndarray
) -> np.ndarray:
    weight = counts.sum(axis=1)
    errors = prediction.astype("float64") - y.astype("float64")
    if metric == "rmse":
        return np.asarray(np.sqrt(counts @ errors**2 / weight))
    if metric == "mae":
        return np.asarray(counts @ np.abs(errors) / weight)
    values = y.astype("float64")
    sse = counts @ errors**2
    mean = counts @ values / weight
    sst = counts @ values**2 - weight * mean**2
    # Relative to the scale of the target: rounding leaves a constant resample slightly off 0.
    spread = sst > 1e-12 * np.maximum(counts @ values**2, 1e-300)
    return np.asarray(np.divide(sse, sst, out=np.full(len(counts), np.nan), where=spread) * -1 + 1)
