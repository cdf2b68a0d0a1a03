"""Small data: the mean of the families as a candidate, candidates compared by cross-validation,
and the policy kernel planning both only below its row bound. Real fits on synthetic frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from dagster_agentic.errors import DataError
from dagster_agentic.kernel.policy.kernel import (
    ENSEMBLE_MAX_ROWS,
    PolicyKernel,
    ensemble_params,
)
from dagster_agentic.training.artifacts import load_learner, save_learner
from dagster_agentic.training.ensemble import EnsembleLearner, member_params
from dagster_agentic.training.fit import SELECTION_CV_MAX_ROWS, fit_best
from dagster_agentic.training.learners import make_learner
from dagster_agentic.training.spec import ModelSpec, TrainingSpec

FAST = {"lightgbm": {"n_estimators": 200}, "torch_mlp": {"max_epochs": 40}, "logistic": {}}
TASKS = ("binary_classification", "multiclass_classification", "regression")


def frame(n: int, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """A smooth signal with a categorical effect, and its label for every task."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    country = rng.choice(["DE", "FR", "UK"], size=n)
    effect = pd.Series(country).map({"DE": 1.0, "FR": -1.0, "UK": 0.0}).to_numpy()
    signal = 2.0 * x[:, 0] - 1.5 * x[:, 1] + effect
    noisy = signal + rng.normal(scale=0.7, size=n)
    labels = {
        "binary_classification": (noisy > 0).astype(int),
        "multiclass_classification": np.digitize(noisy, [-1.0, 1.0]),
        "regression": 10.0 * noisy + 50.0,
    }
    X = pd.DataFrame({"tenure": x[:, 0], "spend": x[:, 1], "noise": x[:, 2], "country": country})
    return X, labels


def _ensemble_spec() -> ModelSpec:
    return ModelSpec(family="ensemble", params=ensemble_params(FAST), max_seconds=60)


@pytest.mark.parametrize("task", TASKS)
def test_the_ensemble_is_the_mean_of_its_members_and_reloads(task: str, tmp_path: Path) -> None:
    X_tr, y_tr = frame(400, 1)
    X_va, y_va = frame(150, 2)
    X_te, _ = frame(100, 3)
    n_classes = 3 if task == "multiclass_classification" else 2
    learner = make_learner(_ensemble_spec(), task, n_classes)
    assert isinstance(learner, EnsembleLearner)
    report = learner.fit(X_tr, y_tr[task], X_va, y_va[task], seed=0)
    assert report.family == "ensemble" and report.error is None
    assert [m.family for m in learner.members] == ["lightgbm", "torch_mlp", "logistic"]
    # Each member alone, with the same parameters and seed, gives the same predictions.
    alone = []
    for family, params in FAST.items():
        member = make_learner(ModelSpec(family=family, params=params), task, n_classes)  # type: ignore[arg-type]
        member.fit(X_tr, y_tr[task], X_va, y_va[task], seed=0)
        alone.append(member.predict(X_te) if task == "regression" else member.predict_proba(X_te))
    output = learner.predict(X_te) if task == "regression" else learner.predict_proba(X_te)
    np.testing.assert_allclose(output, np.mean(alone, axis=0), rtol=1e-5, atol=1e-6)
    save_learner(learner, tmp_path / "model")
    loaded = load_learner(tmp_path / "model")
    assert loaded.family == "ensemble" and loaded.task == task
    again = loaded.predict(X_te) if task == "regression" else loaded.predict_proba(X_te)
    np.testing.assert_allclose(again, output, rtol=1e-6, atol=1e-7)


def test_ensemble_parameters_name_their_member() -> None:
    assert member_params({"members": "lightgbm,logistic", "lightgbm__num_leaves": 7}) == {
        "lightgbm": {"num_leaves": 7},
        "logistic": {},
    }
    with pytest.raises(DataError, match="names no member"):
        member_params({"members": "logistic", "lightgbm__num_leaves": 7})
    with pytest.raises(DataError, match="members must be"):
        member_params({"members": "svm"})
    # A misspelt member parameter fails when the spec is built, as for the member itself.
    with pytest.raises(ValidationError, match="unknown torch_mlp parameter"):
        ModelSpec(family="ensemble", params={"torch_mlp__epochs": 3})
    with pytest.raises(ValidationError, match="names no member"):
        ModelSpec(family="ensemble", params={"members": "logistic", "lightgbm__num_leaves": 7})


def test_small_data_compares_candidates_by_cross_validation() -> None:
    X_tr, y_tr = frame(300, 4)
    X_va, y_va = frame(60, 5)  # a validation split this small picks between equals by chance
    task = "binary_classification"
    spec = TrainingSpec(
        candidates=(
            _ensemble_spec(),
            *(ModelSpec(family=f, params=p, max_seconds=60) for f, p in FAST.items()),  # type: ignore[arg-type]
        ),
        selection_metric="roc_auc",
    )
    learner, reports = fit_best(X_tr, y_tr[task], X_va, y_va[task], spec)
    # Reports in the spec's order; the ensemble is made of the fitted families, not refitted.
    assert [r.family for r in reports] == ["ensemble", "lightgbm", "torch_mlp", "logistic"]
    assert reports[0].stop_reason == "mean of lightgbm, torch_mlp, logistic"
    assert reports[0].fit_seconds < min(r.fit_seconds for r in reports[1:3])
    assert all(set(r.cv_scores) == {"average_precision", "roc_auc"} for r in reports)
    assert all("5-fold cross-validation over 360" in " ".join(r.notes) for r in reports)
    cv = {r.family: r.cv_scores["roc_auc"] for r in reports}
    assert learner.family == max(cv, key=lambda f: cv[f])  # ties go to the earlier candidate
    assert all(r.selection_value("roc_auc") == r.cv_scores["roc_auc"] for r in reports)
    # Beyond the bound the validation split decides, as before.
    X_big, y_big = frame(SELECTION_CV_MAX_ROWS, 6)
    two = TrainingSpec(candidates=spec.candidates[2:], selection_metric="roc_auc")
    big, big_reports = fit_best(X_big, y_big[task], X_va, y_va[task], two)
    assert all(r.cv_scores == {} for r in big_reports)
    valid = {r.family: r.valid_roc_auc for r in big_reports}
    assert big.family == max(valid, key=lambda f: valid[f])


def _plan_rows(rows: int) -> tuple[str, ...]:
    from types import SimpleNamespace

    from dagster_agentic.goals.spec import Budget

    request = SimpleNamespace(
        goal=SimpleNamespace(budget=Budget()),
        objective=SimpleNamespace(task="binary_classification", metric="roc_auc", classes=()),
    )
    spec = PolicyKernel()._training(request, rows)  # type: ignore[arg-type]
    return tuple(c.family for c in spec.candidates)


def test_the_kernel_plans_the_ensemble_on_small_data_only() -> None:
    assert _plan_rows(ENSEMBLE_MAX_ROWS - 1) == ("ensemble", "lightgbm", "torch_mlp", "logistic")
    assert _plan_rows(ENSEMBLE_MAX_ROWS) == ("lightgbm", "torch_mlp", "logistic")
