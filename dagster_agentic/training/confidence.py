"""How sure a measured metric is: confidence intervals, the verdict they support, and triviality.

A metric measured on a few hundred test rows is an estimate. A goal is called **met** only when
the whole confidence interval lies at or above the target, **not met** when it lies wholly
below, and **inconclusive** when it straddles the target or rests on too few rows (precision
on a handful of predicted positives says little, whatever its value). Each bound of a two-sided
interval at level ``L`` errs with probability about ``(1 - L) / 2``, so "met" at the default 95%
is wrong about 2.5% of the time when the true metric sits exactly at the target.

* precision, recall and accuracy are proportions (of predicted positives, of positives, of
  rows): their interval is Wilson's score interval, which keeps its coverage near 0 and 1 where
  the normal approximation fails;
* f1 and roc_auc are not proportions: their interval is a percentile bootstrap over rows, with
  a fixed seed (the same data always gives the same interval) and a bounded number of
  resamples.

A target is **trivial** when a model that ignores its input meets it on the same rows:
predicting every row positive (precision at or below the base rate, any recall, f1 at or
below the all-positive f1, accuracy at or below the positive share) or every row negative
(accuracy at or below the negative share), a roc_auc target at or below 0.5 (a constant
score), or a target of 0. A trivial target met is reported as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np

Verdict = Literal["met", "not_met", "inconclusive"]
DEFAULT_LEVEL = 0.95
"""The confidence level of reported intervals (two-sided)."""
MIN_SUPPORT = 10
"""Fewer supporting rows than this (predicted positives for precision, positives for recall,
the smaller class for roc_auc, ...) make any verdict inconclusive."""
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20240611
BOOTSTRAP_CELLS = 4_000_000
"""At most this many row weights are held at once (32 MB)."""
PROPORTIONS = {"precision": "predicted positives", "recall": "positives", "accuracy": "rows"}


@dataclass(frozen=True)
class Interval:
    """A confidence interval for one metric, with the rows that support it."""

    low: float
    high: float
    level: float
    method: str
    """"wilson" or "bootstrap" (percentile, ``resamples`` resamples)."""
    support: int
    support_name: str
    """What ``support`` counts, e.g. "predicted positives"."""

    def text(self) -> str:
        return f"[{self.low:.3f}, {self.high:.3f}]"


def z_value(level: float, *, sided: Literal[1, 2] = 2) -> float:
    """The standard normal quantile of a two-sided (or one-sided) confidence ``level``."""
    if not 0.5 < level < 1.0:
        raise ValueError(f"confidence level must be between 0.5 and 1, got {level}")
    tail = (1 - level) / sided
    return NormalDist().inv_cdf(1 - tail)


def wilson(successes: int, trials: int, *, z: float) -> tuple[float, float]:
    """Wilson's score interval for ``successes`` of ``trials``; (0, 1) when there are none."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # Clamp rounding noise: the interval contains p and lies within [0, 1].
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def wilson_lower(successes: np.ndarray, trials: np.ndarray, *, z: float) -> np.ndarray:
    """Vectorised Wilson lower bounds (0 where there are no trials), for threshold curves."""
    n = np.maximum(trials.astype("float64"), 1.0)
    p = successes / n
    centre = p + z * z / (2 * n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lower = (centre - half) / (1 + z * z / n)
    return np.where(trials > 0, np.clip(lower, 0.0, 1.0), 0.0)


def proportion_interval(
    metric: str, successes: int, trials: int, *, level: float = DEFAULT_LEVEL
) -> Interval:
    low, high = wilson(successes, trials, z=z_value(level))
    return Interval(low, high, level, "wilson", trials, PROPORTIONS[metric])


def bootstrap_interval(
    metric: Literal["f1", "roc_auc"],
    y: np.ndarray,
    scores: np.ndarray,
    *,
    threshold: float,
    level: float = DEFAULT_LEVEL,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Interval:
    """Percentile bootstrap of f1 (at ``threshold``) or roc_auc over rows.

    Each resample is drawn as row counts (a multinomial), so every statistic is a weighted sum
    over the original rows: vectorised, and deterministic for a given ``seed``.
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    positive, predicted = y == 1, scores >= threshold
    chunk = max(1, BOOTSTRAP_CELLS // max(n, 1))  # resamples per block: memory stays bounded
    parts = []
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype("float64")
        if metric == "f1":
            tp = counts @ (predicted & positive)
            denominator = counts @ predicted + counts @ positive
            parts.append(np.divide(2 * tp, denominator, out=np.zeros(size), where=denominator > 0))
        else:
            parts.append(_weighted_auc(counts, positive, scores))
    values = np.concatenate(parts)
    if metric == "f1":
        support_name, support = "predicted or actual positives", int((predicted | positive).sum())
    else:
        support_name = "rows of the smaller class"
        support = int(min(positive.sum(), n - positive.sum()))
    values = values[np.isfinite(values)]
    alpha = 1 - level
    if values.size == 0:
        return Interval(0.0, 1.0, level, "bootstrap", support, support_name)
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return Interval(float(low), float(high), level, "bootstrap", support, support_name)


def _weighted_auc(counts: np.ndarray, positive: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of each row-weighting in ``counts`` (ties count half); NaN for one class."""
    order = np.argsort(scores, kind="mergesort")
    ranked = scores[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ranked) != 0) + 1]  # runs of tied scores
    weights = counts[:, order]
    pos = np.add.reduceat(weights * positive[order], starts, axis=1)
    neg = np.add.reduceat(weights * ~positive[order], starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negatives strictly below each run
    area = (pos * (below + 0.5 * neg)).sum(axis=1)
    total = pos.sum(axis=1) * neg.sum(axis=1)
    return np.divide(area, total, out=np.full(len(counts), np.nan), where=total > 0)


def verdict_of(
    interval: Interval,
    target: float,
    *,
    min_support: int = MIN_SUPPORT,
    higher_is_better: bool = True,
) -> Verdict:
    """met when the interval's lower bound reaches the target, not_met when its upper bound is
    below it, otherwise (or on fewer than ``min_support`` supporting rows) inconclusive.

    For an error metric (``higher_is_better=False``: RMSE, MAE) the target is a ceiling: met
    when the upper bound is at or below it, not_met when the lower bound is above it.
    """
    if interval.support < min_support:
        return "inconclusive"
    if not higher_is_better:
        if interval.high <= target:
            return "met"
        if interval.low > target:
            return "not_met"
        return "inconclusive"
    if interval.low >= target:
        return "met"
    if interval.high < target:
        return "not_met"
    return "inconclusive"


def trivial_reason(metric: str, target: float, y: np.ndarray, predicted: np.ndarray) -> str | None:
    """Why ``target`` would be met by a model that ignores its input, or None.

    ``predicted`` is the model's positive predictions: a recall reached only by predicting
    every row positive is called out too.
    """
    if target <= 0:
        return f"a {metric} target of {target:g} is met by any model"
    n, positives = len(y), int(y.sum())
    base = positives / n
    all_f1 = 2 * positives / (n + positives)
    if metric == "precision" and target <= base:
        return (
            f"the positive rate of these rows is {base:.3f}, at or above the precision target"
            f" {target:.3f}: predicting every row positive meets it"
        )
    if metric == "recall" and predicted.all():
        return "every row is predicted positive, which reaches any recall target"
    if metric == "f1" and target <= all_f1:
        return f"predicting every row positive gives f1 {all_f1:.3f}, at or above the target"
    if metric == "accuracy" and target <= max(base, 1 - base):
        side = "negative" if base < 0.5 else "positive"
        return (
            f"predicting every row {side} gives accuracy {max(base, 1 - base):.3f}, at or above"
            f" the target {target:.3f}"
        )
    if metric == "roc_auc" and target <= 0.5:
        return f"a constant score has roc_auc 0.5, at or above the target {target:.3f}"
    return None
