"""The model and evaluation steps' parts for multiclass and regression goals.

``predictions.csv`` holds, besides ``entity_id``, ``split``, ``in_cohort`` and ``label``:

* multiclass: ``predicted`` (the argmax class index), ``score`` (its probability) and
  ``p_0`` ... ``p_{k-1}`` (every class's probability, in the objective's class order);
* regression: ``prediction`` (in the target's unit).

When the metric is cross-validated (small data, see ``training.cross_validation``) it also
holds ``cv_fold`` and the out-of-fold outputs ``cv_predicted`` and ``cv_p_{i}``,
``cv_prediction`` or (binary goals on ROC AUC, the one threshold-free binary metric)
``cv_score``, and the evaluation measures those over the cohort's rows of every split.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dagster_agentic.errors import DataError
from dagster_agentic.training.cross_validation import (
    CV_FOLD_COLUMN,
    cross_validate,
    cross_validation_reason,
)
from dagster_agentic.training.evaluate_tasks import TaskEvaluation, evaluate_task
from dagster_agentic.training.task_confidence import in_unit

if TYPE_CHECKING:
    from dagster_agentic.goals.objective import Objective
    from dagster_agentic.plan.models import Plan
    from dagster_agentic.training.deadline import Deadline
    from dagster_agentic.training.learners import Learner
    from dagster_agentic.training.spec import ModelSpec, TrainingSpec


def training_spec(plan: Plan) -> TrainingSpec:
    """The plan's training spec for the objective's task: the objective decides the task and
    the class count (its ``classes``), whatever the spec was written with."""
    objective = plan.objective
    n_classes = len(objective.classes) if objective.task == "multiclass_classification" else 2
    spec = plan.training
    if spec.task == objective.task and spec.n_classes == n_classes:
        return spec
    return spec.model_copy(update={"task": objective.task, "n_classes": n_classes})


def kept_candidate(spec: TrainingSpec, reports: list[Any], family: str) -> Any:
    """The ModelSpec of the kept learner: the best-scoring candidate of its family."""
    ranked = sorted(
        zip(spec.candidates, reports, strict=True),
        key=lambda pair: -_finite(pair[1].selection_value(spec.validation_metric)),
    )
    return next(candidate for candidate, _ in ranked if candidate.family == family)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def _outputs(task: str, output: np.ndarray, prefix: str = "") -> dict[str, Any]:
    """The prediction columns of ``output`` for ``task``."""
    if task == "binary_classification":
        return {f"{prefix}score": np.asarray(output, dtype="float64")}
    if task == "regression":
        return {f"{prefix}prediction": np.asarray(output, dtype="float64")}
    proba = np.asarray(output, dtype="float64")
    columns: dict[str, Any] = {f"{prefix}predicted": proba.argmax(axis=1)}
    if not prefix:
        columns["score"] = proba.max(axis=1)
    columns.update({f"{prefix}p_{i}": proba[:, i] for i in range(proba.shape[1])})
    return columns


def task_predictions(base: pd.DataFrame, learner: Learner, features: pd.DataFrame) -> pd.DataFrame:
    """``base`` with the kept model's prediction columns for every row."""
    task = learner.task
    output = learner.predict(features) if task == "regression" else learner.predict_proba(features)
    return base.assign(**_outputs(task, output))


