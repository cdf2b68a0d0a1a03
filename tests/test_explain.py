"""SHAP explanations of real fitted learners on synthetic data with known signal and noise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dagster_agentic.errors import DataError
from dagster_agentic.training.explain import (
    Explanation,
    explain,
    save_summary_plot,
    valueless_features,
)
from dagster_agentic.training.learners import Learner, load_family, make_learner
from dagster_agentic.training.spec import Family, ModelSpec

FAMILIES: list[Family] = ["lightgbm", "torch_mlp", "logistic"]
PARAMS: dict[str, dict[str, float | int | str | bool]] = {
    "lightgbm": {},
    "torch_mlp": {"max_epochs": 12},
    "logistic": {},
}
PLAN_EFFECT = {"basic": -1.2, "plus": 0.0, "pro": 0.8, "team": 1.6}
NOISE_NUMERIC = ("noise_normal", "noise_uniform")
NOISE = (*NOISE_NUMERIC, "region")
Fitted = tuple[Learner, Explanation, pd.DataFrame]


def churn_frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A strong numeric (with NULLs), a predictive text column, and three noise columns."""
    rng = np.random.default_rng(seed)
    strong = rng.normal(size=n)
    plan = rng.choice(list(PLAN_EFFECT), size=n)
    logit = 2.5 * strong + pd.Series(plan).map(PLAN_EFFECT).to_numpy() - 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame(
        {
            "strong": strong,
            "plan": pd.array(plan, dtype="str"),
            "noise_normal": rng.normal(size=n),
            "noise_uniform": rng.uniform(size=n),
            "region": pd.array(rng.choice(["north", "south", "east", "west"], size=n), dtype="str"),
        }
    )
    X.loc[rng.random(n) < 0.1, "strong"] = np.nan
    X.loc[rng.random(n) < 0.05, "plan"] = None
    return X, y


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    X_train, y_train = churn_frame(2000, 1)
    X_valid, y_valid = churn_frame(1000, 2)
    return X_train, y_train, X_valid, y_valid


@pytest.fixture(scope="module")
def fit_and_explain(
    frames: tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray],
) -> Callable[[Family], Fitted]:
    """Fits each family once (on first use) and explains it on the validation rows."""
    cache: dict[str, Fitted] = {}

    def get(family: Family) -> Fitted:
        if family not in cache:
            learner = make_learner(ModelSpec(family=family, params=PARAMS[family]))
            report = learner.fit(*frames, seed=0)
            assert report.valid_roc_auc > 0.85
            started = time.monotonic()
            explanation = explain(learner, frames[2], seed=0)
            took = time.monotonic() - started
            print(f"{family}: fit {report.fit_seconds:.2f}s, explain {took:.2f}s")
            cache[family] = (learner, explanation, frames[2])
        return cache[family]

    return get


@pytest.fixture(params=FAMILIES)
def fitted(request: pytest.FixtureRequest, fit_and_explain: Callable[[Family], Fitted]) -> Fitted:
    return fit_and_explain(request.param)


def test_signal_ranks_first_and_noise_is_small(fitted: Fitted) -> None:
    learner, explanation, _ = fitted
    assert explanation.columns == tuple(learner.feature_columns)
    n_rows = len(explanation.values)
    assert explanation.values.shape == (n_rows, 5) and explanation.data.shape == (n_rows, 5)
    assert np.isfinite(explanation.values).all()
    assert explanation.method == (
        "tree_shap" if learner.family == "lightgbm" else "permutation_shap"
    )

    ranked = explanation.ranked()
    assert ranked[0][0] == "strong"
    importance = explanation.importance
    assert all(importance["plan"] > importance[noise] for noise in NOISE)
    shares = explanation.shares()
    assert sum(shares.values()) == pytest.approx(1.0)
    assert all(shares[noise] < 0.1 for noise in NOISE), shares

    valueless = valueless_features(explanation, min_share=0.1)
    assert set(NOISE_NUMERIC) <= set(valueless)
    assert "strong" not in valueless and "plan" not in valueless
    assert list(valueless) == sorted(valueless)

    summary = json.loads(json.dumps(explanation.to_dict()))
    assert summary["rows"] == n_rows and summary["method"] == explanation.method
    assert summary["shares"] == pytest.approx(shares)


def test_values_add_up_to_the_model_output(fitted: Fitted) -> None:
    """Local accuracy: base value + SHAP values = the model's log-odds (trees) or probability."""
    learner, _, X_valid = fitted
    rows = X_valid.head(40)
    state = np.random.get_state()
    explanation = explain(learner, rows, max_rows=40, seed=3)
    assert np.array_equal(np.random.get_state()[1], state[1])  # global RNG left alone
    scores = learner.predict_proba(rows)
    if learner.family == "lightgbm":
        assert explanation.output == "log_odds"
        expected = np.log(scores) - np.log1p(-scores)
    else:
        assert explanation.output == "probability"
        expected = scores
    total = explanation.values.sum(axis=1) + explanation.base_value
    np.testing.assert_allclose(total, expected, atol=1e-6)
    # The same seed gives the same explanation.
    again = explain(learner, rows, max_rows=40, seed=3)
    np.testing.assert_array_equal(again.values, explanation.values)


