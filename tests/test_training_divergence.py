"""Training divergence end to end: real torch fits that explode, their evidence, the
diagnosis and the stabilised spec that then trains."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from dagster_agentic.kernel.policy.training_repair import (
    CONFIDENCE_EXPLODED,
    CONFIDENCE_NON_FINITE,
    diagnose_divergence,
    stabilise,
)
from dagster_agentic.training.fit import fit_best
from dagster_agentic.training.learners import TrainingDivergedError, make_learner
from dagster_agentic.training.spec import TORCH_MLP_DEFAULTS, ModelSpec, TrainingSpec
from dagster_agentic.training.torch_mlp import EXPLOSION_FACTOR

Splits = tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]

# With AdamW every step moves each weight by about lr, so lr=3 pushes the logits into the
# thousands within the first epoch (the loss reaches 1e3-1e4 on every seed tried), while a
# tenth of it trains normally.
ABSURD_LR = 3.0


def learnable(n: int, seed: int, positive_share: float = 0.3) -> tuple[pd.DataFrame, np.ndarray]:
    """Two informative numerics, a noise column and a categorical effect."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    country = rng.choice(["DE", "FR", "UK"], size=n)
    effect = pd.Series(country).map({"DE": 1.0, "FR": -1.0, "UK": 0.0}).to_numpy()
    offset = math.log(positive_share / (1 - positive_share))
    logit = 2.0 * x[:, 0] - 1.5 * x[:, 1] + effect + offset
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"tenure": x[:, 0], "spend": x[:, 1], "noise": x[:, 2], "country": country})
    return X, y


@pytest.fixture(scope="module")
def splits() -> Splits:
    X_train, y_train = learnable(2000, 1)
    X_valid, y_valid = learnable(1000, 2)
    return X_train, y_train, X_valid, y_valid


def torch_only(**params: float) -> TrainingSpec:
    return TrainingSpec(candidates=(ModelSpec(family="torch_mlp", params=params),), seed=0)


@pytest.fixture(scope="module")
def diverged(splits: Splits) -> TrainingDivergedError:
    with pytest.raises(TrainingDivergedError) as caught:
        fit_best(*splits, torch_only(lr=ABSURD_LR))
    return caught.value


# --- detection and evidence -----------------------------------------------------------------


def test_an_absurd_learning_rate_diverges_with_the_evidence(
    diverged: TrainingDivergedError,
) -> None:
    error = diverged
    assert error.family == "torch_mlp" and error.reason == "exploded"
    assert error.stage == "training" and error.epoch == 1
    assert error.initial_loss is not None and 0.3 < error.initial_loss < 3.0
    assert error.loss > EXPLOSION_FACTOR * error.initial_loss
    assert error.last_finite_loss is not None and math.isfinite(error.last_finite_loss)
    assert error.train_curve and all(math.isfinite(v) for v in error.train_curve)
    assert error.params["lr"] == ABSURD_LR and error.params["clip_grad_norm"] == 0.0
    assert "exploded" in error.message and "lower the learning rate" in str(error)

    evidence = json.loads(json.dumps(error.to_evidence(), allow_nan=False))
    assert evidence["kind"] == "diverged" and evidence["stage"] == "training"
    assert evidence["reason"] == "exploded" and evidence["message"] == error.message
    assert evidence["family"] == "torch_mlp" and evidence["epoch"] == 1
    assert evidence["train_curve"] == error.train_curve
    assert evidence["valid_curve"] == error.valid_curve
    assert evidence["params"]["lr"] == ABSURD_LR
    assert evidence["loss"] == error.loss and evidence["last_finite_loss"] is not None


def test_divergence_is_deterministic_under_the_spec_seed(
    splits: Splits, diverged: TrainingDivergedError
) -> None:
    with pytest.raises(TrainingDivergedError) as caught:
        fit_best(*splits, torch_only(lr=ABSURD_LR))
    assert caught.value.to_evidence() == diverged.to_evidence()


def test_fit_best_keeps_the_curves_of_a_diverged_candidate(splits: Splits) -> None:
    spec = TrainingSpec(
        candidates=(
            ModelSpec(family="torch_mlp", params={"lr": ABSURD_LR}),
            ModelSpec(family="logistic"),
        )
    )
    best, reports = fit_best(*splits, spec)
    assert best.family == "logistic"
    failed = reports[0]
    assert failed.stop_reason == "diverged" and failed.error and "exploded" in failed.error
    assert failed.train_curve and failed.params["lr"] == ABSURD_LR
    assert "pos_weight_value" in failed.params
    json.dumps(failed.to_dict(), allow_nan=False)


