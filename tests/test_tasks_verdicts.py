"""Intervals, verdicts and cross-validation for multiclass and regression metrics.

Coverage is checked on seeded simulations whose true metric is known; verdicts in the
metric's direction (a ceiling for RMSE and MAE); cross-validation on small data end to end
from a fitted learner to the evaluation of its out-of-fold predictions.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dagster_agentic.agent.task_steps import (
    cross_validated,
    evaluate_task_step,
    task_predictions,
)
from dagster_agentic.goals.objective import Objective
from dagster_agentic.plan.models import Plan
from dagster_agentic.training.confidence import Interval, verdict_of
from dagster_agentic.training.cross_validation import (
    cross_validate,
    cross_validation_reason,
    fold_assignment,
)
from dagster_agentic.training.deadline import Deadline
from dagster_agentic.training.evaluate_tasks import evaluate_task
from dagster_agentic.training.learners import make_learner
from dagster_agentic.training.spec import ModelSpec, TrainingSpec
from dagster_agentic.training.task_confidence import macro_f1, task_interval

SIMULATIONS = 200


def _coverage(draw, truth: float, metric: str, n_classes: int = 0) -> float:
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(SIMULATIONS):
        y, output = draw(rng)
        interval = task_interval(metric, y, output, n_classes=n_classes, resamples=300)
        hits += interval.low <= truth <= interval.high
    return hits / SIMULATIONS


def test_accuracy_intervals_cover_the_true_accuracy_at_about_the_stated_rate() -> None:
    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 3, size=200)
        wrong = rng.random(200) >= 0.8  # true accuracy 0.8
        return y, np.where(wrong, (y + 1) % 3, y)

    assert 0.91 <= _coverage(draw, 0.8, "accuracy") <= 0.99


def test_regression_intervals_cover_the_true_errors_at_about_the_stated_rate() -> None:
    sigma, spread = 2.0, 4.0

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        signal = rng.normal(scale=spread, size=200)
        return signal + rng.normal(scale=sigma, size=200), signal

    truths = {
        "rmse": sigma,
        "mae": sigma * math.sqrt(2 / math.pi),
        "r2": spread**2 / (spread**2 + sigma**2),
    }
    for metric, truth in truths.items():
        coverage = _coverage(draw, truth, metric)
        assert 0.89 <= coverage <= 0.99, (metric, coverage)


def test_macro_f1_intervals_cover_the_population_value() -> None:
    confusion = np.array([[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.1, 0.3, 0.6]])
    shares = np.array([0.5, 0.3, 0.2])

    def sample(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.choice(3, size=n, p=shares)
        u = rng.random(n)[:, None]
        predicted = (u > np.cumsum(confusion[y], axis=1)).sum(axis=1)
        return y, predicted

    population = sample(np.random.default_rng(0), 400_000)
    truth = macro_f1(*population, 3)
    coverage = _coverage(lambda rng: sample(rng, 300), truth, "macro_f1", n_classes=3)
    assert 0.89 <= coverage <= 0.99, coverage


def test_macro_f1_matches_sklearn() -> None:
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(3)
    y, predicted = rng.integers(0, 4, size=500), rng.integers(0, 5, size=500)
    expected = f1_score(y, predicted, average="macro", zero_division=0)
    assert macro_f1(y, predicted, 5) == pytest.approx(expected)


def test_intervals_are_deterministic() -> None:
    rng = np.random.default_rng(1)
    y, prediction = rng.normal(size=150), rng.normal(size=150)
    assert task_interval("rmse", y, prediction) == task_interval("rmse", y, prediction)


def test_error_verdicts_treat_the_target_as_a_ceiling() -> None:
    def interval(low: float, high: float) -> Interval:
        return Interval(low, high, 0.95, "bootstrap", 500, "rows")

    ceiling = {"higher_is_better": False}
    assert verdict_of(interval(20_000, 24_000), 25_000, **ceiling) == "met"
    assert verdict_of(interval(20_000, 25_000), 25_000, **ceiling) == "met"  # at the target
    assert verdict_of(interval(24_000, 27_000), 25_000, **ceiling) == "inconclusive"
    assert verdict_of(interval(26_000, 27_000), 25_000, **ceiling) == "not_met"
    assert verdict_of(interval(0.85, 0.9), 0.8) == "met"  # a score: a floor, as ever
    assert verdict_of(interval(0.7, 0.75), 0.8) == "not_met"


def _regression_rows(n: int, noise: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.normal(loc=200_000, scale=60_000, size=n)
    return truth, truth + rng.normal(scale=noise, size=n)


@pytest.mark.parametrize(
    ("metric", "target", "noise", "verdict"),
    [
        ("rmse", 25_000, 15_000, "met"),
        ("rmse", 25_000, 40_000, "not_met"),
        ("rmse", 25_000, 25_000, "inconclusive"),
        ("mae", 20_000, 10_000, "met"),
        ("mae", 20_000, 40_000, "not_met"),
        ("r2", 0.8, 15_000, "met"),
        ("r2", 0.8, 45_000, "not_met"),
    ],
)
def test_regression_verdicts_follow_the_metric_direction(
    metric: str, target: float, noise: float, verdict: str
) -> None:
    y, prediction = _regression_rows(600, noise)
    result = evaluate_task("regression", y, prediction, metric=metric, target=target)
    assert result.verdict == verdict, result.explanation
    assert result.higher_is_better == (metric == "r2")
    assert result.interval_low <= result.value <= result.interval_high
    assert "baseline: predicting the" in result.explanation
    if metric != "r2" and verdict == "met":
        assert "upper bound" in result.explanation and "<= target" in result.explanation


def _classes(n: int, accuracy: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    wrong = rng.random(n) >= accuracy
    return y, np.where(wrong, (y + 1 + rng.integers(0, 3, size=n)) % 4, y)


@pytest.mark.parametrize(
    ("metric", "target", "accuracy", "verdict"),
    [
        ("accuracy", 0.9, 0.97, "met"),
        ("accuracy", 0.9, 0.8, "not_met"),
        ("macro_f1", 0.7, 0.9, "met"),
        ("macro_f1", 0.7, 0.5, "not_met"),
    ],
)
def test_multiclass_verdicts_follow_the_interval(
    metric: str, target: float, accuracy: float, verdict: str
) -> None:
    y, predicted = _classes(800, accuracy)
    proba = np.eye(4)[predicted] * 0.7 + 0.075  # argmax is ``predicted``
    from_proba = evaluate_task(
        "multiclass_classification", y, proba, metric=metric, target=target, n_classes=4
    )
    from_index = evaluate_task(
        "multiclass_classification", y, predicted, metric=metric, target=target, n_classes=4
    )
    assert from_proba.verdict == from_index.verdict == verdict, from_proba.explanation
    assert from_proba.value == from_index.value
    assert "majority class 0" in from_proba.explanation


def test_too_few_rows_are_inconclusive_whatever_the_value() -> None:
    y, prediction = _regression_rows(40, 1.0)
    result = evaluate_task(
        "regression", y, prediction, metric="rmse", target=25_000, min_support=50
    )
    assert result.verdict == "inconclusive" and result.support == 40
    assert "only 40 rows, fewer than the 50" in result.explanation


def test_trivial_targets_name_the_constant_model() -> None:
    y, predicted = _classes(500, 0.6)
    majority = float(np.bincount(y).max() / len(y))
    easy = evaluate_task(
        "multiclass_classification",
        y,
        predicted,
        metric="accuracy",
        target=majority - 0.05,
        n_classes=4,
    )
    assert easy.trivial and "majority class 0" in (easy.trivial_reason or "")
    assert easy.baseline == pytest.approx(majority)
    values, prediction = _regression_rows(500, 10_000)
    r2 = evaluate_task("regression", values, prediction, metric="r2", target=0.0)
    assert r2.trivial and r2.baseline == 0.0
    loose = evaluate_task("regression", values, prediction, metric="rmse", target=1e6)
    assert loose.trivial and "predicting the mean" in (loose.trivial_reason or "")
    assert loose.baseline == pytest.approx(float(np.std(values)))
    strict = evaluate_task("regression", values, prediction, metric="rmse", target=12_000)
    assert not strict.trivial


def test_a_metric_of_another_task_is_refused() -> None:
    from dagster_agentic.errors import DataError

    y, prediction = _regression_rows(50, 1.0)
    with pytest.raises(DataError, match="does not fit a regression task"):
        evaluate_task("regression", y, prediction, metric="accuracy", target=0.9)


# --- cross-validation on small data ---------------------------------------------------------


def test_small_test_splits_are_cross_validated_and_large_data_is_not() -> None:
    assert cross_validation_reason(80, 600, 10) is not None
    assert cross_validation_reason(500, 2_000, 10) is None
    assert cross_validation_reason(400, 3_000, 600) is not None  # under min_support rows
    assert cross_validation_reason(80, 1_000_000, 10) is None  # not small data


def test_folds_keep_entities_together_and_stratify_classes() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(300), 2)  # two rows per entity
    y = np.repeat(rng.choice(3, size=300, p=[0.6, 0.3, 0.1]), 2)
    folds = fold_assignment(y, groups, task="multiclass_classification", folds=5, seed=0)
    assert (folds >= 0).all()
    assert (folds[::2] == folds[1::2]).all()  # an entity's rows share a fold
    for fold in range(5):
        share = np.bincount(y[folds == fold], minlength=3) / (folds == fold).sum()
        np.testing.assert_allclose(share, np.bincount(y) / len(y), atol=0.03)
    again = fold_assignment(y, groups, task="multiclass_classification", folds=5, seed=0)
    assert np.array_equal(folds, again)


def _small_frame(n: int, seed: int) -> pd.DataFrame:
    """A small goal's training frame: entities, splits, a cohort and a 3-class label."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    label = np.digitize(2 * x[:, 0] - x[:, 1] + rng.normal(scale=0.6, size=n), [-1.0, 1.0])
    split = rng.choice(["train", "valid", "test"], size=n, p=[0.6, 0.2, 0.2])
    return pd.DataFrame(
        {
            "entity_id": np.arange(n),
            "split": split,
            "in_cohort": rng.random(n) < 0.5,
            "label": label,
            "a": x[:, 0],
            "b": x[:, 1],
            "noise": x[:, 2],
        }
    )


