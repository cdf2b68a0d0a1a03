"""Logistic regression on the MLP's preprocessing: a quick sanity baseline.

Binary tasks fit one coefficient vector; multiclass tasks a multinomial (softmax) logistic
regression with one row of coefficients per class, in class-index order; regression a ridge
regression on the same encoding (``alpha = 1 / C``, the same "larger C, weaker penalty"
reading). Coefficients are stored as JSON and scored by our own arithmetic, so a loaded
model predicts exactly what the fitted one did.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dagster_agentic.training.deadline import Deadline
from dagster_agentic.training.learners import (
    FitReport,
    class_indices,
    fit_report_scores,
    no_probabilities,
    saved_task,
    softmax,
    task_validation,
)
from dagster_agentic.training.preprocess import TabularEncoder
from dagster_agentic.training.spec import LOGISTIC_DEFAULTS

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

META_FILE = "logistic.json"
# One L-BFGS iteration evaluates the loss and its gradient (X @ w, then X.T @ r) about once,
# more in a hard line search; sklearn also checks and copies the input on every fit. On
# 200k x 40 to 200k x 200 an iteration measured 2-3 passes of X.T @ (X @ w): 4 is on the safe
# side, and the 1 ms covers the fixed cost of a fit on small data.
_PASSES_PER_ITERATION = 4.0
_FIT_OVERHEAD_SECONDS = 1e-3


@dataclass(frozen=True)
class _Solved:
    model: LogisticRegression | Any  # Ridge for regression
    iterations: int
    converged: bool
    stopped_by_budget: bool


def _iteration_estimate(X: np.ndarray) -> float:
    """Seconds one solver iteration over ``X`` is expected to take, from one timed pass."""
    started = time.monotonic()
    X.T @ (X @ np.ones(X.shape[1], dtype=X.dtype))
    return _PASSES_PER_ITERATION * (time.monotonic() - started) + _FIT_OVERHEAD_SECONDS


class LogisticLearner:
    """L2-regularised logistic regression; coefficients are stored as plain JSON."""

    family: ClassVar[str] = "logistic"

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        max_seconds: float = 120.0,
        task: str = "binary_classification",
        n_classes: int = 2,
    ) -> None:
        self.params: dict[str, Any] = {**LOGISTIC_DEFAULTS, **(params or {})}
        self.max_seconds = max_seconds
        self.task = task
        self.n_classes = n_classes
        self.feature_columns: list[str] = []
        self.encoder: TabularEncoder | None = None
        # (features,) for binary and regression; (classes, features) for multiclass.
        self.coef: np.ndarray | None = None
        self.intercept: float | np.ndarray = 0.0

    def fit(
        self,
        X_train: pd.DataFrame,
        y_train: np.ndarray,
        X_valid: pd.DataFrame,
        y_valid: np.ndarray,
        *,
        seed: int,
        deadline: Deadline | None = None,
    ) -> FitReport:
        started = time.monotonic()
        # From the start, so the encoding counts too.
        deadline = (deadline or Deadline.never()).within(self.max_seconds)
        self.feature_columns = [str(c) for c in X_train.columns]
        self.encoder = TabularEncoder.fit(
            X_train, top_categories=int(self.params["top_categories"])
        )
        X = self.encoder.transform(X_train)
        if self.task == "regression":
            solved = self._solve_ridge(X, np.asarray(y_train, dtype="float64"))
        else:
            solved = self._solve(X, np.asarray(y_train).astype(int), seed=seed, deadline=deadline)
        self._keep(solved.model)
        output = self.predict(X_valid) if self.task == "regression" else self.predict_proba(X_valid)
        scores = task_validation(self.task, np.asarray(y_valid), output)
        notes: list[str] = []
        if solved.stopped_by_budget:
            reason = f"time budget of {deadline.seconds:.3g}s"
            notes.append(f"solver stopped after {solved.iterations} iteration(s) by the budget")
        elif solved.converged:
            reason = "solver converged"
        else:
            reason = "max_iter reached"
            notes.append(f"solver did not converge in max_iter={self.params['max_iter']}")
        return FitReport(
            family=self.family,
            params=dict(self.params),
            best_iteration=solved.iterations,
            epochs=solved.iterations,
            train_curve=[],
            valid_curve=[],
            fit_seconds=time.monotonic() - started,
            stop_reason=reason,
            notes=notes,
            stopped_by_budget=solved.stopped_by_budget,
            **fit_report_scores(self.task, scores),
        )

    def _keep(self, model: Any) -> None:
        """The fitted coefficients, as float64, in the shape of the task."""
        coef = np.asarray(model.coef_, dtype="float64")
        intercept = np.atleast_1d(np.asarray(model.intercept_, dtype="float64"))
        if self.task == "multiclass_classification":
            self.coef, self.intercept = self._all_classes(model, coef, intercept)
        else:
            self.coef, self.intercept = coef.reshape(-1, coef.shape[-1])[0], float(intercept[0])

    def _all_classes(
        self, model: Any, coef: np.ndarray, intercept: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One row per class of the task: a class absent from training gets a logit far
        below the others (probability ~0) rather than shifting the columns."""
        seen = np.asarray(model.classes_).astype(int)
        full = np.zeros((self.n_classes, coef.shape[-1]))
        bias = np.full(self.n_classes, -30.0)
        if len(seen) == 2:  # sklearn keeps one row for two classes: logits 0 and z
            full[seen[1]], bias[seen[1]] = coef[0], intercept[0]
            bias[seen[0]] = 0.0
        else:
            full[seen], bias[seen] = coef, intercept
        return full, bias

    def _solve_ridge(self, X: np.ndarray, y: np.ndarray) -> _Solved:
        """Ridge regression in closed form (one solve, well within any budget)."""
        from sklearn.linear_model import Ridge

        model = Ridge(alpha=1.0 / float(self.params["C"]))
        model.fit(X.astype("float64"), y)
        return _Solved(model, 1, converged=True, stopped_by_budget=False)

    def _solve(self, X: np.ndarray, y: np.ndarray, *, seed: int, deadline: Deadline) -> _Solved:
        """L-BFGS in chunks of iterations that fit in the time left, each warm-started from
        the last; the deadline is checked between chunks.

        L-BFGS follows the same path whatever ``max_iter`` is, so a fit that converges in its
        first chunk (the usual case, and always when the whole ``max_iter`` fits in the time)
        is exactly the unbounded fit. A chunk is sized to half the time left at the measured
        cost of an iteration; the first, before any is measured, at an estimate from one pass
        over ``X`` (:func:`_iteration_estimate`).
        """
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        class_weight = self.params["class_weight"]
        model = LogisticRegression(
            C=float(self.params["C"]),
            class_weight=None if class_weight == "none" else class_weight,
            random_state=seed,
            warm_start=True,
        )
        max_iter, done = int(self.params["max_iter"]), 0
        per_iteration = _iteration_estimate(X)
        while True:
            affordable = deadline.remaining() / 2 / per_iteration  # inf without a deadline
            chunk = int(min(max_iter - done, max(affordable, 1)))
            model.set_params(max_iter=chunk)
            started = time.monotonic()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                model.fit(X, y)
            ran = int(np.max(model.n_iter_))
            done += ran
            if not any(issubclass(w.category, ConvergenceWarning) for w in caught):
                return _Solved(model, done, converged=True, stopped_by_budget=False)
            per_iteration = (time.monotonic() - started) / max(ran, 1)
            if ran < chunk or done >= max_iter:  # a failed line search, or max_iter reached
                return _Solved(model, done, converged=False, stopped_by_budget=False)
            if deadline.remaining() < per_iteration:
                return _Solved(model, done, converged=False, stopped_by_budget=True)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self.task == "regression":
            raise no_probabilities(self.family)
        z = self._linear(X)
        if self.task == "multiclass_classification":
            return softmax(z)
        # Our own sigmoid over stored coefficients, so a loaded model scores identically.
        return np.exp(-np.logaddexp(0.0, -z))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Class indices (classification) or values in the target's unit (regression)."""
        if self.task == "regression":
            return self._linear(X)
        return class_indices(self.task, self.predict_proba(X))

    def _linear(self, X: pd.DataFrame) -> np.ndarray:
        if self.coef is None or self.encoder is None:
            raise RuntimeError("LogisticLearner used before fit or load")
        encoded = self.encoder.transform(X).astype("float64")
        if self.task == "multiclass_classification":
            return np.asarray(encoded @ self.coef.T + self.intercept)
        return np.asarray(encoded @ self.coef + self.intercept)

    def save(self, dir: Path) -> None:
        if self.coef is None or self.encoder is None:
            raise RuntimeError("LogisticLearner.save called before fit")
        dir = Path(dir)
        dir.mkdir(parents=True, exist_ok=True)
        meta = {
            "params": self.params,
            "max_seconds": self.max_seconds,
            "feature_columns": self.feature_columns,
            "encoder": self.encoder.to_dict(),
            "coef": self.coef.tolist(),
            "intercept": np.asarray(self.intercept).tolist(),
            "task": self.task,
            "n_classes": self.n_classes,
        }
        (dir / META_FILE).write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, dir: Path) -> LogisticLearner:
        meta = json.loads((Path(dir) / META_FILE).read_text())
        task, n_classes = saved_task(meta)
        learner = cls(
            meta["params"], max_seconds=float(meta["max_seconds"]), task=task, n_classes=n_classes
        )
        learner.feature_columns = list(meta["feature_columns"])
        learner.encoder = TabularEncoder.from_dict(meta["encoder"])
        learner.coef = np.asarray(meta["coef"], dtype="float64")
        intercept = np.asarray(meta["intercept"], dtype="float64")
        learner.intercept = intercept if intercept.ndim else float(intercept)
        return learner