def test_a_nan_loss_is_evidence_of_divergence_too(splits: Splits) -> None:
    X_train, y_train, X_valid, y_valid = splits
    X_bad = X_train.copy()
    X_bad.loc[5, "spend"] = np.inf
    with pytest.raises(TrainingDivergedError) as caught:
        make_learner(ModelSpec(family="torch_mlp")).fit(X_bad, y_train, X_valid, y_valid, seed=0)
    evidence = json.loads(json.dumps(caught.value.to_evidence(), allow_nan=False))
    assert evidence["reason"] == "non_finite" and evidence["loss"] == "nan"
    diagnosis = diagnose_divergence(evidence)
    assert diagnosis.cause == "training_divergence"
    assert diagnosis.confidence == CONFIDENCE_NON_FINITE
    assert "nan" in diagnosis.explanation


# --- diagnosis and remedy ------------------------------------------------------------------


def test_the_diagnosis_names_the_divergence_the_trajectory_and_the_lr(
    diverged: TrainingDivergedError,
) -> None:
    diagnosis = diagnose_divergence(diverged.to_evidence())
    assert diagnosis.cause == "training_divergence"
    assert diagnosis.table == "training_set" and diagnosis.column is None
    assert diagnosis.confidence == CONFIDENCE_EXPLODED
    assert "torch_mlp" in diagnosis.explanation and "epoch 1" in diagnosis.explanation
    assert f"{diverged.initial_loss:.3g} -> {diverged.loss:.3g}" in diagnosis.explanation
    assert "lr=3" in diagnosis.explanation and "clipping off" in diagnosis.explanation
    assert diagnosis.remedy == "lower lr 3 -> 0.3 and clip gradients at 1, retry"
    assert diagnosis.details["family"] == "torch_mlp" and diagnosis.details["epoch"] == 1
    assert diagnosis.details["lr"] == ABSURD_LR
    assert diagnosis.details["new_lr"] == pytest.approx(0.3)
    assert diagnosis.details["clip_grad_norm"] == 0.0
    assert diagnosis.details["new_clip_grad_norm"] == 1.0
    named = diagnose_divergence({**diverged.to_evidence(), "table": "churn_training"})
    assert named.table == "churn_training"


def test_the_stabilised_spec_trains_to_sensible_metrics(splits: Splits) -> None:
    spec = torch_only(lr=ABSURD_LR)
    fixed = stabilise(spec, "torch_mlp")
    params = fixed.candidates[0].resolved_params()
    assert params["lr"] == pytest.approx(ABSURD_LR / 10) and params["clip_grad_norm"] == 1.0
    assert fixed.seed == spec.seed and fixed.selection_metric == spec.selection_metric
    best, reports = fit_best(*splits, fixed)
    report = reports[0]
    assert best.family == "torch_mlp" and report.error is None
    assert all(math.isfinite(v) for v in report.train_curve + report.valid_curve)
    assert report.valid_roc_auc > 0.7
    assert report.params["clip_grad_norm"] == 1.0


def test_repeated_stabilising_recovers_from_an_extreme_learning_rate(splits: Splits) -> None:
    spec = torch_only(lr=1e3)
    for _ in range(5):
        try:
            _, reports = fit_best(*splits, spec)
            break
        except TrainingDivergedError as error:
            spec = stabilise(spec, diagnose_divergence(error.to_evidence()).details["family"])
    else:
        pytest.fail("training still diverges after five stabilising steps")
    assert reports[0].valid_roc_auc > 0.7
    assert float(spec.candidates[0].resolved_params()["lr"]) <= 1.0


def test_stabilise_changes_only_the_family_and_halves_active_clipping() -> None:
    logistic = ModelSpec(family="logistic")
    spec = TrainingSpec(
        candidates=(
            ModelSpec(
                family="torch_mlp", params={"lr": 0.02, "clip_grad_norm": 2.0, "dropout": 0.2}
            ),
            logistic,
        ),
        selection_metric="roc_auc",
        seed=7,
    )
    fixed = stabilise(spec, "torch_mlp")
    assert fixed.candidates[0].params == {
        "lr": pytest.approx(0.002),
        "clip_grad_norm": 1.0,
        "dropout": 0.2,
    }
    assert fixed.candidates[1] == logistic
    assert (fixed.seed, fixed.selection_metric) == (7, "roc_auc")
    assert spec.candidates[0].params["lr"] == 0.02  # the input is untouched
    evidence = {
        "kind": "diverged",
        "family": "torch_mlp",
        "epoch": 4,
        "reason": "exploded",
        "loss": 2e4,
        "initial_loss": 0.69,
        "params": spec.candidates[0].resolved_params(),
    }
    diagnosis = diagnose_divergence(evidence)
    assert diagnosis.remedy == "lower lr 0.02 -> 0.002 and tighten gradient clipping 2 -> 1, retry"
    assert "loss 0.69 -> 2e+04 by epoch 4" in diagnosis.explanation


