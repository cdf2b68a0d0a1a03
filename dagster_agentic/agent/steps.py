"""The goal's run-time steps as plain Python: train, evaluate, judge.

Dagster assets call these; they read the training set in the warehouse, write artifacts of the
plan version, and return small JSON-able results. Only the training matrix (selected features)
ever leaves the warehouse, and every byte of it is counted.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dagster_agentic.agent.training_matrix import (
    MATRIX_FIXED_BYTES,
    REGRESSION_LABEL_BYTES,
    SPLITS,
    load_training_set,
    matrix_bytes,
    refuse_oversized_matrix,
)
from dagster_agentic.errors import DataError
from dagster_agentic.observability import tools
from dagster_agentic.plan.models import Plan
from dagster_agentic.plan.store import write_json_atomic
from dagster_agentic.training.cross_validation import CV_FOLD_COLUMN
from dagster_agentic.warehouse.connection import EgressLedger, Warehouse

_MODEL_DIR, _PREDICTIONS, _TRAINING, _EVALUATION = (
    "model",
    "predictions.csv",
    "training.json",
    "evaluation.json",
)
TRAINING_FILE, EVALUATION_FILE = _TRAINING, _EVALUATION
"""The kept model's training outcome (family, scores, candidates' curves) and its evaluation."""
IMPORTANCE_FILE, SHAP_PLOT_FILE = "importance.json", "shap_summary.png"
"""SHAP importance of the kept model (with the features found without value), and its plot."""
DIVERGENCE_FILE = "divergence.json"
"""Written when every model candidate diverged: the training curves, for the diagnosis."""
FRAME_CHECKS_FILE, FRAME_REFERENCE_FILE = "training_set_checks.json", "training_set_reference.json"
"""The training set's expectations as validated on the fetched frame, and what it looked like
(the next run's reference)."""
VALUELESS_SHARE = 0.005
"""A feature with less than this share of the total mean |SHAP| has no value to the model."""


@dataclass(frozen=True)
class TrainingOutcome:
    family: str
    rows: dict[str, int]
    validation: dict[str, float]
    reports: list[dict[str, Any]]
    egress_bytes: int
    seconds: float
    importance: list[tuple[str, float]]
    """Features by share of mean |SHAP| on test rows, strongest first."""
    valueless: list[str]
    task: str = "binary_classification"
    cross_validation: dict[str, Any] | None = None
    """Whether the metric is cross-validated on small data, and why (multiclass, regression
    and binary ROC AUC goals); None where the threshold is chosen on validation."""


# The training matrix lives in its own module; its names stay importable from here.
__all__ = [
    "MATRIX_FIXED_BYTES",
    "REGRESSION_LABEL_BYTES",
    "SPLITS",
    "load_training_set",
    "matrix_bytes",
    "refuse_oversized_matrix",
]


def _split(frame: pd.DataFrame, plan: Plan, name: str) -> tuple[pd.DataFrame, np.ndarray]:
    part = frame[frame["split"] == name]
    dtype = np.float64 if plan.objective.task == "regression" else np.int64
    return part[list(plan.feature_columns)], part["label"].to_numpy(dtype=dtype)


@tools.traced("expectations", tools.frame_inputs)
def _check_frame(frame: pd.DataFrame, plan: Plan, artifacts: Path, reference: Path | None) -> None:
    """Validate the fetched training set (Great Expectations, in memory); refuse to train on
    one that fails a critical expectation. The results are kept for the asset's checks."""
    from dagster_agentic.expectations.training_frame import (
        FrameReference,
        validate_training_frame,
    )

    known = (
        FrameReference.from_dict(json.loads(reference.read_text()))
        if reference is not None and reference.exists()
        else None
    )
    checks = validate_training_frame(frame, plan, known)
    write_json_atomic(
        artifacts / FRAME_CHECKS_FILE,
        {"checks": [{**c.__dict__, "failing_sample": list(c.failing_sample)} for c in checks]},
    )
    broken = [c for c in checks if c.critical and not c.passed]
    if broken:
        raise DataError(
            "the training set fails " + "; ".join(f"{c.name}: {c.description}" for c in broken),
            fix="fix the failing source or feature (see the training set checks); nothing was"
            " trained",
        )
    write_json_atomic(artifacts / FRAME_REFERENCE_FILE, FrameReference.of(frame, plan).to_dict())


def frame_checks(artifacts: Path) -> list[dict[str, Any]]:
    """The training set's check results of the last run of this version (none before one)."""
    path = artifacts / FRAME_CHECKS_FILE
    if not path.exists():
        return []
    checks: list[dict[str, Any]] = json.loads(path.read_text())["checks"]
    return checks


@tools.traced("train", tools.plan_inputs, tools.training_outputs)
def train_step(
    plan: Plan, warehouse: Warehouse, artifacts: Path, *, reference: Path | None = None
) -> TrainingOutcome:
    """Fit the plan's candidates, keep the best, save it and its scores for every row.

    ``reference`` is the training-set reference of the last good run (its row count, null
    fractions and label rate), when there is one.
    """
    from dagster_agentic.agent.task_steps import (
        cross_validated,
        kept_candidate,
        task_predictions,
        training_spec,
    )
    from dagster_agentic.training.artifacts import save_learner
    from dagster_agentic.training.deadline import Deadline
    from dagster_agentic.training.fit import fit_best
    from dagster_agentic.training.learners import TrainingDivergedError

    started = time.perf_counter()
    ledger = EgressLedger()
    (artifacts / FRAME_CHECKS_FILE).unlink(missing_ok=True)
    frame = load_training_set(plan, warehouse, ledger)
    if frame.empty:
        raise DataError(
            f"the training set of goal {plan.goal!r} has no rows",
            fix="check that the label table has labelled rows and that dbt built the features",
        )
    _check_frame(frame, plan, artifacts, reference)
    x_train, y_train = _split(frame, plan, "train")
    x_valid, y_valid = _split(frame, plan, "valid")
    diverged = artifacts / DIVERGENCE_FILE
    diverged.unlink(missing_ok=True)
    # One deadline for every candidate, from the data checks of fit_best on; fetching and
    # validating the training set above is not training and does not count.
    deadline = Deadline.after(plan.budget.max_train_seconds)
    spec = training_spec(plan)  # the objective's task and classes
    try:
        learner, reports = fit_best(x_train, y_train, x_valid, y_valid, spec, deadline=deadline)
    except TrainingDivergedError as error:
        write_json_atomic(diverged, error.to_evidence())
        raise
    base = frame[["entity_id", "split", "in_cohort", "label"]]
    features = frame[list(plan.feature_columns)]
    cross_validation: dict[str, Any] | None = None
    if spec.task == "binary_classification":
        predictions = base.assign(score=learner.predict_proba(features))
    else:
        predictions = task_predictions(base, learner, features)
    # Threshold-free metrics only: a binary threshold is chosen on the kept model's validation
    # scores, which out-of-fold scores of other models do not share.
    if spec.task != "binary_classification" or plan.objective.metric == "roc_auc":
        predictions, cross_validation = cross_validated(
            predictions,
            frame,
            learner,
            kept_candidate(spec, reports, learner.family),
            spec,
            plan.objective.min_support,
            deadline,
        )

    staging = artifacts / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    save_learner(learner, staging / _MODEL_DIR)
    predictions.to_csv(staging / _PREDICTIONS, index=False)
    held_out, _ = _split(frame, plan, "test")
    importance = _explain(learner, held_out if len(held_out) else x_valid, staging, plan)
    best = max(reports, key=lambda r: _selection_value(r, spec))
    if spec.task == "binary_classification":
        validation = {
            "average_precision": float(best.valid_average_precision),
            "roc_auc": float(best.valid_roc_auc),
        }
    else:  # the task's scores; the binary keys stay (NaN) for readers of binary outcomes
        validation = {
            "average_precision": math.nan,
            "roc_auc": math.nan,
            **{k: float(v) for k, v in best.valid_scores.items()},
        }
    outcome = TrainingOutcome(
        family=best.family,
        rows={name: int((frame["split"] == name).sum()) for name in ("train", "valid", "test")},
        validation=validation,
        reports=[_report_dict(r) for r in reports],
        egress_bytes=ledger.total_bytes,
        seconds=time.perf_counter() - started,
        importance=[(c, round(v, 6)) for c, v in importance["ranked_shares"]],
        valueless=list(importance["valueless"]),
        task=spec.task,
        cross_validation=cross_validation,
    )
    (staging / _TRAINING).write_text(json.dumps(asdict(outcome), indent=2))
    names = (_MODEL_DIR, _PREDICTIONS, _TRAINING, IMPORTANCE_FILE, SHAP_PLOT_FILE)
    _publish(staging, artifacts, names)
    return outcome


def _explain(learner: Any, rows: pd.DataFrame, staging: Path, plan: Plan) -> dict[str, Any]:
    """SHAP on held-out rows: the importance file the next plan version learns from, and a plot."""
    from dagster_agentic.training.explain import explain, save_summary_plot, valueless_features

    explanation = explain(learner, rows, seed=plan.training.seed)
    save_summary_plot(explanation, staging / SHAP_PLOT_FILE)
    shares = explanation.shares()
    result = {
        **explanation.to_dict(),
        "ranked_shares": [(column, shares[column]) for column, _ in explanation.ranked()],
        "valueless": list(valueless_features(explanation, min_share=VALUELESS_SHARE)),
    }
    write_json_atomic(staging / IMPORTANCE_FILE, result)
    return result


def _selection_value(report: Any, spec: Any) -> float:
    """The report's validation score, higher is better; a candidate that produced none
    (diverged, not started for the budget) ranks last, as fit_best ranked it."""
    value = float(report.selection_value(spec.validation_metric))
    return value if math.isfinite(value) else -math.inf


def _report_dict(report: Any) -> dict[str, Any]:
    data = asdict(report)
    for key in ("train_curve", "valid_curve"):
        if key in data:  # curves are long; keep them in the artifact, trimmed for metadata
            data[key] = [round(float(v), 5) for v in data[key]]
    return data


def _publish(staging: Path, artifacts: Path, names: tuple[str, ...]) -> None:
    """Swap each artifact into place; a reader sees the old or the new file, never a mix."""
    for name in names:
        target, source = artifacts / name, staging / name
        if source.is_dir():
            old = artifacts / f".old-{name}-{os.getpid()}"
            if target.exists():
                target.rename(old)
            source.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(source, target)
    shutil.rmtree(staging, ignore_errors=True)


@tools.traced("evaluate", tools.plan_inputs, tools.evaluation_outputs)
def evaluate_step(plan: Plan, artifacts: Path) -> dict[str, Any]:
    """The goal's metric on its cohort: threshold chosen on validation, measured on test."""
    from dagster_agentic.training.evaluate import evaluate
    from dagster_agentic.training.threshold import choose_threshold

    objective = plan.objective
    predictions = pd.read_csv(artifacts / _PREDICTIONS)
    if objective.task != "binary_classification":
        from dagster_agentic.agent.task_steps import evaluate_task_step

        result = evaluate_task_step(objective, predictions)
        write_json_atomic(artifacts / _EVALUATION, result)
        return result
    cohort = predictions[predictions["in_cohort"]]
    valid, test = cohort[cohort["split"] == "valid"], cohort[cohort["split"] == "test"]
    for name, part in (("validation", valid), ("test", test)):
        if part.empty:
            raise DataError(
                f"the cohort {objective.cohort_description!r} has no rows in the {name} split",
                fix="widen the cohort (goal.overrides.cohort) or check the cohort's column values",
            )
    level, min_support = objective.confidence_level, objective.min_support
    choice = choose_threshold(
        valid["label"].to_numpy(),
        valid["score"].to_numpy(),
        metric=objective.metric,
        target=objective.threshold,
        min_positive_predictions=min_support,
        level=level,
    )
    everyone = predictions[predictions["split"] == "test"]
    column, population, method = "score", ("cohort rows", "test rows"), None
    if objective.metric == "roc_auc" and CV_FOLD_COLUMN in predictions.columns:
        # Small data: the out-of-fold scores of every split (see agent.task_steps).
        test, everyone, column = cohort, predictions, "cv_score"
        folds = int(predictions[CV_FOLD_COLUMN].max()) + 1
        method = f"out-of-fold scores of {folds}-fold cross-validation over every split"
        population = (f"cohort rows ({method})", f"rows ({method})")
    on_cohort = evaluate(
        test["label"].to_numpy(),
        test[column].to_numpy(),
        threshold=choice.threshold,
        metric=objective.metric,
        target=objective.threshold,
        population=population[0],
        level=level,
        min_support=min_support,
    )
    overall = evaluate(
        everyone["label"].to_numpy(),
        everyone[column].to_numpy(),
        threshold=choice.threshold,
        metric=objective.metric,
        target=objective.threshold,
        population=population[1],
        level=level,
        min_support=min_support,
    )
    result = {
        "cohort": objective.cohort_description,
        "threshold": choice.to_dict(),
        "cohort_test": on_cohort.to_dict(),
        "all_test": overall.to_dict(),
        "verdict": on_cohort.verdict,
        "validation_vs_test": _validation_vs_test(choice.to_dict(), on_cohort.to_dict()),
    }
    if method is not None:
        result["method"] = "cross_validation"
    write_json_atomic(artifacts / _EVALUATION, result)
    return result


def read_artifact(artifacts: Path, name: str) -> dict[str, Any]:
    path = artifacts / name
    if not path.exists():
        raise DataError(
            f"{path} does not exist",
            fix="materialise the upstream assets of this plan version first",
        )
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _validation_vs_test(threshold: dict[str, Any], cohort: dict[str, Any]) -> str:
    """What the chosen threshold gave on validation and on the cohort's test rows, side by side."""
    metric = cohort["metric"]
    seen = (
        f"on validation {metric} {_number(threshold['validation_value'])}"
        f" ({threshold['level']:.0%} CI [{_number(threshold['validation_low'])},"
        f" {_number(threshold['validation_high'])}]"
    )
    if threshold.get("validation_lower_bound") is not None:
        seen += f", one-sided lower bound {_number(threshold['validation_lower_bound'])}"
    seen += (
        f", {threshold['n_predicted_positive']:,} predicted positives); on test"
        f" {_number(cohort['value'])} ([{_number(cohort['interval_low'])},"
        f" {_number(cohort['interval_high'])}], {cohort['support']:,} {cohort['support_name']})"
        f" at threshold {threshold['threshold']:.4g}"
    )
    return seen


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.3f}"


