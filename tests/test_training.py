"""The training layer on small synthetic data: real LightGBM, torch and sklearn fits."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from dagster_agentic.errors import AgenticError, DataError
from dagster_agentic.goals.objective import Metric
from dagster_agentic.training.artifacts import load_learner, save_learner
from dagster_agentic.training.evaluate import evaluate
from dagster_agentic.training.fit import fit_best
from dagster_agentic.training.learners import (
    FitReport,
    Learner,
    TrainingDivergedError,
    make_learner,
)
from dagster_agentic.training.spec import Family, ModelSpec, TrainingSpec
from dagster_agentic.training.threshold import choose_threshold

FAMILIES: list[Family] = ["lightgbm", "torch_mlp", "logistic"]
Splits = tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]
Fitted = dict[str, tuple[Learner, FitReport]]
COUNTRY_EFFECT = {"DE": 1.5, "FR": -1.0, "UK": 0.0, "ES": 0.5}


def churn_like(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Two informative numerics (one with NULLs), a noise column and a categorical effect."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    country = rng.choice(list(COUNTRY_EFFECT), size=n)
    logit = 2.0 * x[:, 0] - 1.5 * x[:, 1] + pd.Series(country).map(COUNTRY_EFFECT) - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(int)
    X = pd.DataFrame({"tenure": x[:, 0], "spend": x[:, 1], "noise": x[:, 2], "country": country})
    X.loc[rng.random(n) < 0.1, "tenure"] = np.nan
    return X, y


def xor_like(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A pure interaction: invisible to a linear model, easy for trees."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2))
    y = ((x[:, 0] * x[:, 1] > 0) ^ (rng.random(n) < 0.05)).astype(int)
    return pd.DataFrame({"u": x[:, 0], "v": x[:, 1]}), y


@pytest.fixture(scope="module")
def splits() -> Splits:
    X_train, y_train = churn_like(2000, 1)
    X_valid, y_valid = churn_like(1000, 2)
    return X_train, y_train, X_valid, y_valid


@pytest.fixture(scope="module")
def fitted(splits: Splits) -> Fitted:
    """One fitted learner and report per family, shared by the tests that only read them."""
    out: Fitted = {}
    for family in FAMILIES:
        learner = make_learner(ModelSpec(family=family))
        out[family] = (learner, learner.fit(*splits, seed=0))
    return out


# --- learners ---------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_learns_the_signal(fitted: Fitted, splits: Splits, family: Family) -> None:
    learner, report = fitted[family]
    _, _, X_valid, y_valid = splits
    assert report.family == family
    assert report.valid_roc_auc > 0.8
    assert report.valid_average_precision > 0.6
    assert report.valid_roc_auc == pytest.approx(
        roc_auc_score(y_valid, learner.predict_proba(X_valid))
    )
    assert report.fit_seconds > 0
    json.dumps(report.to_dict())
    if family != "logistic":
        assert len(report.train_curve) == len(report.valid_curve) == report.epochs > 0
        assert 1 <= report.best_iteration <= report.epochs
        assert all(math.isfinite(v) for v in report.train_curve + report.valid_curve)


@pytest.mark.parametrize("family", FAMILIES)
def test_save_load_round_trip_gives_identical_predictions(
    fitted: Fitted, splits: Splits, family: Family, tmp_path: Path
) -> None:
    learner, _ = fitted[family]
    X_valid = splits[2]
    save_learner(learner, tmp_path / "model")
    assert json.loads((tmp_path / "model" / "learner.json").read_text())["family"] == family
    loaded = load_learner(tmp_path / "model")
    assert loaded is not learner and loaded.family == family
    np.testing.assert_array_equal(loaded.predict_proba(X_valid), learner.predict_proba(X_valid))


@pytest.mark.parametrize("family", FAMILIES)
def test_unseen_category_at_predict_time_scores_like_missing(
    fitted: Fitted, splits: Splits, family: Family
) -> None:
    learner, _ = fitted[family]
    rows = splits[2].head(20).copy()
    rows["extra_column"] = 1.0  # columns the model never saw are ignored
    unseen, missing = rows.copy(), rows.copy()
    unseen["country"] = "Atlantis"
    missing["country"] = None
    scores = learner.predict_proba(unseen)
    assert scores.shape == (20,) and np.isfinite(scores).all()
    np.testing.assert_allclose(scores, learner.predict_proba(missing))


def test_scoring_frame_without_a_trained_column_raises_data_error(
    fitted: Fitted, splits: Splits
) -> None:
    learner, _ = fitted["lightgbm"]
    with pytest.raises(DataError, match="lacks 1 feature column"):
        learner.predict_proba(splits[2].drop(columns=["spend"]))


def test_torch_stops_early_on_pure_noise_and_records_curves() -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    y = rng.integers(0, 2, size=3000)
    spec = ModelSpec(family="torch_mlp", params={"max_epochs": 200, "patience": 5})
    report = make_learner(spec).fit(X[:2000], y[:2000], X[2000:], y[2000:], seed=0)
    assert report.epochs < 200
    assert "stagnant for 5 epochs" in report.stop_reason
    assert len(report.train_curve) == len(report.valid_curve) == report.epochs
    assert report.best_iteration == report.epochs - 5
    assert min(report.valid_curve) == report.valid_curve[report.best_iteration - 1]


def test_torch_divergence_is_detected_with_epoch_and_last_finite_loss(splits: Splits) -> None:
    spec = ModelSpec(family="torch_mlp", params={"lr": 1e6})
    with pytest.raises(TrainingDivergedError) as caught:
        make_learner(spec).fit(*splits, seed=0)
    error = caught.value
    assert isinstance(error, DataError)
    assert error.epoch >= 1 and error.family == "torch_mlp"
    assert error.last_finite_loss is not None and math.isfinite(error.last_finite_loss)
    assert "diverged at epoch" in str(error) and "lower the learning rate" in str(error)


def test_infinite_feature_diverges_the_mlp_and_is_refused_by_fit_best(splits: Splits) -> None:
    X_train, y_train, X_valid, y_valid = splits
    X_bad = X_train.copy()
    X_bad.loc[5, "spend"] = np.inf
    with pytest.raises(TrainingDivergedError):
        make_learner(ModelSpec(family="torch_mlp")).fit(X_bad, y_train, X_valid, y_valid, seed=0)
    spec = TrainingSpec(candidates=(ModelSpec(family="logistic"),))
    with pytest.raises(DataError, match=r"infinite values .*'spend': 1"):
        fit_best(X_bad, y_train, X_valid, y_valid, spec)


@pytest.mark.parametrize("family", ["torch_mlp", "lightgbm"])
def test_time_budget_stops_training(splits: Splits, family: Family) -> None:
    spec = ModelSpec(family=family, max_seconds=1e-3)
    report = make_learner(spec).fit(*splits, seed=0)
    assert "time budget" in report.stop_reason
    assert report.epochs <= 2


def test_unknown_parameter_for_a_closed_family_is_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown torch_mlp parameter"):
        ModelSpec(family="torch_mlp", params={"learning_rate": 0.1})
    with pytest.raises(ValidationError):
        TrainingSpec(candidates=())


# --- fit_best -----------------------------------------------------------------------------


def test_fit_best_keeps_the_better_candidate() -> None:
    X_train, y_train = xor_like(2000, 1)
    X_valid, y_valid = xor_like(1000, 2)
    spec = TrainingSpec(candidates=(ModelSpec(family="logistic"), ModelSpec(family="lightgbm")))
    best, reports = fit_best(X_train, y_train, X_valid, y_valid, spec)
    assert [r.family for r in reports] == ["logistic", "lightgbm"]
    assert reports[0].valid_average_precision < 0.7 < reports[1].valid_average_precision
    assert best.family == "lightgbm"


def test_fit_best_skips_a_diverged_candidate_and_reports_it(splits: Splits) -> None:
    spec = TrainingSpec(
        candidates=(
            ModelSpec(family="torch_mlp", params={"lr": 1e6}),
            ModelSpec(family="logistic"),
        )
    )
    best, reports = fit_best(*splits, spec)
    assert best.family == "logistic"
    assert reports[0].error is not None and "diverged" in reports[0].error
    assert json.loads(json.dumps(reports[0].to_dict()))["valid_roc_auc"] is None
    only_bad = TrainingSpec(candidates=spec.candidates[:1])
    with pytest.raises(TrainingDivergedError):
        fit_best(*splits, only_bad)


def test_fit_best_drops_all_null_columns_with_a_note(splits: Splits) -> None:
    X_train, y_train, X_valid, y_valid = splits
    X_train, X_valid = X_train.assign(empty=np.nan), X_valid.assign(empty=np.nan)
    spec = TrainingSpec(candidates=(ModelSpec(family="logistic"),))
    best, reports = fit_best(X_train, y_train, X_valid, y_valid, spec)
    assert "empty" not in best.feature_columns
    assert any(
        "NULL in every training row" in note and "empty" in note for note in reports[0].notes
    )
    with pytest.raises(DataError, match="every feature column is NULL"):
        fit_best(X_train[["empty"]], y_train, X_valid[["empty"]], y_valid, spec)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: {**d, "X_train": d["X_train"].iloc[:0], "y_train": d["y_train"][:0]},
            "training set is empty",
        ),
        (
            lambda d: {**d, "y_train": np.zeros_like(d["y_train"])},
            r"only one class \(0\) in 2,000 training rows",
        ),
        (
            lambda d: {**d, "y_valid": np.ones_like(d["y_valid"])},
            r"only one class \(1\) in 1,000 validation",
        ),
        (lambda d: {**d, "y_train": d["y_train"][:-1]}, "1,999 rows but the features have 2,000"),
        (lambda d: {**d, "X_train": d["X_train"].iloc[:, :0]}, "no columns"),
        (lambda d: {**d, "y_train": d["y_train"] * 2}, "values other than 0 and 1"),
        (
            lambda d: {**d, "X_valid": d["X_valid"].drop(columns=["spend"])},
            "validation frame lacks",
        ),
    ],
)
def test_fit_best_rejects_bad_data_with_a_helpful_message(
    splits: Splits, mutate: Callable[[dict[str, Any]], dict[str, Any]], message: str
) -> None:
    names = ("X_train", "y_train", "X_valid", "y_valid")
    data = mutate(dict(zip(names, splits, strict=True)))
    spec = TrainingSpec(candidates=(ModelSpec(family="logistic"),))
    with pytest.raises(DataError, match=message) as caught:
        fit_best(data["X_train"], data["y_train"], data["X_valid"], data["y_valid"], spec)
    assert caught.value.fix


def test_load_learner_without_a_model_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(AgenticError, match="no trained model") as caught:
        load_learner(tmp_path)
    assert "model step" in (caught.value.fix or "")


def test_importing_the_training_layer_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "import dagster_agentic.training.fit, dagster_agentic.training.artifacts\n"
        "import dagster_agentic.training.threshold, dagster_agentic.training.evaluate\n"
        "heavy = [m for m in ('torch', 'lightgbm', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# --- thresholds ---------------------------------------------------------------------------


def scored(n: int = 1500, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Labels and informative scores rounded to create ties, like real model output."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    scores = np.round(1 / (1 + np.exp(-(2.5 * y - 1.2 + rng.normal(size=n)))), 2)
    return y, scores


def one_sided_wilson_lower(k: int, n: int, level: float = 0.95) -> float:
    """The one-sided Wilson lower bound, written out from its closed form."""
    z = NormalDist().inv_cdf(level)
    p = k / n
    return (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (
        1 + z * z / n
    )


def brute_force(y: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """Every distinct score tried as a threshold, counted one by one."""
    rows = []
    for t in np.unique(scores):
        predicted = scores >= t
        tp, n_pred = int((predicted & (y == 1)).sum()), int(predicted.sum())
        rows.append(
            {
                "threshold": t,
                "n_pred": n_pred,
                "precision": tp / n_pred,
                "precision_lower": one_sided_wilson_lower(tp, n_pred),
                "recall": tp / y.sum(),
                "recall_lower": one_sided_wilson_lower(tp, int(y.sum())),
                "f1": 2 * tp / (n_pred + y.sum()),
                "accuracy": float((predicted == (y == 1)).mean()),
            }
        )
    return pd.DataFrame(rows)


def test_precision_threshold_is_the_lowest_reaching_the_target_with_margin() -> None:
    y, scores = scored()
    choice = choose_threshold(y, scores, metric="precision", target=0.9)
    table = brute_force(y, scores)
    ok = table[(table.precision_lower >= 0.9) & (table.n_pred >= 10)]
    assert choice.reachable
    assert choice.threshold == ok.threshold.min()
    # The point estimate alone would have gone lower, to where the target is only touched.
    assert table[(table.precision >= 0.9) & (table.n_pred >= 10)].threshold.min() < choice.threshold
    assert choice.validation_lower_bound == pytest.approx(
        float(ok[ok.threshold == choice.threshold].precision_lower.iloc[0])
    )
    assert precision_score(y, scores >= choice.threshold) >= 0.9
    assert choice.validation_value == pytest.approx(precision_score(y, scores >= choice.threshold))
    assert choice.validation_recall == pytest.approx(recall_score(y, scores >= choice.threshold))
    assert choice.validation_recall == pytest.approx(ok.recall.max())
    json.dumps(choice.to_dict())


def test_unreachable_precision_gives_the_best_achievable_and_says_so() -> None:
    y, _ = scored()
    noise = np.random.default_rng(0).random(len(y))  # scores that carry no signal
    choice = choose_threshold(y, noise, metric="precision", target=0.99)
    table = brute_force(y, noise)
    eligible = table[table.n_pred >= 10]
    assert not choice.reachable
    assert "not reachable" in choice.note
    best = eligible.precision_lower.max()
    assert choice.validation_lower_bound == pytest.approx(best)
    assert choice.threshold == eligible[eligible.precision_lower == best].threshold.min()


def test_recall_f1_accuracy_and_auc_thresholds_match_brute_force() -> None:
    y, scores = scored()
    table = brute_force(y, scores)
    recall = choose_threshold(y, scores, metric="recall", target=0.8)
    assert recall.threshold == table[table.recall_lower >= 0.8].threshold.max() and recall.reachable
    f1 = choose_threshold(y, scores, metric="f1", target=0.5)
    assert f1.validation_value == pytest.approx(table.f1.max())
    accuracy = choose_threshold(y, scores, metric="accuracy", target=0.5)
    assert accuracy.validation_value == pytest.approx(max(table.accuracy.max(), 1 - y.mean()))
    auc = choose_threshold(y, scores, metric="roc_auc", target=0.8)
    assert auc.threshold == 0.5
    assert auc.validation_value == pytest.approx(roc_auc_score(y, scores))


def test_threshold_selection_refuses_one_class_validation() -> None:
    with pytest.raises(DataError, match=r"only one class \(0\) in the 50 validation rows"):
        choose_threshold(np.zeros(50), np.linspace(0, 1, 50), metric="precision", target=0.9)


# --- evaluation ---------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["precision", "recall", "f1", "accuracy", "roc_auc"])
def test_evaluate_matches_sklearn(metric: Metric) -> None:
    y, scores = scored(seed=9)
    result = evaluate(y, scores, threshold=0.6, metric=metric, target=0.7)
    predicted = scores >= 0.6
    assert result.precision == pytest.approx(precision_score(y, predicted))
    assert result.recall == pytest.approx(recall_score(y, predicted))
    assert result.f1 == pytest.approx(f1_score(y, predicted))
    assert result.accuracy == pytest.approx(accuracy_score(y, predicted))
    assert result.roc_auc == pytest.approx(roc_auc_score(y, scores))
    assert result.value == pytest.approx(getattr(result, metric))
    assert result.met == (result.verdict == "met")
    assert result.verdict == (
        "met"
        if result.interval_low >= 0.7
        else "not_met"
        if result.interval_high < 0.7
        else "inconclusive"
    )
    assert result.interval_low <= result.value <= result.interval_high
    assert (result.n_rows, result.n_positive) == (len(y), int(y.sum()))
    assert result.n_predicted_positive == int(predicted.sum())
    assert result.explanation.startswith(f"{metric} {result.value:.3f}, 95% CI [")
    assert json.loads(json.dumps(result.to_dict()))["met"] == result.met


def test_evaluate_explanation_reads_as_one_sentence() -> None:
    y = np.array([1] * 30 + [0] * 70)
    scores = np.r_[np.full(25, 0.9), np.full(5, 0.1), np.full(1, 0.9), np.full(69, 0.1)]
    result = evaluate(
        y, scores, threshold=0.87, metric="precision", target=0.95, population="cohort rows"
    )
    assert not result.met and result.verdict == "inconclusive"
    assert result.explanation == (
        "precision 0.962, 95% CI [0.811, 0.993] (wilson) on 26 predicted positives of 100 cohort"
        " rows (recall 0.83 at threshold 0.87): the interval straddles the target 0.950:"
        " inconclusive"
    )


def test_precision_with_no_predicted_positives_is_not_met() -> None:
    y, scores = scored()
    result = evaluate(y, scores, threshold=2.0, metric="precision", target=0.0)
    assert result.n_predicted_positive == 0
    assert not result.met and result.verdict == "inconclusive"
    assert "undefined" in result.explanation and "trivial" in result.explanation


@pytest.mark.parametrize(
    ("y", "scores", "message"),
    [
        (np.array([], dtype=int), np.array([]), "cohort has no rows"),
        (np.ones(12, dtype=int), np.linspace(0, 1, 12), r"only one class \(1\) in the 12"),
        (np.array([0, 1, 1]), np.array([0.1, 0.2]), "differ in shape"),
    ],
)
def test_evaluate_refuses_unusable_input(y: np.ndarray, scores: np.ndarray, message: str) -> None:
    with pytest.raises(DataError, match=message) as caught:
        evaluate(y, scores, threshold=0.5, metric="precision", target=0.9)
    assert caught.value.fix