def cross_validated(
    predictions: pd.DataFrame,
    frame: pd.DataFrame,
    learner: Learner,
    candidate: ModelSpec,
    spec: TrainingSpec,
    min_support: int,
    deadline: Deadline,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Cross-validate the kept configuration when the cohort's test split is small.

    Returns the predictions (with out-of-fold columns when it ran) and its summary for the
    training outcome: used or not, and why.
    """
    cohort_test = int((frame["in_cohort"] & (frame["split"] == "test")).sum())
    reason = cross_validation_reason(cohort_test, len(frame), min_support)
    if reason is None:
        return predictions, {
            "used": False,
            "reason": f"the cohort's test split has {cohort_test:,} rows: measured on it",
        }
    labels = frame["label"].to_numpy(dtype=np.float64 if spec.task == "regression" else np.int64)
    result = cross_validate(
        frame[list(learner.feature_columns)],
        labels,
        frame["entity_id"].to_numpy(),
        candidate,
        task=spec.task,
        n_classes=spec.n_classes,
        seed=spec.seed,
        reason=reason,
        deadline=deadline,
    )
    if not result.used:
        return predictions, result.summary()
    extra = _outputs(spec.task, result.output, prefix="cv_")
    return predictions.assign(**{CV_FOLD_COLUMN: result.fold_of}, **extra), result.summary()


def _output_of(task: str, rows: pd.DataFrame, n_classes: int, prefix: str = "") -> np.ndarray:
    if task == "regression":
        return rows[f"{prefix}prediction"].to_numpy(dtype="float64")
    columns = [f"{prefix}p_{i}" for i in range(n_classes)]
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise DataError(
            f"the predictions lack the class probability column(s) {missing[:5]}",
            fix="re-run the model step: the model was trained for other classes",
        )
    return rows[columns].to_numpy(dtype="float64")


def evaluate_task_step(objective: Objective, predictions: pd.DataFrame) -> dict[str, Any]:
    """The goal's metric on its cohort for a multiclass or regression goal.

    On the cohort's test rows, or, where the model step cross-validated, on the cohort's
    out-of-fold predictions over every split; the result says which (``method``).
    """
    task, n_classes = objective.task, len(objective.classes)
    cohort = predictions[predictions["in_cohort"].astype(bool)]
    crossed = CV_FOLD_COLUMN in predictions.columns
    if crossed:
        rows, everyone, prefix = cohort, predictions, "cv_"
        folds = int(predictions[CV_FOLD_COLUMN].max()) + 1
        detail = (
            f"{folds}-fold cross-validation over {len(predictions):,} train, validation and"
            " test rows (pooled out-of-fold predictions; the cohort's test split is small)"
        )
        method = "cross_validation"
    else:
        rows = cohort[cohort["split"] == "test"]
        everyone, prefix = predictions[predictions["split"] == "test"], ""
        detail, method = "the test split", "holdout"
    if rows.empty:
        raise DataError(
            f"the cohort {objective.cohort_description!r} has no rows in the test split",
            fix="widen the cohort (goal.overrides.cohort) or check the cohort's column values",
        )
    common: dict[str, Any] = {
        "metric": objective.metric,
        "target": objective.threshold,
        "n_classes": n_classes,
        "classes": objective.classes,
        "level": objective.confidence_level,
        "min_support": objective.min_support,
        "method": method,
        "method_detail": detail,
    }
    on_cohort = evaluate_task(
        task,
        rows["label"].to_numpy(),
        _output_of(task, rows, n_classes, prefix),
        population="cohort rows",
        **common,
    )
    overall = evaluate_task(
        task,
        everyone["label"].to_numpy(),
        _output_of(task, everyone, n_classes, prefix),
        population="rows" if crossed else "test rows",
        **common,
    )
    valid = cohort[cohort["split"] == "valid"]
    return {
        "task": task,
        "cohort": objective.cohort_description,
        "method": method,
        "cohort_test": on_cohort.to_dict(),
        "all_test": overall.to_dict(),
        "verdict": on_cohort.verdict,
        "validation_vs_test": _validation_vs_test(task, valid, n_classes, on_cohort),
    }


def _validation_vs_test(
    task: str, valid: pd.DataFrame, n_classes: int, measured: TaskEvaluation
) -> str:
    """The kept model's metric on the cohort's validation rows beside the measured one (an
    error in the target's unit, '14,868', not '1.487e+04')."""
    shown = _shown(measured.metric)
    text = (
        f"measured on {measured.method_detail}: {measured.metric} {shown(measured.value)}"
        f" ([{shown(measured.interval_low)}, {shown(measured.interval_high)}])"
    )
    if valid.empty:
        return text
    seen = evaluate_task(
        task,
        valid["label"].to_numpy(),
        _output_of(task, valid, n_classes),
        metric=measured.metric,
        target=measured.target,
        n_classes=n_classes,
        level=measured.level,
        min_support=measured.min_support,
    )
    return f"the kept model on validation: {seen.metric} {shown(seen.value)}; {text}"


def _shown(metric: str) -> Any:
    """Scores with four decimals; errors (RMSE, MAE) in the target's unit."""
    return in_unit if metric in ("rmse", "mae") else (lambda v: f"{v:.4f}")