def test_rows_are_sampled_deterministically(
    fit_and_explain: Callable[[Family], Fitted],
) -> None:
    learner, _, X_valid = fit_and_explain("lightgbm")  # sampling is shared by both paths
    first = explain(learner, X_valid, max_rows=200, seed=7)
    second = explain(learner, X_valid, max_rows=200, seed=7)
    other = explain(learner, X_valid, max_rows=200, seed=8)
    assert first.values.shape == (200, 5)
    np.testing.assert_array_equal(first.values, second.values)
    pd.testing.assert_frame_equal(first.data, second.data)
    assert not np.array_equal(first.values, other.values)


def test_a_saved_and_loaded_lightgbm_model_explains_identically(
    fit_and_explain: Callable[[Family], Fitted], tmp_path: Path
) -> None:
    learner, explanation, X_valid = fit_and_explain("lightgbm")
    learner.save(tmp_path / "model")
    loaded = load_family("lightgbm", tmp_path / "model")
    # Column order, extra columns and the index of the frame do not matter.
    shuffled = X_valid[list(reversed(X_valid.columns))].assign(extra=1.0)
    shuffled.index = shuffled.index + 10_000
    again = explain(loaded, shuffled, seed=0)
    np.testing.assert_allclose(again.values, explanation.values, atol=1e-12)
    assert again.base_value == pytest.approx(explanation.base_value)


@pytest.mark.parametrize("family", ["lightgbm", "logistic"])
def test_summary_plot_is_a_png_written_atomically(
    fit_and_explain: Callable[[Family], Fitted], family: Family, tmp_path: Path
) -> None:
    import matplotlib.pyplot as plt

    _, explanation, _ = fit_and_explain(family)

    target = tmp_path / "plots" / "shap_summary.png"
    assert save_summary_plot(explanation, target, max_display=3) == target
    content = target.read_bytes()
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(content) > 5_000
    assert [p.name for p in target.parent.iterdir()] == ["shap_summary.png"]  # no temp file
    assert target.stat().st_mode & 0o044  # readable by others, as umask allows (not 0600)
    assert plt.get_fignums() == []  # nothing left open in pyplot


def test_valueless_features_never_drops_every_column() -> None:
    def made(importance: dict[str, float]) -> Explanation:
        columns = tuple(importance)
        return Explanation(
            method="tree_shap",
            columns=columns,
            values=np.zeros((1, len(columns))),
            data=pd.DataFrame(np.zeros((1, len(columns))), columns=list(columns)),
            importance=importance,
        )

    flat = made({"b": 0.0, "a": 0.0, "c": 0.0})
    assert flat.shares() == {"b": 0.0, "a": 0.0, "c": 0.0}
    assert valueless_features(flat) == ("b", "c")  # "a" ranks first on the name tie-break
    skewed = made({"x": 9.0, "y": 0.99, "z": 0.01})
    assert skewed.ranked() == [("x", 9.0), ("y", 0.99), ("z", 0.01)]
    assert valueless_features(skewed, min_share=0.05) == ("z",)
    assert valueless_features(skewed, min_share=0.5) == ("y", "z")
    assert valueless_features(skewed, min_share=1.1) == ("y", "z")


def test_empty_frame_and_unfitted_learner_are_data_errors(fitted: Fitted) -> None:
    learner, _, X_valid = fitted
    with pytest.raises(DataError, match="empty") as caught:
        explain(learner, X_valid.head(0))
    assert caught.value.fix
    with pytest.raises(DataError, match="no feature columns") as caught:
        explain(make_learner(ModelSpec(family=learner.family)), X_valid)
    assert caught.value.fix


def test_importing_the_module_does_not_import_shap_or_matplotlib() -> None:
    code = (
        "import sys, dagster_agentic.training.explain\n"
        "heavy = [m for m in ('shap', 'matplotlib', 'lightgbm', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_shap_masking_kernels_compile_once_per_machine(tmp_path: Path) -> None:
    """A fresh process explaining a model leaves numba's compiled masking kernels on disk, and
    the next process loads them instead of compiling (each compile is seconds of every run)."""
    code = (
        "import numpy as np, pandas as pd\n"
        "from dagster_agentic.training.explain import explain\n"
        "from dagster_agentic.training.learners import make_learner\n"
        "from dagster_agentic.training.spec import ModelSpec\n"
        "rng = np.random.default_rng(0)\n"
        "X = pd.DataFrame({'a': rng.normal(size=300), 'b': rng.normal(size=300)})\n"
        "y = (X['a'] > 0).astype(int).to_numpy()\n"
        "learner = make_learner(ModelSpec(family='logistic', params={}))\n"
        "learner.fit(X[:200], y[:200], X[200:], y[200:], seed=0)\n"
        "explanation = explain(learner, X[200:], seed=0)\n"
        "print(explanation.method)\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    first = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    assert first.stdout.strip() == "permutation_shap"
    indexes = sorted(p.name for p in (tmp_path / "numba").rglob("*.nbi"))
    assert any("_tabular._delta_masking" in name for name in indexes), indexes
    assert not any("_masked_model" in name for name in indexes), indexes  # never hit
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "numba").rglob("*.nbc")}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    # Loaded, not compiled again: no kernel file was written anew.
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "numba").rglob("*.nbc")} == stamps