VERDICT_STATUS = {"met": "met", "not_met": "not met", "inconclusive": "inconclusive"}
"""The goal asset's status for each verdict of the evaluation."""


def goal_status(plan: Plan, artifacts: Path) -> dict[str, Any]:
    """Met, not met or inconclusive, and why, from this plan version's evaluation and training.

    The status is the cohort's test verdict: met only when the metric's confidence interval
    lies at or above the target on enough supporting rows.
    """
    evaluation = read_artifact(artifacts, _EVALUATION)
    training = read_artifact(artifacts, _TRAINING)
    cohort = evaluation["cohort_test"]
    objective = plan.objective
    verdict = str(cohort.get("verdict", "met" if cohort["met"] else "not_met"))
    met = verdict == "met"
    reasons = [cohort["explanation"].rstrip(".") + "."]
    threshold = evaluation.get("threshold")
    if threshold is None:  # multiclass and regression: argmax or the value, no threshold
        if evaluation.get("validation_vs_test"):
            reasons.append(f"{evaluation['validation_vs_test']}.")
    elif "validation_vs_test" in evaluation:
        reasons.append(
            f"Threshold: {threshold.get('rule') or 'chosen on validation'};"
            f" {evaluation['validation_vs_test']}."
        )
    if threshold is not None and not threshold["reachable"]:
        reasons.append(f"Infeasible on validation: {threshold['note']}")
    return {
        "status": VERDICT_STATUS[verdict],
        "met": met,
        "verdict": verdict,
        "metric": objective.metric,
        "target": objective.threshold,
        "value": cohort["value"],
        "interval": [cohort.get("interval_low"), cohort.get("interval_high")],
        "level": cohort.get("level"),
        "support": cohort.get("support"),
        "support_name": cohort.get("support_name"),
        "trivial": bool(cohort.get("trivial", False)),
        "trivial_reason": cohort.get("trivial_reason"),
        "feasible": bool(threshold["reachable"]) if threshold is not None else True,
        "cohort": objective.cohort_description,
        "why": " ".join(reasons),
        "model_family": training["family"],
        "egress_bytes": training["egress_bytes"],
    }
