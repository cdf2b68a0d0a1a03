"""What to train: the candidate model families, their parameters and how to pick the best."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dagster_agentic.goals.objective import MAX_CLASSES, TaskType

Family = Literal["lightgbm", "torch_mlp", "logistic", "ensemble"]
ParamValue = float | int | str | bool

# Defaults per family. LightGBM accepts any LGBMClassifier parameter on top of these; the
# other families only know their own, so a misspelt name fails when the spec is built.
LIGHTGBM_DEFAULTS: dict[str, ParamValue] = {
    "n_estimators": 1000,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 20,
    "subsample": 0.9,
    "subsample_freq": 1,
    "colsample_bytree": 0.9,
    "reg_lambda": 1.0,
    "early_stopping_rounds": 50,
    "max_categories": 1000,
    "n_jobs": 0,  # 0: automatic, see learners.thread_count
}
TORCH_MLP_DEFAULTS: dict[str, ParamValue] = {
    "hidden_units": 64,
    "dropout": 0.1,
    "lr": 1e-3,
    "weight_decay": 1e-2,
    "batch_size": 256,
    "max_epochs": 200,
    "patience": 10,
    "min_delta": 1e-4,
    "clip_grad_norm": 0.0,  # max L2 norm of all gradients per step; 0.0: no clipping
    "pos_weight": "balanced",
    "top_categories": 20,
    "num_threads": 0,  # 0: automatic, see learners.thread_count
}
LOGISTIC_DEFAULTS: dict[str, ParamValue] = {
    "C": 1.0,
    "max_iter": 1000,
    "class_weight": "none",
    "top_categories": 20,
}
ENSEMBLE_DEFAULTS: dict[str, ParamValue] = {"members": "lightgbm,torch_mlp,logistic"}
"""The mean of these families' predictions (training.ensemble); a member's own parameters are
given as ``<family>__<parameter>``."""
# Hard ceiling on boosting rounds whatever the spec asks: the time budget is the real limit.
MAX_LIGHTGBM_ESTIMATORS = 20_000

_CLOSED_FAMILIES: dict[str, dict[str, ParamValue]] = {
    "torch_mlp": TORCH_MLP_DEFAULTS,
    "logistic": LOGISTIC_DEFAULTS,
}


class ModelSpec(BaseModel):
    """One candidate model: a family, parameter overrides and a wall-clock budget."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: Family
    params: dict[str, ParamValue] = Field(default_factory=dict)
    max_seconds: float = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _known_params(self) -> ModelSpec:
        known = _CLOSED_FAMILIES.get(self.family)
        if known is not None:
            unknown = sorted(set(self.params) - set(known))
            if unknown:
                raise ValueError(
                    f"unknown {self.family} parameter(s) {unknown}; known: {sorted(known)}"
                )
        if self.family == "ensemble":  # each member's parameters, checked as its own
            from dagster_agentic.errors import DataError
            from dagster_agentic.training.ensemble import member_params

            try:
                members = member_params({**ENSEMBLE_DEFAULTS, **self.params})
            except DataError as error:  # a ValueError, so that pydantic reports it
                raise ValueError(error.message) from error
            for family, params in members.items():
                ModelSpec.model_validate({"family": family, "params": params})
        return self

    def resolved_params(self) -> dict[str, ParamValue]:
        """The family defaults overridden by ``params``."""
        defaults = {
            "lightgbm": LIGHTGBM_DEFAULTS,
            "torch_mlp": TORCH_MLP_DEFAULTS,
            "logistic": LOGISTIC_DEFAULTS,
            "ensemble": ENSEMBLE_DEFAULTS,
        }[self.family]
        return {**defaults, **self.params}


class TrainingSpec(BaseModel):
    """Candidates tried in order; the best on validation is kept.

    ``task`` decides what is learnt and how candidates are compared on validation:

    * binary: by ``selection_metric`` (average precision or ROC AUC), as ever;
    * multiclass (``n_classes`` classes, labels 0..n_classes-1): by log loss. It is a proper
      scoring rule over the whole predicted distribution, the loss every family minimises and
      early-stops on, and on a few hundred validation rows it is far less noisy than
      macro-F1, which moves by whole rows of one small class at the argmax; macro-F1 and
      accuracy are reported beside it;
    * regression: by RMSE in the target's unit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidates: tuple[ModelSpec, ...] = Field(min_length=1)
    selection_metric: Literal["average_precision", "roc_auc"] = "average_precision"
    seed: int = 0
    task: TaskType = "binary_classification"
    n_classes: int = Field(default=2, ge=1, le=MAX_CLASSES)

    @model_validator(mode="after")
    def _fits_task(self) -> TrainingSpec:
        if self.task == "binary_classification" and self.n_classes != 2:
            raise ValueError(f"a binary task has 2 classes, not {self.n_classes}")
        if self.task == "multiclass_classification" and self.n_classes < 3:
            raise ValueError(f"a multiclass task has at least 3 classes, not {self.n_classes}")
        return self

    @property
    def validation_metric(self) -> str:
        """The validation score candidates are compared on."""
        if self.task == "multiclass_classification":
            return "log_loss"
        if self.task == "regression":
            return "rmse"
        return self.selection_metric

    @classmethod
    def default(cls, *, seed: int = 0, max_seconds: float = 120.0) -> TrainingSpec:
        """LightGBM first, then the MLP, with logistic regression as a sanity baseline."""
        return cls(
            candidates=(
                ModelSpec(family="lightgbm", max_seconds=max_seconds),
                ModelSpec(family="torch_mlp", max_seconds=max_seconds),
                ModelSpec(family="logistic", max_seconds=max_seconds),
            ),
            seed=seed,
        )