def _objective(task: str, metric: str, target: float, **extra: object) -> Objective:
    return Objective(
        task=task,  # type: ignore[arg-type]
        entity_table="members",
        entity_key="member_ref",
        label_table="members",
        label_key="member_ref",
        target_column="tier",
        metric=metric,  # type: ignore[arg-type]
        threshold=target,
        **extra,  # type: ignore[arg-type]
    )


def test_a_small_cohort_is_measured_by_cross_validation_over_every_split() -> None:
    frame = _small_frame(500, 4)
    features = frame[["a", "b", "noise"]]
    train, valid = frame["split"] == "train", frame["split"] == "valid"
    candidate = ModelSpec(family="logistic")
    spec = TrainingSpec(
        candidates=(candidate,), task="multiclass_classification", n_classes=3, seed=0
    )
    learner = make_learner(candidate, spec.task, 3)
    learner.fit(
        features[train], frame["label"][train], features[valid], frame["label"][valid], seed=0
    )
    base = frame[["entity_id", "split", "in_cohort", "label"]]
    predictions = task_predictions(base, learner, features)
    assert {"predicted", "score", "p_0", "p_1", "p_2"} <= set(predictions.columns)
    crossed, summary = cross_validated(
        predictions, frame, learner, candidate, spec, 10, Deadline.after(60)
    )
    assert summary["used"] and summary["folds"] == 5 and summary["rows"] == 500
    assert "fewer than 300" in summary["reason"]
    assert crossed["cv_fold"].between(0, 4).all() and crossed["cv_p_0"].notna().all()
    objective = _objective(
        "multiclass_classification", "accuracy", 0.6, classes=("bronze", "silver", "gold")
    )
    result = evaluate_task_step(objective, crossed)
    cohort = result["cohort_test"]
    assert result["method"] == cohort["method"] == "cross_validation"
    assert cohort["n_rows"] == int(frame["in_cohort"].sum())  # every split, not only test
    assert "5-fold cross-validation over 500" in cohort["explanation"]
    assert cohort["verdict"] == "met", cohort["explanation"]
    holdout = evaluate_task_step(objective, predictions)
    assert holdout["method"] == "holdout"
    in_test = int((frame["in_cohort"] & (frame["split"] == "test")).sum())
    assert holdout["cohort_test"]["n_rows"] == in_test
    # Five times the rows: a narrower interval than the test split's alone.
    width = cohort["interval_high"] - cohort["interval_low"]
    holdout_width = holdout["cohort_test"]["interval_high"] - holdout["cohort_test"]["interval_low"]
    assert width < 0.7 * holdout_width


