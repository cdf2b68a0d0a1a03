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

from dagster_agentic.errors import DataError, GuardrailError
from dagster_agentic.features.dbt_project import training_set_model
from dagster_agentic.plan.models import Plan
from dagster_agentic.plan.store import write_json_atomic
from dagster_agentic.warehouse.connection import EgressLedger, Warehouse, quote_ident

_MODEL_DIR, _PREDICTIONS, _TRAINING, _EVALUATION = (
    "model",
    "predictions.csv",
    "training.json",
    "evaluation.json",
)
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


SPLITS = ("train", "valid", "test")


def load_training_set(plan: Plan, warehouse: Warehouse, ledger: EgressLedger) -> pd.DataFrame:
    """Fetch the selected feature columns, label, split and cohort flag, within the budget.

    What leaves is kept small: features as 4-byte floats, the label, split and cohort flag as
    1-byte codes, and each categorical feature as 2-byte codes plus its dictionary (the
    distinct values, fetched once). Codes are decoded here, after they are counted. Beyond
    ``max_train_rows`` training rows, a stable sample of them is fetched; validation and test
    rows are always fetched whole.
    """
    relation = f"{quote_ident(plan.models_schema)}.{quote_ident(training_set_model(plan.goal))}"
    kinds = set(plan.categorical_columns)
    categorical = [c for c in plan.feature_columns if c in kinds]
    numeric = [c for c in plan.feature_columns if c not in kinds]
    with warehouse.connect(read_only=True) as conn:
        row = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE split = 'train') FROM {relation}"
        ).fetchone()
    total, train = (int(row[0]), int(row[1])) if row else (0, 0)
    spec = plan.training_set
    sampled = "TRUE"
    if train > spec.max_train_rows:  # a stable sample of the training rows, by entity hash
        keep = round(spec.max_train_rows / train * 1_000_000)
        sampled = f"split <> 'train' OR hash(entity_id, {spec.split_seed + 1}) % 1000000 < {keep}"
    rows = total - train + min(train, spec.max_train_rows)
    refuse_oversized_matrix(plan, rows)
    budget = plan.budget.max_egress_bytes
    dictionaries = {
        column: warehouse.fetch_df(
            f"SELECT DISTINCT {quote_ident(column)} AS value FROM {relation}"
            f" WHERE {quote_ident(column)} IS NOT NULL ORDER BY 1",
            purpose="category dictionary",
            ledger=ledger,
            max_bytes=budget - ledger.total_bytes,
        )["value"].tolist()
        for column in categorical
    }
    split_code = " ".join(f"WHEN '{name}' THEN {i}" for i, name in enumerate(SPLITS))
    selected = [
        "entity_id",
        "CAST(label AS TINYINT) AS label",
        f"CAST(CASE split {split_code} END AS TINYINT) AS split",
        "in_cohort",
        *(f"CAST({quote_ident(c)} AS FLOAT) AS {quote_ident(c)}" for c in numeric),
        *(
            f"CAST(CASE WHEN {quote_ident(c)} IS NULL THEN NULL ELSE dense_rank() OVER"
            f" (PARTITION BY {quote_ident(c)} IS NULL ORDER BY {quote_ident(c)}) - 1 END"
            f" AS SMALLINT) AS {quote_ident(c)}"
            for c in categorical
        ),
    ]
    # A fixed row order: the physical order may differ between builds; learners are not immune.
    # Codes are ranked over every row, then the sample is taken: the dictionary stays valid.
    sql = (
        f"SELECT * EXCLUDE (__keep) FROM (SELECT {', '.join(selected)},"
        f" ({sampled}) AS __keep, cutoff_at FROM {relation})"
        " WHERE __keep ORDER BY entity_id, cutoff_at"
    )
    frame = warehouse.fetch_df(
        sql, purpose="training matrix", ledger=ledger, max_bytes=budget - ledger.total_bytes
    )
    frame["split"] = pd.Series(np.asarray(SPLITS, dtype=object)[frame["split"].to_numpy()])
    for column, values in dictionaries.items():
        codes = frame[column].to_numpy(dtype="float64")
        decoded = np.full(len(codes), None, dtype=object)
        known = ~np.isnan(codes)
        decoded[known] = np.asarray(values, dtype=object)[codes[known].astype(np.int64)]
        frame[column] = pd.Series(decoded, dtype="str")
    return frame[["entity_id", "cutoff_at", "label", "split", "in_cohort", *plan.feature_columns]]


MATRIX_FIXED_BYTES = 8 + 8 + 1 + 1 + 1
"""Per row of the training matrix, besides its features: entity id, cutoff, label, split and
cohort flag."""


def matrix_bytes(plan: Plan, rows: int) -> int:
    """The least the training matrix of ``rows`` rows can move: 4 bytes a numeric feature, 2 a
    categorical code (more where pandas widens a column with NULLs)."""
    categorical = len(set(plan.categorical_columns) & set(plan.feature_columns))
    numeric = len(plan.feature_columns) - categorical
    return rows * (MATRIX_FIXED_BYTES + 4 * numeric + 2 * categorical)