def test_stabilise_refuses_what_it_cannot_fix() -> None:
    no_torch = TrainingSpec(candidates=(ModelSpec(family="lightgbm"), ModelSpec(family="logistic")))
    with pytest.raises(ValueError, match=r"no torch_mlp candidate.*lightgbm, logistic"):
        stabilise(no_torch, "torch_mlp")
    with pytest.raises(ValueError, match="only torch_mlp can be stabilised"):
        stabilise(no_torch, "logistic")
    at_floor = torch_only(lr=5e-6)
    with pytest.raises(ValueError, match="below the floor"):
        stabilise(at_floor, "torch_mlp")
    evidence = {
        "kind": "diverged",
        "family": "torch_mlp",
        "epoch": 2,
        "reason": "exploded",
        "loss": 1e7,
        "params": at_floor.candidates[0].resolved_params(),
    }
    diagnosis = diagnose_divergence(evidence)
    assert diagnosis.remedy.startswith("no further remedy")
    assert diagnosis.details["new_lr"] is None
    with pytest.raises(ValueError, match="not a training divergence"):
        diagnose_divergence({"kind": "failed_expectation"})


# --- healthy training and clipping ---------------------------------------------------------


@pytest.mark.parametrize(
    ("positive_share", "params"),
    [
        (0.3, {}),
        # Imbalanced with balanced class weights and a last batch of one row.
        (0.05, {"batch_size": 333}),
        # Over-fitting pure noise for a long time: validation loss rises but stays sane.
        (
            None,
            {
                "hidden_units": 128,
                "dropout": 0.0,
                "weight_decay": 0.0,
                "lr": 1e-2,
                "batch_size": 32,
                "max_epochs": 60,
                "patience": 60,
            },
        ),
    ],
)
def test_healthy_training_never_trips_the_explosion_rule(
    positive_share: float | None, params: dict[str, float]
) -> None:
    if positive_share is None:
        rng = np.random.default_rng(5)
        X = pd.DataFrame(rng.normal(size=(1300, 8)), columns=[f"c{i}" for i in range(8)])
        y = (rng.random(1300) < 0.2).astype(int)
        X_train, y_train, X_valid, y_valid = X[:300], y[:300], X[300:], y[300:]
    else:
        X_train, y_train = learnable(1999, 3, positive_share)
        X_valid, y_valid = learnable(1000, 4, positive_share)
    report = make_learner(ModelSpec(family="torch_mlp", params=params)).fit(
        X_train, y_train, X_valid, y_valid, seed=0
    )
    assert all(math.isfinite(v) for v in report.train_curve + report.valid_curve)
    # The rule fires at EXPLOSION_FACTOR (100) times the untrained loss, about 0.7 or more;
    # healthy training stays more than tenfold below it.
    assert max(report.train_curve) < EXPLOSION_FACTOR * math.log(2) / 10
    if positive_share is None:
        # Over-fitting raises the validation loss several-fold: not divergence.
        assert max(report.valid_curve) > 3 * report.valid_curve[0]
        assert report.epochs == 60


def test_clip_grad_norm_is_applied_and_recorded(splits: Splits) -> None:
    assert TORCH_MLP_DEFAULTS["clip_grad_norm"] == 0.0
    free = make_learner(ModelSpec(family="torch_mlp", params={"patience": 3})).fit(*splits, seed=0)
    # Gradients clipped to a vanishing norm fall far below AdamW's epsilon: the weights all
    # but freeze, which they do only if the clipping runs on every step.
    frozen_spec = ModelSpec(family="torch_mlp", params={"patience": 3, "clip_grad_norm": 1e-12})
    frozen = make_learner(frozen_spec).fit(*splits, seed=0)
    assert free.params["clip_grad_norm"] == 0.0 and frozen.params["clip_grad_norm"] == 1e-12
    assert free.valid_curve[0] - min(free.valid_curve) > 0.01
    assert max(frozen.valid_curve) - min(frozen.valid_curve) < 1e-3
    assert frozen.epochs == 4
