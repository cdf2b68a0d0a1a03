"""The learner contract, the fit report, and the factory that builds a learner from a spec.

Each family lives in its own module (``lightgbm_learner``, ``torch_mlp``, ``logistic``) and
is imported only when used, so importing this module never pulls in torch or LightGBM.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from dagster_agentic.errors import DataError

if TYPE_CHECKING:
    from typing import Self

    import pandas as pd

    from dagster_agentic.training.deadline import Deadline
    from dagster_agentic.training.spec import ModelSpec


class TrainingDivergedError(DataError):
    """The loss became NaN or infinite, or exploded, during training.

    The error carries the evidence a diagnosis needs: where it happened (``family``,
    ``epoch``, ``stage``), why (``reason``: ``"non_finite"`` or ``"exploded"``, with the
    offending ``loss``), the loss trajectory (``initial_loss`` of the untrained model,
    ``train_curve``, ``valid_curve``) and the resolved ``params``. :meth:`to_evidence` gives
    all of it as a JSON-serialisable dict.
    """

    def __init__(
        self,
        message: str,
        *,
        family: str,
        epoch: int,
        last_finite_loss: float | None,
        fix: str | None = None,
        stage: str = "training",
        reason: str = "non_finite",
        loss: float = math.nan,
        initial_loss: float | None = None,
        train_curve: list[float] | None = None,
        valid_curve: list[float] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.family = family
        self.epoch = epoch
        self.last_finite_loss = last_finite_loss
        self.stage = stage
        self.reason = reason
        self.loss = loss
        self.initial_loss = initial_loss
        self.train_curve: list[float] = list(train_curve or [])
        self.valid_curve: list[float] = list(valid_curve or [])
        self.params: dict[str, Any] = dict(params or {})
        super().__init__(message, fix=fix)

    def to_evidence(self) -> dict[str, Any]:
        """The evidence as a JSON-serialisable dict; a non-finite ``loss`` is its text."""
        return {
            "kind": "diverged",
            "stage": self.stage,
            "reason": self.reason,
            "message": self.message,
            "fix": self.fix,
            "family": self.family,
            "epoch": self.epoch,
            "loss": float(self.loss) if math.isfinite(self.loss) else str(float(self.loss)),
            "last_finite_loss": _jsonable(self.last_finite_loss),
            "initial_loss": _jsonable(self.initial_loss),
            "train_curve": _jsonable(self.train_curve),
            "valid_curve": _jsonable(self.valid_curve),
            "params": _jsonable(self.params),
        }


@dataclass
class FitReport:
    """What happened while fitting one candidate, for the trace and for model selection."""

    family: str
    params: dict[str, Any]
    best_iteration: int  # boosting round, epoch or solver iteration of the kept model
    epochs: int  # rounds / epochs / iterations actually run
    train_curve: list[float]
    valid_curve: list[float]
    valid_average_precision: float
    valid_roc_auc: float
    fit_seconds: float
    stop_reason: str = ""
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # set when the candidate failed (e.g. diverged)
    # The training deadline ended the fit (the model so far is kept) or kept it from starting.
    stopped_by_budget: bool = False
    task: str = "binary_classification"
    valid_scores: dict[str, float] = field(default_factory=dict)
    """Every validation score of the task (binary: average_precision, roc_auc; multiclass:
    log_loss, accuracy, macro_f1; regression: rmse, mae, r2); NaN where undefined."""
    cv_scores: dict[str, float] = field(default_factory=dict)
    """The same scores of the candidate's pooled out-of-fold predictions over the train and
    valid rows, when candidates were compared by cross-validation (small data, see
    ``training.fit``); empty when they were compared on the validation split."""

    def metric(self, name: str) -> float:
        """The validation value of ``name`` (NaN if failed or undefined).

        ``average_precision`` and ``roc_auc`` read the binary fields, so reports built before
        ``valid_scores`` existed answer as before.
        """
        if name == "average_precision":
            return self.valid_average_precision
        if name == "roc_auc":
            return self.valid_roc_auc
        return float(self.valid_scores.get(name, math.nan))

    def selection_value(self, name: str) -> float:
        """The value candidates are compared on, oriented so that higher is better (errors
        negated): ``name``'s cross-validated score when there is one, else its validation
        value."""
        value = float(self.cv_scores.get(name, math.nan)) if self.cv_scores else self.metric(name)
        return -value if name in LOWER_IS_BETTER_SCORES else value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy: numpy scalars become floats, NaN/inf become None."""
        return {key: _jsonable(value) for key, value in asdict(self).items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


@runtime_checkable
class Learner(Protocol):
    """A model of one task over a feature frame.

    ``predict_proba`` gives (n,) positive-class probabilities for a binary task and (n, k)
    class probabilities (columns in class-index order) for a multiclass one; ``predict`` gives
    class indices for classification and values in the target's unit for regression.

    ``fit`` stops at ``deadline`` (and after ``max_seconds`` of its own), checking it after
    every boosting round, batch or solver chunk, and keeps the best model so far: it always
    trains at least one such step, so a fit stopped by the budget still gives a model.
    """

    family: ClassVar[str]
    feature_columns: list[str]
    task: str
    n_classes: int

    def fit(
        self,
        X_train: pd.DataFrame,
        y_train: np.ndarray,
        X_valid: pd.DataFrame,
        y_valid: np.ndarray,
        *,
        seed: int,
        deadline: Deadline | None = None,
    ) -> FitReport: ...

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray: ...

    def predict(self, X: pd.DataFrame) -> np.ndarray: ...

    def save(self, dir: Path) -> None: ...

    @classmethod
    def load(cls, dir: Path) -> Self: ...


# Below this many training rows a second thread costs more than it saves: the work per
# batch or tree is tiny and, on a busy two-core machine, spinning OpenMP threads can make
# training several times slower.
SMALL_DATA_ROWS = 20_000


def thread_count(n_rows: int, requested: int = 0) -> int:
    """``requested`` if positive, else 1 thread for small data and 2 otherwise."""
    if requested > 0:
        return requested
    return 1 if n_rows < SMALL_DATA_ROWS else 2


LOWER_IS_BETTER_SCORES = frozenset({"log_loss", "rmse", "mae"})
"""Validation scores that are errors: the lower, the better."""


def task_validation(task: str, y_valid: np.ndarray, output: np.ndarray) -> dict[str, float]:
    """Every validation score of ``task`` for the model ``output`` (probabilities or values).

    Binary: average_precision and roc_auc; multiclass: log_loss (over all classes, so a class
    missing from validation still counts through its probability mass), accuracy and
    macro_f1 (over the classes present in labels or predictions); regression: rmse, mae, r2.
    """
    y = np.asarray(y_valid)
    if task == "binary_classification":
        ap, auc = validation_scores(y, output)
        return {"average_precision": ap, "roc_auc": auc}
    if task == "multiclass_classification":
        from sklearn.metrics import f1_score

        proba = np.clip(np.asarray(output, dtype="float64"), 1e-15, 1.0)
        labels = y.astype(int)
        predicted = proba.argmax(axis=1)
        return {
            "log_loss": float(-np.log(proba[np.arange(len(labels)), labels]).mean()),
            "accuracy": float((predicted == labels).mean()),
            "macro_f1": float(f1_score(labels, predicted, average="macro", zero_division=0)),
        }
    values = np.asarray(output, dtype="float64")
    truth = y.astype("float64")
    errors = values - truth
    spread = float(((truth - truth.mean()) ** 2).sum())
    return {
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "mae": float(np.mean(np.abs(errors))),
        "r2": 1.0 - float((errors**2).sum()) / spread if spread > 0 else math.nan,
    }


def fit_report_scores(task: str, scores: dict[str, float]) -> dict[str, Any]:
    """FitReport keyword arguments for ``scores``: the binary fields stay NaN off binary."""
    return {
        "valid_average_precision": scores.get("average_precision", math.nan),
        "valid_roc_auc": scores.get("roc_auc", math.nan),
        "task": task,
        "valid_scores": dict(scores),
    }


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def class_weights(setting: Any, y: np.ndarray, n_classes: int) -> np.ndarray | None:
    """``balanced``: weights n / (k * count) per class (1 for a class absent from ``y``);
    ``none``: no weights. As sklearn's ``class_weight="balanced"``, over the classes seen."""
    if setting == "none" or setting is None:
        return None
    if setting != "balanced":
        raise DataError(
            f"a multiclass task takes class weights 'balanced' or 'none', not {setting!r}",
            fix="set the weight parameter to 'balanced' or 'none' (a number is for binary tasks)",
        )
    counts = np.bincount(np.asarray(y).astype(int), minlength=n_classes).astype("float64")
    seen = int((counts > 0).sum())
    weights = np.where(counts > 0, len(y) / np.maximum(seen * counts, 1.0), 1.0)
    return np.asarray(weights, dtype="float64")


def validation_scores(y_valid: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Average precision and ROC AUC of ``scores`` on the validation labels."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(y_valid).astype(int)
    if len(np.unique(y)) < 2:
        return math.nan, math.nan
    return float(average_precision_score(y, scores)), float(roc_auc_score(y, scores))


def make_learner(
    spec: ModelSpec, task: str = "binary_classification", n_classes: int = 2
) -> Learner:
    """A fresh, unfitted learner for ``spec`` that learns ``task`` (``n_classes`` classes)."""
    params = spec.resolved_params()
    kwargs: dict[str, Any] = {"max_seconds": spec.max_seconds, "task": task}
    kwargs["n_classes"] = n_classes if task == "multiclass_classification" else 2
    if spec.family == "lightgbm":
        from dagster_agentic.training.lightgbm_learner import LightGBMLearner

        return LightGBMLearner(params, **kwargs)
    if spec.family == "torch_mlp":
        from dagster_agentic.training.torch_mlp import TorchMLPLearner

        return TorchMLPLearner(params, **kwargs)
    if spec.family == "ensemble":
        from dagster_agentic.training.ensemble import EnsembleLearner

        return EnsembleLearner(params, **kwargs)
    from dagster_agentic.training.logistic import LogisticLearner

    return LogisticLearner(params, **kwargs)


def class_indices(task: str, proba: np.ndarray) -> np.ndarray:
    """The predicted class of each row: argmax (multiclass) or P(positive) >= 0.5 (binary)."""
    if task == "multiclass_classification":
        return np.asarray(proba).argmax(axis=1).astype(np.int64)
    return (np.asarray(proba) >= 0.5).astype(np.int64)


def no_probabilities(family: str) -> DataError:
    """The error for probabilities asked of a regression model."""
    return DataError(
        f"the {family} model is a regression model: it predicts values, not probabilities",
        fix="call predict() for a regression model",
    )


def saved_task(meta: dict[str, Any]) -> tuple[str, int]:
    """The task and class count saved with a model; models saved before tasks are binary."""
    return str(meta.get("task", "binary_classification")), int(meta.get("n_classes", 2))


def load_family(family: str, dir: Path) -> Learner:
    """Load a saved learner of ``family`` from ``dir`` (with the task it was trained for)."""
    if family == "lightgbm":
        from dagster_agentic.training.lightgbm_learner import LightGBMLearner

        return LightGBMLearner.load(dir)
    if family == "torch_mlp":
        from dagster_agentic.training.torch_mlp import TorchMLPLearner

        return TorchMLPLearner.load(dir)
    if family == "logistic":
        from dagster_agentic.training.logistic import LogisticLearner

        return LogisticLearner.load(dir)
    if family == "ensemble":
        from dagster_agentic.training.ensemble import EnsembleLearner

        return EnsembleLearner.load(dir)
    raise DataError(
        f"unknown model family {family!r} in {dir}",
        fix="re-run the model step; known families are lightgbm, torch_mlp, logistic and ensemble",
    )