def refuse_oversized_matrix(plan: Plan, rows: int) -> None:
    """Refuse a plan whose training matrix cannot fit the egress budget, before it is fetched
    (and, called by the planner, before dbt builds anything)."""
    least = matrix_bytes(plan, rows)
    if least > plan.budget.max_egress_bytes:
        raise GuardrailError(
            f"the training set of {rows:,} rows and {len(plan.feature_columns)} features would"
            f" move at least {least:,} bytes out of the warehouse, over the budget of"
            f" {plan.budget.max_egress_bytes:,}",
            fix="raise budget.max_egress_bytes, lower training_set.max_train_rows or select"
            " fewer features",
            rule="budget.egress",
        )


def _split(frame: pd.DataFrame, plan: Plan, name: str) -> tuple[pd.DataFrame, np.ndarray]:
    part = frame[frame["split"] == name]
    return part[list(plan.feature_columns)], part["label"].to_numpy(dtype=np.int64)


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


def train_step(
    plan: Plan, warehouse: Warehouse, artifacts: Path, *, reference: Path | None = None
) -> TrainingOutcome:
    """Fit the plan's candidates, keep the best, save it and its scores for every row.

    ``reference`` is the training-set reference of the last good run (its row count, null
    fractions and label rate), when there is one.
    """
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
    try:
        learner, reports = fit_best(
            x_train, y_train, x_valid, y_valid, plan.training, deadline=deadline
        )
    except TrainingDivergedError as error:
        write_json_atomic(diverged, error.to_evidence())
        raise
    scores = learner.predict_proba(frame[list(plan.feature_columns)])
    predictions = frame[["entity_id", "split", "in_cohort", "label"]].assign(score=scores)

    staging = artifacts / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    save_learner(learner, staging / _MODEL_DIR)
    predictions.to_csv(staging / _PREDICTIONS, index=False)
    held_out, _ = _split(frame, plan, "test")
    importance = _explain(learner, held_out if len(held_out) else x_valid, staging, plan)
    best = max(reports, key=lambda r: _selection_value(r, plan))
    outcome = TrainingOutcome(
        family=best.family,
        rows={name: int((frame["split"] == name).sum()) for name in ("train", "valid", "test")},
        validation={
            "average_precision": float(best.valid_average_precision),
            "roc_auc": float(best.valid_roc_auc),
        },
        reports=[_report_dict(r) for r in reports],
        egress_bytes=ledger.total_bytes,
        seconds=time.perf_counter() - started,
        importance=[(c, round(v, 6)) for c, v in importance["ranked_shares"]],
        valueless=list(importance["valueless"]),
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


def _selection_value(report: Any, plan: Plan) -> float:
    """The report's validation score; a candidate that produced none (diverged, not started
    for the budget) ranks last, as fit_best ranked it."""
    if plan.training.selection_metric == "roc_auc":
        value = float(report.valid_roc_auc)
    else:
        value = float(report.valid_average_precision)
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


def evaluate_step(plan: Plan, artifacts: Path) -> dict[str, Any]:
    """The goal's metric on its cohort: threshold chosen on validation, measured on test."""
    from dagster_agentic.training.evaluate import evaluate
    from dagster_agentic.training.threshold import choose_threshold

    objective = plan.objective
    predictions = pd.read_csv(artifacts / _PREDICTIONS)
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
    on_cohort = evaluate(
        test["label"].to_numpy(),
        test["score"].to_numpy(),
        threshold=choice.threshold,
        metric=objective.metric,
        target=objective.threshold,
        population="cohort rows",
        level=level,
        min_support=min_support,
    )
    everyone = predictions[predictions["split"] == "test"]
    overall = evaluate(
        everyone["label"].to_numpy(),
        everyone["score"].to_numpy(),
        threshold=choice.threshold,
        metric=objective.metric,
        target=objective.threshold,
        population="test rows",
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
    write_json_atomic(artifacts / _EVALUATION, result)
    return result


def explanation_markdown(artifacts: Path, importance: dict[str, Any], *, top: int = 15) -> str:
    """The SHAP summary plot (inline) and the strongest features' shares, as Markdown.

    ``importance`` is the run's ``IMPORTANCE_FILE``, as read by the caller.
    """
    import base64

    plot = base64.b64encode((artifacts / SHAP_PLOT_FILE).read_bytes()).decode()
    rows = "\n".join(
        f"| {column} | {share:.1%} |" for column, share in importance["ranked_shares"][:top]
    )
    valueless = importance["valueless"]
    note = (
        f"\n\n{len(valueless)} feature(s) without value, left out of the next plan version: "
        + ", ".join(valueless)
        if valueless
        else ""
    )
    return (
        f"![SHAP summary](data:image/png;base64,{plot})\n\n"
        f"SHAP ({importance['method']}, {importance['rows']} test rows): share of mean |SHAP|\n\n"
        f"| feature | share |\n|---|---|\n{rows}{note}"
    )


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
    threshold = evaluation["threshold"]
    if "validation_vs_test" in evaluation:
        reasons.append(
            f"Threshold: {threshold.get('rule') or 'chosen on validation'};"
            f" {evaluation['validation_vs_test']}."
        )
    if not threshold["reachable"]:
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
        "feasible": bool(threshold["reachable"]),
        "cohort": objective.cohort_description,
        "why": " ".join(reasons),
        "model_family": training["family"],
        "egress_bytes": training["egress_bytes"],
    }
