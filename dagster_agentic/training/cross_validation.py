"""k-fold cross-validation of the chosen configuration, for metrics on small data.

A test split of a few dozen cohort rows gives an interval too wide for any verdict, while the
rows used to train and validate go unmeasured. When the cohort's test split is small
(:func:`cross_validation_reason`), the kept candidate's configuration (family and parameters)
is refitted ``folds`` times over train + valid + test rows: fold ``i`` is predicted by a model
trained on the other folds but one, fold ``i + 1`` serving as that model's validation set (for
early stopping, so no prediction ever saw its own row). The pooled out-of-fold predictions,
one per row, are what the evaluation then measures with its interval.

* Folds are drawn by entity (all rows of an entity in one fold), stratified by class for
  classification (``StratifiedGroupKFold``), from a fixed seed: deterministic.
* It shares the training budget: each fold gets an equal share of what remains; a fold the
  deadline keeps from starting abandons the cross-validation, and the test split is used, with
  a note saying so. So does a fold whose training rows lack a second class or diverge.
* Beyond :data:`CV_MAX_ROWS` rows the data are not small: the test split is used.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dagster_agentic.errors import DataError
from dagster_agentic.training.deadline import Deadline
from dagster_agentic.training.learners import TrainingDivergedError, make_learner
from dagster_agentic.training.spec import ModelSpec

CV_FOLDS = 5
CV_FOLD_COLUMN = "cv_fold"
"""The predictions column with each row's fold, present when the metric was cross-validated."""
SMALL_TEST_ROWS = 300
"""A cohort test split with fewer rows than this is small: its metric is cross-validated."""
CV_MAX_ROWS = 20_000
"""More rows than this are not small data: k refits would cost more than they tell."""


def cross_validation_reason(test_rows: int, total_rows: int, min_support: int) -> str | None:
    """Why the metric should be cross-validated, or None to measure it on the test split."""
    if total_rows > CV_MAX_ROWS:
        return None
    if test_rows < max(SMALL_TEST_ROWS, min_support):
        floor = max(SMALL_TEST_ROWS, min_support)
        return f"the cohort's test split has {test_rows:,} rows, fewer than {floor:,}"
    return None


@dataclass
class CrossValidation:
    """Out-of-fold predictions of every row, or why there are none."""

    used: bool
    reason: str
    folds: int = 0
    rows: int = 0
    seconds: float = 0.0
    fold_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    output: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """(n,) P(positive) or regression values, or (n, k) class probabilities."""
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "used": self.used,
            "reason": self.reason,
            "folds": self.folds,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
        }


def fold_assignment(
    y: np.ndarray, groups: np.ndarray, *, task: str, folds: int, seed: int
) -> np.ndarray:
    """The fold of every row: whole entities per fold, stratified by class when classifying."""
    if task != "regression":
        from sklearn.model_selection import StratifiedGroupKFold

        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        fold_of = np.full(len(y), -1, dtype=np.int64)
        with warnings.catch_warnings():  # a class rarer than the folds only warns
            warnings.simplefilter("ignore")
            for i, (_, test) in enumerate(splitter.split(np.zeros(len(y)), y, groups)):
                fold_of[test] = i
        return fold_of
    unique, inverse = np.unique(groups.astype(str), return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(unique))
    position = np.empty(len(unique), dtype=np.int64)
    position[order] = np.arange(len(unique))
    return np.asarray(position[inverse] % folds, dtype=np.int64)


def cross_validate(
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    candidate: ModelSpec,
    *,
    task: str,
    n_classes: int,
    seed: int,
    reason: str,
    deadline: Deadline | None = None,
    folds: int = CV_FOLDS,
) -> CrossValidation:
    """Refit ``candidate`` on ``folds`` folds of all rows; the pooled out-of-fold output."""
    started = time.monotonic()
    deadline = deadline or Deadline.never()
    n_groups = len(np.unique(groups.astype(str)))
    if n_groups < folds:
        return CrossValidation(False, f"{reason}, but only {n_groups} entities for {folds} folds")
    fold_of = fold_assignment(y, groups, task=task, folds=folds, seed=seed)
    width = n_classes if task == "multiclass_classification" else 1
    output = np.full((len(y), width), np.nan)
    for i in range(folds):
        if deadline.expired():
            return _abandoned(reason, f"the training budget ran out before fold {i + 1}", started)
        test, valid = fold_of == i, fold_of == (i + 1) % folds
        train = ~(test | valid)
        if task != "regression" and len(np.unique(y[train])) < 2:
            return _abandoned(reason, f"fold {i + 1}'s training rows hold one class", started)
        learner = make_learner(candidate, task, n_classes)
        try:
            learner.fit(
                X[train],
                y[train],
                X[valid],
                y[valid],
                seed=seed,
                deadline=deadline.share(folds - i),
            )
        except (TrainingDivergedError, DataError) as error:
            return _abandoned(reason, f"fold {i + 1} failed: {error.message}", started)
        predicted = (
            learner.predict(X[test]) if task == "regression" else learner.predict_proba(X[test])
        )
        output[test] = np.asarray(predicted, dtype="float64").reshape(int(test.sum()), width)
    return CrossValidation(
        used=True,
        reason=reason,
        folds=folds,
        rows=len(y),
        seconds=time.monotonic() - started,
        fold_of=fold_of,
        output=output if width > 1 else output[:, 0],
    )


def _abandoned(reason: str, why: str, started: float) -> CrossValidation:
    return CrossValidation(
        used=False,
        reason=f"{reason}; cross-validation abandoned: {why}",
        seconds=time.monotonic() - started,
    )
