"""The training time budget binds inside every learner and across the candidates.

Real LightGBM, torch and sklearn fits on synthetic frames large enough that an unbounded fit
takes many times the budget (LightGBM and the MLP run for minutes; the logistic solver needs
about 7 s on ``wide``). The bound is a correctness property, not a speed claim: a fit may
overrun the deadline only by the step it was in when the time ran out.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from dagster_agentic.errors import GuardrailError
from dagster_agentic.training.deadline import Deadline
from dagster_agentic.training.fit import fit_best
from dagster_agentic.training.learners import make_learner
from dagster_agentic.training.logistic import LogisticLearner
from dagster_agentic.training.spec import Family, ModelSpec, TrainingSpec

Splits = tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]

BUDGET = 2.5
"""Seconds per learner: above the setup no learner can interrupt (LightGBM bins its dataset
before the first round: about 0.6 s on ``large``, twice that on a loaded two-core runner)."""
ALLOWANCE = 0.3
"""Seconds a fit may run past ``budget * 1.05``. The deadline is checked between steps, so a
fit overruns by the step it was in (a boosting round, ~20 ms here; a batch and the validation
pass that closes the cut-short epoch, ~50 ms; a solver chunk, sized to half the time left)
and by scoring the validation rows once it stops (~0.1 s); the rest absorbs timer and
scheduler noise."""


def within_budget(elapsed: float, budget: float) -> bool:
    return elapsed <= budget * 1.05 + ALLOWANCE


def mixed(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """36 numerics (one with NULLs) and 4 twenty-level categoricals; signal in both."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 36))
    levels = np.array([f"L{i}" for i in range(20)])
    categories = {f"c{j}": levels[rng.integers(0, 20, size=n)] for j in range(4)}
    weights = np.random.default_rng(0).normal(size=36)
    logit = 0.3 * x @ weights + np.sin(2 * x[:, 0]) * x[:, 1] + 1.5 * (categories["c0"] == "L3")
    y = (rng.random(n) < 1 / (1 + np.exp(1 - logit))).astype(int)
    X = pd.DataFrame(x, columns=[f"x{i}" for i in range(36)]).assign(**categories)
    X.loc[rng.random(n) < 0.05, "x2"] = np.nan
    return X, y


