"""Gradient-boosted trees with LightGBM, early-stopped on the validation set.

Binary tasks use ``LGBMClassifier`` on binary log loss, as ever. Multiclass tasks use the
``multiclass`` objective with ``num_class`` fixed by the task (not by the labels seen, so a
class missing from the training split still has its column of probabilities), early-stopped
on multiclass log loss; regression uses the L2 objective early-stopped on RMSE.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
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
    task_validation,
    thread_count,
)
from dagster_agentic.training.preprocess import (
    category_values,
    is_numeric_column,
    numeric_values,
    ranked_categories,
    select_features,
)
from dagster_agentic.training.spec import LIGHTGBM_DEFAULTS, MAX_LIGHTGBM_ESTIMATORS

if TYPE_CHECKING:
    import lightgbm

MODEL_FILE = "lightgbm_model.txt"
META_FILE = "lightgbm_meta.json"
# Our own knobs; everything else in params goes to LGBMClassifier unchanged.
_EVAL_METRIC = {
    "binary_classification": "binary_logloss",
    "multiclass_classification": "multi_logloss",
    "regression": "rmse",
}
_OWN_PARAMS = {"early_stopping_rounds", "max_categories", "n_estimators", "n_jobs"}


class _TimeBudget:
    """Stops boosting once ``deadline`` passes, keeping the best round so far."""

    def __init__(self, deadline: Deadline) -> None:
        # Instance attributes: lightgbm only reads ``order`` from the instance __dict__ and
        # would otherwise run this before the callback that records the loss curves.
        self.order = 40  # after lightgbm.early_stopping (30)
        self.before_iteration = False
        self.deadline = deadline
        self.best: tuple[float, int, list[Any]] | None = None
        self.triggered = False

    def __call__(self, env: Any) -> None:
        import lightgbm

        valid = [r for r in env.evaluation_result_list or [] if r[0] == "valid"]
        if valid:
            loss = float(valid[0][2])
            if self.best is None or loss < self.best[0]:
                self.best = (loss, env.iteration, list(env.evaluation_result_list))
        # Checked after every round, so boosting overruns the deadline by one round at most.
        if self.deadline.expired() and self.best is not None:
            self.triggered = True
            raise lightgbm.callback.EarlyStopException(self.best[1], self.best[2])


class LightGBMLearner:
    """LightGBM model of any task; text columns become pandas categories fixed at fit time."""

    family: ClassVar[str] = "lightgbm"

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        max_seconds: float = 120.0,
        task: str = "binary_classification",
        n_classes: int = 2,
    ) -> None:
        self.params: dict[str, Any] = {**LIGHTGBM_DEFAULTS, **(params or {})}
        self.max_seconds = max_seconds
        self.task = task
        self.n_classes = n_classes
        self.feature_columns: list[str] = []
        self.numeric: list[str] = []
        self.categories: dict[str, list[str]] = {}
        self.best_iteration = 0
        self._booster: lightgbm.Booster | None = None

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """Positional names (LightGBM rejects some characters) and fixed category lists."""
        frame = select_features(X, self.feature_columns)
        data: dict[str, Any] = {}
        for i, column in enumerate(self.feature_columns):
            if column in self.categories:
                values = category_values(frame[column])
                # Values unseen at fit time become missing instead of failing.
                data[f"f{i}"] = pd.Categorical(values, categories=self.categories[column])
            else:
                data[f"f{i}"] = numeric_values(frame[column])
        return pd.DataFrame(data, index=pd.RangeIndex(len(frame)))

    @property
    def booster(self) -> lightgbm.Booster:
        """The fitted booster; it scores ``model_frame(X)``, not ``X`` itself."""
        if self._booster is None:
            raise RuntimeError("LightGBMLearner.booster used before fit or load")
        return self._booster

    def model_frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """The frame the booster sees: column ``f{i}`` is ``feature_columns[i]``."""
        return self._frame(X)

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
        import lightgbm

        started = time.monotonic()
        # From the start, so preprocessing and building LightGBM's dataset count too.
        deadline = (deadline or Deadline.never()).within(self.max_seconds)
        self.feature_columns = [str(c) for c in X_train.columns]
        limit = int(self.params["max_categories"])
        self.categories = {
            str(c): ranked_categories(X_train[c], limit)
            for c in X_train.columns
            if not is_numeric_column(X_train[c])
        }
        self.numeric = [c for c in self.feature_columns if c not in self.categories]
        train, valid = self._frame(X_train), self._frame(X_valid)
        label_type = float if self.task == "regression" else int
        y_tr = np.asarray(y_train).astype(label_type)
        y_va = np.asarray(y_valid).astype(label_type)

        n_estimators = min(int(self.params["n_estimators"]), MAX_LIGHTGBM_ESTIMATORS)
        settings: dict[str, Any] = {
            "n_estimators": n_estimators,
            "random_state": seed,
            "n_jobs": thread_count(len(train), int(self.params["n_jobs"])),
            "verbose": -1,
            "deterministic": True,
            "force_row_wise": True,  # deterministic results need a fixed histogram layout
        }
        settings.update({k: v for k, v in self.params.items() if k not in _OWN_PARAMS})
        eval_metric = _EVAL_METRIC[self.task]
        model: lightgbm.LGBMModel
        if self.task == "binary_classification":
            model = lightgbm.LGBMClassifier(**settings)
        elif self.task == "multiclass_classification":
            settings.update(objective="multiclass", num_class=self.n_classes, metric=eval_metric)
            model = lightgbm.LGBMModel(**settings)
        else:
            settings.setdefault("objective", "regression")
            settings["metric"] = eval_metric
            model = lightgbm.LGBMRegressor(**settings)
        budget = _TimeBudget(deadline)
        callbacks: list[Any] = [budget]
        rounds = int(self.params["early_stopping_rounds"])
        if rounds > 0:
            callbacks.insert(0, lightgbm.early_stopping(rounds, verbose=False))
        model.fit(
            train,
            y_tr,
            # The training frame itself (same objects) is recorded for the train curve only:
            # early stopping ignores it.
            eval_X=(train, valid),
            eval_y=(y_tr, y_va),  # type: ignore[arg-type]
            eval_names=["train", "valid"],
            eval_metric=eval_metric,
            callbacks=callbacks,
        )
        self._booster = model.booster_
        history = model.evals_result_
        train_curve = [float(v) for v in history["train"][eval_metric]]
        valid_curve = [float(v) for v in history["valid"][eval_metric]]
        self.best_iteration = int(model.best_iteration_ or len(valid_curve))
        # Scored on the frame built above: encoding it again would add to the time budget.
        scores = task_validation(self.task, y_va, self._scores(valid))
        if budget.triggered:
            reason = f"time budget of {deadline.seconds:.3g}s"
        elif len(valid_curve) < n_estimators:
            reason = "early stopping on validation loss"
        else:
            reason = f"n_estimators={n_estimators} reached"
        return FitReport(
            family=self.family,
            params={**self.params, "n_estimators": n_estimators},
            best_iteration=self.best_iteration,
            epochs=len(valid_curve),
            train_curve=train_curve,
            valid_curve=valid_curve,
            fit_seconds=time.monotonic() - started,
            stop_reason=reason,
            stopped_by_budget=budget.triggered,
            **fit_report_scores(self.task, scores),
        )

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self._booster is None:
            raise RuntimeError("LightGBMLearner.predict_proba called before fit or load")
        if self.task == "regression":
            raise no_probabilities(self.family)
        return self._scores(self._frame(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Class indices (classification) or values in the target's unit (regression)."""
        if self._booster is None:
            raise RuntimeError("LightGBMLearner.predict called before fit or load")
        output = self._scores(self._frame(X))
        return output if self.task == "regression" else class_indices(self.task, output)

    def _scores(self, frame: pd.DataFrame) -> np.ndarray:
        scores = self.booster.predict(frame, num_iteration=self.best_iteration)
        return np.asarray(scores, dtype="float64")

    def save(self, dir: Path) -> None:
        if self._booster is None:
            raise RuntimeError("LightGBMLearner.save called before fit")
        dir = Path(dir)
        dir.mkdir(parents=True, exist_ok=True)
        self._booster.save_model(str(dir / MODEL_FILE), num_iteration=self.best_iteration)
        meta = {
            "params": self.params,
            "max_seconds": self.max_seconds,
            "feature_columns": self.feature_columns,
            "numeric": self.numeric,
            "categories": self.categories,
            "best_iteration": self.best_iteration,
            "task": self.task,
            "n_classes": self.n_classes,
        }
        (dir / META_FILE).write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, dir: Path) -> LightGBMLearner:
        import lightgbm

        dir = Path(dir)
        meta = json.loads((dir / META_FILE).read_text())
        task, n_classes = saved_task(meta)
        learner = cls(
            meta["params"], max_seconds=float(meta["max_seconds"]), task=task, n_classes=n_classes
        )
        learner.feature_columns = list(meta["feature_columns"])
        learner.numeric = list(meta["numeric"])
        learner.categories = {k: list(v) for k, v in meta["categories"].items()}
        learner.best_iteration = int(meta["best_iteration"])
        learner._booster = lightgbm.Booster(model_file=str(dir / MODEL_FILE))
        return learner
