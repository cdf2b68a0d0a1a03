"""Every model family on multiclass and regression tasks: signal learnt, saved, reloaded.

Small synthetic frames with a known signal (two informative numerics and a categorical
effect, plus a noise column), so each fit takes well under a second.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dagster_agentic.errors import DataError
from dagster_agentic.training.artifacts import load_learner, save_learner
from dagster_agentic.training.explain import explain
from dagster_agentic.training.fit import fit_best
from dagster_agentic.training.learners import (
    TrainingDivergedError,
    class_weights,
    make_learner,
    task_validation,
)
from dagster_agentic.training.spec import Family, ModelSpec, TrainingSpec

FAMILIES: tuple[Family, ...] = ("lightgbm", "logistic", "torch_mlp")
TASKS = ("multiclass_classification", "regression")
FAST = {"torch_mlp": {"max_epochs": 60}, "lightgbm": {"n_estimators": 300}, "logistic": {}}


def frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features, a 3-class label and a regression target driven by the same signal."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    country = rng.choice(["DE", "FR", "UK"], size=n)
    effect = pd.Series(country).map({"DE": 1.0, "FR": -1.0, "UK": 0.0}).to_numpy()
    signal = 2.0 * x[:, 0] - 1.5 * x[:, 1] + effect
    label = np.digitize(signal + rng.normal(scale=0.5, size=n), [-1.0, 1.0])  # 0, 1, 2
    value = 10.0 * signal + 50.0 + rng.normal(scale=3.0, size=n)
    X = pd.DataFrame({"tenure": x[:, 0], "spend": x[:, 1], "noise": x[:, 2], "country": country})
    return X, label, value


@pytest.fixture(scope="module")
def data() -> dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]]:
    return {"train": frame(700, 1), "valid": frame(250, 2), "test": frame(400, 3)}


def _fit(family: Family, task: str, data: dict, **params: object) -> tuple:
    X_tr, c_tr, v_tr = data["train"]
    X_va, c_va, v_va = data["valid"]
    y_tr, y_va = (v_tr, v_va) if task == "regression" else (c_tr, c_va)
    spec = ModelSpec(family=family, params={**FAST[family], **params}, max_seconds=30)
    learner = make_learner(spec, task, 3)
    report = learner.fit(X_tr, y_tr, X_va, y_va, seed=0)
    return learner, report


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_learns_each_task_beyond_the_baseline_and_reloads_exactly(
    family: Family, task: str, data: dict, tmp_path: Path
) -> None:
    learner, report = _fit(family, task, data)
    X_te, c_te, v_te = data["test"]
    assert report.task == task and report.error is None
    assert math.isnan(report.valid_average_precision) and math.isnan(report.valid_roc_auc)
    if task == "regression":
        predicted = learner.predict(X_te)
        scores = task_validation(task, v_te, predicted)
        # The constant (mean) model has R² 0 and RMSE = the target's deviation (~32).
        assert scores["r2"] > 0.8, scores
        assert scores["rmse"] < 0.5 * float(np.std(v_te)), scores
        assert set(report.valid_scores) == {"rmse", "mae", "r2"}
        with pytest.raises(DataError, match="regression model"):
            learner.predict_proba(X_te)
    else:
        proba = learner.predict_proba(X_te)
        assert proba.shape == (len(X_te), 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
        scores = task_validation(task, c_te, proba)
        majority = np.bincount(c_te).max() / len(c_te)
        assert scores["accuracy"] > majority + 0.25, (scores, majority)
        assert scores["macro_f1"] > 0.6, scores
        assert np.array_equal(learner.predict(X_te), proba.argmax(axis=1))
        assert set(report.valid_scores) == {"log_loss", "accuracy", "macro_f1"}
    saved = save_learner(learner, tmp_path / "model")
    loaded = load_learner(saved)
    assert loaded.task == task and loaded.family == family
    assert np.array_equal(loaded.predict(X_te), learner.predict(X_te))
    if task != "regression":
        assert np.array_equal(loaded.predict_proba(X_te), learner.predict_proba(X_te))


@pytest.mark.parametrize("family", FAMILIES)
def test_a_class_missing_from_training_keeps_its_probability_column(
    family: Family, data: dict
) -> None:
    """Class 3 of 4 never occurs in training: every family still gives 4 columns, in order,
    and puts (almost) no mass on it."""
    X_tr, c_tr, _ = data["train"]
    X_va, c_va, _ = data["valid"]
    spec = ModelSpec(family=family, params=FAST[family], max_seconds=30)
    learner = make_learner(spec, "multiclass_classification", 4)
    learner.fit(X_tr, c_tr, X_va, c_va, seed=0)
    proba = learner.predict_proba(data["test"][0])
    assert proba.shape == (len(data["test"][0]), 4)
    assert proba[:, 3].max() < 0.05
    accuracy = (proba.argmax(axis=1) == data["test"][1]).mean()
    assert accuracy > 0.6


def test_fit_best_keeps_the_candidate_with_the_lowest_validation_error(data: dict) -> None:
    X_tr, c_tr, v_tr = data["train"]
    X_va, c_va, v_va = data["valid"]
    for task, y_tr, y_va, metric in (
        ("multiclass_classification", c_tr, c_va, "log_loss"),
        ("regression", v_tr, v_va, "rmse"),
    ):
        spec = TrainingSpec(
            candidates=(
                ModelSpec(family="lightgbm", params=FAST["lightgbm"]),
                ModelSpec(family="logistic"),
            ),
            task=task,  # type: ignore[arg-type]
            n_classes=3 if task != "regression" else 2,
        )
        assert spec.validation_metric == metric
        learner, reports = fit_best(X_tr, y_tr, X_va, y_va, spec)
        errors = {r.family: -r.selection_value(metric) for r in reports}
        assert learner.family == min(errors, key=lambda f: errors[f]), errors
        assert all(r.task == task for r in reports)


def test_labels_that_do_not_fit_the_task_are_refused(data: dict) -> None:
    X_tr, c_tr, v_tr = data["train"]
    X_va, c_va, v_va = data["valid"]
    multiclass = TrainingSpec(
        candidates=(ModelSpec(family="logistic"),), task="multiclass_classification", n_classes=3
    )
    with pytest.raises(DataError, match=r"class indices 0\.\.2"):
        fit_best(X_tr, c_tr + 1, X_va, c_va, multiclass)
    with pytest.raises(DataError, match="only one class"):
        fit_best(X_tr, np.zeros(len(c_tr), dtype=int), X_va, c_va, multiclass)
    regression = TrainingSpec(candidates=(ModelSpec(family="logistic"),), task="regression")
    broken = v_tr.copy()
    broken[5] = np.nan
    with pytest.raises(DataError, match="NULL, NaN or infinite"):
        fit_best(X_tr, broken, X_va, v_va, regression)
    with pytest.raises(DataError, match="constant"):
        fit_best(X_tr, np.full(len(v_tr), 4.0), X_va, v_va, regression)


def test_the_spec_refuses_a_class_count_that_does_not_fit_the_task() -> None:
    candidates = (ModelSpec(family="logistic"),)
    with pytest.raises(ValueError, match="binary task has 2 classes"):
        TrainingSpec(candidates=candidates, n_classes=3)
    with pytest.raises(ValueError, match="at least 3 classes"):
        TrainingSpec(candidates=candidates, task="multiclass_classification", n_classes=2)


@pytest.mark.parametrize("task", TASKS)
def test_an_absurd_learning_rate_still_reports_the_divergence(task: str, data: dict) -> None:
    X_tr, c_tr, v_tr = data["train"]
    X_va, c_va, v_va = data["valid"]
    y_tr, y_va = (v_tr, v_va) if task == "regression" else (c_tr, c_va)
    spec = TrainingSpec(
        candidates=(ModelSpec(family="torch_mlp", params={"lr": 1e4}),),
        task=task,  # type: ignore[arg-type]
        n_classes=3 if task != "regression" else 2,
    )
    with pytest.raises(TrainingDivergedError) as caught:
        fit_best(X_tr, y_tr, X_va, y_va, spec)
    evidence = caught.value.to_evidence()
    assert evidence["family"] == "torch_mlp" and evidence["reason"] in ("exploded", "non_finite")
    assert evidence["initial_loss"] is not None and evidence["params"]["lr"] == 1e4


def test_balanced_class_weights_weigh_rare_classes_up() -> None:
    y = np.array([0] * 80 + [1] * 15 + [2] * 5)
    weights = class_weights("balanced", y, 4)
    assert weights is not None
    np.testing.assert_allclose(weights[:3], [100 / (3 * 80), 100 / (3 * 15), 100 / (3 * 5)])
    assert weights[3] == 1.0  # absent: no rows carry it
    assert class_weights("none", y, 4) is None
    with pytest.raises(DataError, match="balanced"):
        class_weights(2.0, y, 4)


def test_the_mlp_weighs_classes_on_imbalanced_multiclass(data: dict) -> None:
    _, report = _fit("torch_mlp", "multiclass_classification", data)
    weights = report.params["pos_weight_value"]
    counts = np.bincount(data["train"][1], minlength=3)
    assert len(weights) == 3 and np.argmax(weights) == np.argmin(counts)


def test_a_binary_model_saved_before_tasks_loads_as_binary(tmp_path: Path, data: dict) -> None:
    X_tr, c_tr, _ = data["train"]
    X_va, c_va, _ = data["valid"]
    y_tr, y_va = (c_tr == 2).astype(int), (c_va == 2).astype(int)
    learner = make_learner(ModelSpec(family="logistic"))
    learner.fit(X_tr, y_tr, X_va, y_va, seed=0)
    path = save_learner(learner, tmp_path / "model")
    meta_path = path / "logistic.json"
    meta = json.loads(meta_path.read_text())
    del meta["task"], meta["n_classes"]
    meta_path.write_text(json.dumps(meta))
    loaded = load_learner(path)
    assert loaded.task == "binary_classification"
    assert np.array_equal(loaded.predict_proba(X_va), learner.predict_proba(X_va))


@pytest.mark.parametrize(
    ("family", "task"),
    [
        ("lightgbm", "multiclass_classification"),  # TreeSHAP, one value per class
        ("logistic", "multiclass_classification"),  # permutation SHAP, multi-output
        ("logistic", "regression"),  # permutation SHAP of predict()
    ],
)
def test_shap_ranks_the_signal_above_the_noise(family: Family, task: str, data: dict) -> None:
    """Multiclass: mean |SHAP| over rows and classes; regression: in the target's unit."""
    learner, _ = _fit(family, task, data)
    explanation = explain(learner, data["test"][0], seed=0)
    shares = explanation.shares()
    assert explanation.values.shape == (len(explanation.values), 4)
    assert min(shares["tenure"], shares["spend"]) > 3 * shares["noise"], shares
    assert math.isclose(sum(shares.values()), 1.0)
    if task == "regression":
        assert explanation.output == "value"