def test_cross_validation_is_deterministic_and_shares_the_budget() -> None:
    frame = _small_frame(300, 5)
    X, y = frame[["a", "b", "noise"]], frame["label"].to_numpy()
    groups = frame["entity_id"].to_numpy()
    candidate = ModelSpec(family="lightgbm", params={"n_estimators": 50})
    common = {"task": "multiclass_classification", "n_classes": 3, "seed": 0, "reason": "small"}
    first = cross_validate(X, y, groups, candidate, **common)  # type: ignore[arg-type]
    second = cross_validate(X, y, groups, candidate, **common)  # type: ignore[arg-type]
    assert first.used and np.array_equal(first.output, second.output)
    assert first.output.shape == (300, 3) and np.isfinite(first.output).all()
    spent = cross_validate(X, y, groups, candidate, deadline=Deadline.after(0), **common)  # type: ignore[arg-type]
    assert not spent.used and "budget ran out before fold 1" in spent.reason


def test_regression_is_cross_validated_with_unstratified_entity_folds() -> None:
    frame = _small_frame(300, 6)
    X = frame[["a", "b", "noise"]]
    y = (30 * frame["a"] - 10 * frame["b"]).to_numpy() + 5.0
    result = cross_validate(
        X,
        y,
        frame["entity_id"].to_numpy(),
        ModelSpec(family="logistic"),
        task="regression",
        n_classes=2,
        seed=0,
        reason="small",
    )
    assert result.used and result.output.shape == (300,)
    evaluation = evaluate_task("regression", y, result.output, metric="r2", target=0.9)
    assert evaluation.verdict == "met", evaluation.explanation


