"""Logistic regression on the MLP's preprocessing: a quick sanity baseline."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from dagster_agentic.training.learners import FitReport, validation_scores
from dagster_agentic.training.preprocess import TabularEncoder
from dagster_agentic.training.spec import LOGISTIC_DEFAULTS

META_FILE = "logistic.json"


class LogisticLearner:
    """L2-regularised logistic regression; coefficients are stored as plain JSON."""

    family: ClassVar[str] = "logistic"

    def __init__(
        self, params: Mapping[str, Any] | None = None, *, max_seconds: float = 120.0
    ) -> None:
        self.params: dict[str, Any] = {**LOGISTIC_DEFAULTS, **(params or {})}
        # The solver has no wall-clock limit; max_iter bounds it instead.
        self.max_seconds = max_seconds
        self.feature_columns: list[str] = []
        self.encoder: TabularEncoder | None = None
        self.coef: np.ndarray | None = None
        self.intercept = 0.0

    def fit(
        self,
        X_train: pd.DataFrame,
        y_train: np.ndarray,
        X_valid: pd.DataFrame,
        y_valid: np.ndarray,
        *,
        seed: int,
    ) -> FitReport:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        started = time.monotonic()
        self.feature_columns = [str(c) for c in X_train.columns]
        self.encoder = TabularEncoder.fit(
            X_train, top_categories=int(self.params["top_categories"])
        )
        class_weight = self.params["class_weight"]
        model = LogisticRegression(
            C=float(self.params["C"]),
            max_iter=int(self.params["max_iter"]),
            class_weight=None if class_weight == "none" else class_weight,
            random_state=seed,
        )
        notes: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(self.encoder.transform(X_train), np.asarray(y_train).astype(int))
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            notes.append(f"solver did not converge in max_iter={self.params['max_iter']}")
        self.coef = np.asarray(model.coef_[0], dtype="float64")
        self.intercept = float(model.intercept_[0])
        iterations = int(np.max(model.n_iter_))
        ap, auc = validation_scores(np.asarray(y_valid), self.predict_proba(X_valid))
        return FitReport(
            family=self.family,
            params=dict(self.params),
            best_iteration=iterations,
            epochs=iterations,
            train_curve=[],
            valid_curve=[],
            valid_average_precision=ap,
            valid_roc_auc=auc,
            fit_seconds=time.monotonic() - started,
            stop_reason="solver converged" if not notes else "max_iter reached",
            notes=notes,
        )

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self.coef is None or self.encoder is None:
            raise RuntimeError("LogisticLearner.predict_proba called before fit or load")
        # Our own sigmoid over stored coefficients, so a loaded model scores identically.
        z = self.encoder.transform(X).astype("float64") @ self.coef + self.intercept
        return np.exp(-np.logaddexp(0.0, -z))

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
            "coef": [float(v) for v in self.coef],
            "intercept": self.intercept,
        }
        (dir / META_FILE).write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, dir: Path) -> LogisticLearner:
        meta = json.loads((Path(dir) / META_FILE).read_text())
        learner = cls(meta["params"], max_seconds=float(meta["max_seconds"]))
        learner.feature_columns = list(meta["feature_columns"])
        learner.encoder = TabularEncoder.from_dict(meta["encoder"])
        learner.coef = np.asarray(meta["coef"], dtype="float64")
        learner.intercept = float(meta["intercept"])
        return learner
