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

    def metric(self, name: str) -> float:
        """The validation value of ``average_precision`` or ``roc_auc`` (NaN if failed)."""
        return self.valid_average_precision if name == "average_precision" else self.valid_roc_auc

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
    """A binary classifier over a feature frame; scores are positive-class probabilities.

    ``fit`` stops at ``deadline`` (and after ``max_seconds`` of its own), checking it after
    every boosting round, batch or solver chunk, and keeps the best model so far: it always
    trains at least one such step, so a fit stopped by the budget still gives a model.
    """

    family: ClassVar[str]
    feature_columns: list[str]

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


def validation_scores(y_valid: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Average precision and ROC AUC of ``scores`` on the validation labels."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(y_valid).astype(int)
    if len(np.unique(y)) < 2:
        return math.nan, math.nan
    return float(average_precision_score(y, scores)), float(roc_auc_score(y, scores))


def make_learner(spec: ModelSpec) -> Learner:
    """A fresh, unfitted learner for ``spec``."""
    params = spec.resolved_params()
    if spec.family == "lightgbm":
        from dagster_agentic.training.lightgbm_learner import LightGBMLearner

        return LightGBMLearner(params, max_seconds=spec.max_seconds)
    if spec.family == "torch_mlp":
        from dagster_agentic.training.torch_mlp import TorchMLPLearner

        return TorchMLPLearner(params, max_seconds=spec.max_seconds)
    from dagster_agentic.training.logistic import LogisticLearner

    return LogisticLearner(params, max_seconds=spec.max_seconds)


def load_family(family: str, dir: Path) -> Learner:
    """Load a saved learner of ``family`` from ``dir``."""
    if family == "lightgbm":
        from dagster_agentic.training.lightgbm_learner import LightGBMLearner

        return LightGBMLearner.load(dir)
    if family == "torch_mlp":
        from dagster_agentic.training.torch_mlp import TorchMLPLearner

        return TorchMLPLearner.load(dir)
    if family == "logistic":
        from dagster_agentic.training.logistic import LogisticLearner

        return LogisticLearner.load(dir)
    raise DataError(
        f"unknown model family {family!r} in {dir}",
        fix="re-run the model step; known families are lightgbm, torch_mlp and logistic",
    )