def test_the_gate_compares_metrics_in_their_direction() -> None:
    from dagster_agentic.healing.gate import metric_slack, worse

    # A score may fall by the tolerance itself; an error may rise by that share of its value.
    assert metric_slack("precision", 0.9, 0.05) == 0.05
    assert metric_slack("rmse", 20_000.0, 0.05) == pytest.approx(1_000.0)
    assert worse("precision", 0.84, 0.9, 0.05) and not worse("precision", 0.86, 0.9, 0.05)
    assert worse("r2", 0.7, 0.8, 0.05) and not worse("r2", 0.95, 0.8, 0.05)
    assert worse("rmse", 21_500.0, 20_000.0, 1_000.0)
    assert not worse("rmse", 20_900.0, 20_000.0, 1_000.0)
    assert not worse("mae", 5_000.0, 20_000.0, 1_000.0)  # a lower error is better


def _fitted_predictions(task: str, seed: int = 4) -> pd.DataFrame:
    """A small goal's predictions.csv content, out-of-fold columns included."""
    frame = _small_frame(500, seed)
    if task == "binary_classification":
        frame["label"] = (frame["label"] == 2).astype(int)
    features = frame[["a", "b", "noise"]]
    train, valid = frame["split"] == "train", frame["split"] == "valid"
    n_classes = 3 if task == "multiclass_classification" else 2
    candidate = ModelSpec(family="logistic")
    spec = TrainingSpec(candidates=(candidate,), task=task, n_classes=n_classes)  # type: ignore[arg-type]
    learner = make_learner(candidate, task, n_classes)
    labels = frame["label"]
    learner.fit(features[train], labels[train], features[valid], labels[valid], seed=0)
    predictions = task_predictions(
        frame[["entity_id", "split", "in_cohort", "label"]], learner, features
    )
    crossed, summary = cross_validated(
        predictions, frame, learner, candidate, spec, 10, Deadline.after(60)
    )
    assert summary["used"]
    return crossed


def test_the_evaluation_step_and_goal_status_read_every_task(
    sample_plan: Plan, tmp_path: Path
) -> None:
    """Multiclass through the steps (no threshold), and a binary ROC AUC goal on small data
    measured on out-of-fold scores; goal_status explains both."""
    from dagster_agentic.agent.steps import evaluate_step, goal_status

    (tmp_path / "training.json").write_text(json.dumps({"family": "logistic", "egress_bytes": 1}))
    multiclass = sample_plan.model_copy(
        update={
            "objective": sample_plan.objective.model_copy(
                update={
                    "task": "multiclass_classification",
                    "classes": ("bronze", "silver", "gold"),
                    "metric": "macro_f1",
                    "threshold": 0.6,
                }
            )
        }
    )
    _fitted_predictions("multiclass_classification").to_csv(
        tmp_path / "predictions.csv", index=False
    )
    result = evaluate_step(multiclass, tmp_path)
    assert "threshold" not in result and result["method"] == "cross_validation"
    status = goal_status(multiclass, tmp_path)
    assert status["verdict"] == result["verdict"] == "met" and status["feasible"]
    assert "macro_f1" in status["why"] and "cross-validation" in status["why"]

    binary = sample_plan.model_copy(
        update={
            "objective": sample_plan.objective.model_copy(
                update={"metric": "roc_auc", "threshold": 0.7}
            )
        }
    )
    _fitted_predictions("binary_classification").to_csv(tmp_path / "predictions.csv", index=False)
    result = evaluate_step(binary, tmp_path)
    cohort = result["cohort_test"]
    assert result["method"] == "cross_validation" and cohort["verdict"] == "met"
    assert "out-of-fold scores of 5-fold cross-validation" in cohort["explanation"]
    in_cohort = int(pd.read_csv(tmp_path / "predictions.csv")["in_cohort"].sum())
    assert cohort["n_rows"] == in_cohort  # every split's cohort rows