def correlated(n: int, seed: int, d: int = 80) -> tuple[pd.DataFrame, np.ndarray]:
    """Strongly correlated numerics with the signal in what they do not share: an
    ill-conditioned problem on which L-BFGS needs some 60 iterations."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, d))
    logit = z @ np.random.default_rng(0).normal(size=d)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(z[:, :1] + 0.1 * z, columns=[f"x{i}" for i in range(d)]), y


@pytest.fixture(scope="module", autouse=True)
def warm_imports() -> None:
    """Import the learners' libraries once: the first torch optimiser imports torch._dynamo
    (about 1 s), a cost of the process rather than of the fit being timed."""
    import lightgbm  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import torch

    torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])


@pytest.fixture(scope="module")
def large() -> Splits:
    return (*mixed(100_000, 1), *mixed(25_000, 2))


@pytest.fixture(scope="module")
def wide() -> Splits:
    return (*correlated(400_000, 1), *correlated(50_000, 2))


@pytest.fixture(scope="module")
def small() -> Splits:
    return (*mixed(2_000, 3), *mixed(1_000, 4))


# --- each learner -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "frame", "params"),
    [
        ("lightgbm", "large", {}),
        ("torch_mlp", "large", {}),
        ("logistic", "wide", {"C": 100.0}),
    ],
)
def test_each_learner_stops_at_the_deadline_and_keeps_its_model(
    family: Family, frame: str, params: dict[str, float], request: pytest.FixtureRequest
) -> None:
    X_train, y_train, X_valid, y_valid = request.getfixturevalue(frame)
    learner = make_learner(ModelSpec(family=family, params=params))
    started = time.monotonic()
    report = learner.fit(
        X_train, y_train, X_valid, y_valid, seed=0, deadline=Deadline.after(BUDGET)
    )
    elapsed = time.monotonic() - started
    assert within_budget(elapsed, BUDGET), f"{family} took {elapsed:.2f}s of {BUDGET}s"
    assert report.stopped_by_budget and "time budget" in report.stop_reason
    assert report.epochs >= 1 and math.isfinite(report.valid_roc_auc)
    assert np.isfinite(learner.predict_proba(X_valid.head(100))).all()
    assert json.loads(json.dumps(report.to_dict()))["stopped_by_budget"] is True


def test_the_mlp_checks_the_deadline_within_an_epoch(large: Splits) -> None:
    # One epoch of 100k rows in batches of 64 takes several seconds: far more than 0.5 s.
    learner = make_learner(ModelSpec(family="torch_mlp", params={"batch_size": 64}))
    started = time.monotonic()
    report = learner.fit(*large, seed=0, deadline=Deadline.after(0.5))
    assert within_budget(time.monotonic() - started, 0.5)
    assert report.stopped_by_budget and "in epoch 1, after" in report.stop_reason
    assert report.epochs == len(report.valid_curve) == 1


# --- all candidates -----------------------------------------------------------------------


def test_one_deadline_binds_all_candidates_and_the_best_so_far_is_kept(large: Splits) -> None:
    budget = 3 * BUDGET  # each candidate's share is about BUDGET
    started = time.monotonic()
    best, reports = fit_best(*large, TrainingSpec.default(), deadline=Deadline.after(budget))
    elapsed = time.monotonic() - started
    assert within_budget(elapsed, budget), f"{elapsed:.2f}s of {budget}s"
    assert [r.family for r in reports] == ["lightgbm", "torch_mlp", "logistic"]
    assert reports[0].stopped_by_budget and reports[1].stopped_by_budget
    assert all(r.epochs >= 1 for r in reports)
    assert best.family == max(reports, key=lambda r: r.valid_average_precision).family


def test_no_model_within_the_budget_is_a_guardrail_error(small: Splits) -> None:
    spent = Deadline.after(0.0)
    with pytest.raises(GuardrailError, match="time budget of 0s") as caught:
        fit_best(*small, TrainingSpec.default(), deadline=spent)
    assert caught.value.rule == "budget.train_seconds"
    assert "max_train_seconds" in (caught.value.fix or "")


# --- a generous budget changes nothing ----------------------------------------------------


@pytest.mark.parametrize("family", ["lightgbm", "torch_mlp", "logistic"])
def test_a_generous_budget_gives_the_unbounded_fit(small: Splits, family: Family) -> None:
    spec = ModelSpec(family=family)
    bounded, free = make_learner(spec), make_learner(spec)
    report = bounded.fit(*small, seed=0, deadline=Deadline.after(600.0))
    unbounded = free.fit(*small, seed=0)
    assert not report.stopped_by_budget and "time budget" not in report.stop_reason
    assert (report.epochs, report.stop_reason) == (unbounded.epochs, unbounded.stop_reason)
    X_valid = small[2]
    np.testing.assert_array_equal(bounded.predict_proba(X_valid), free.predict_proba(X_valid))


def test_the_logistic_solver_is_sklearns_when_the_time_suffices(small: Splits) -> None:
    X_train, y_train, X_valid, y_valid = small
    learner = LogisticLearner()
    learner.fit(X_train, y_train, X_valid, y_valid, seed=0, deadline=Deadline.after(600.0))
    assert learner.encoder is not None and learner.coef is not None
    reference = LogisticRegression(max_iter=1000, random_state=0)
    reference.fit(learner.encoder.transform(X_train), y_train)
    np.testing.assert_array_equal(learner.coef, reference.coef_[0])


def test_fit_best_under_a_generous_deadline_is_fit_best_without_one(small: Splits) -> None:
    spec = TrainingSpec.default()
    best, reports = fit_best(*small, spec, deadline=Deadline.after(600.0))
    free_best, free_reports = fit_best(*small, spec)
    assert best.family == free_best.family
    assert not any(r.stopped_by_budget for r in reports)
    assert [(r.epochs, r.valid_average_precision) for r in reports] == [
        (r.epochs, r.valid_average_precision) for r in free_reports
    ]
