"""Peers measured on the product's own cross-validation folds: every row predicted once, by a
fit that never saw its fold, scored with the product's interval methods. LightGBM runs for real
in-process (the main venv has it); the peers' venv is not needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.corpus import peer_fit, peers, peers_cv
from bench.corpus.goals import load_goals
from bench.corpus.load import load


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    assert not load(out, ["wine"])["skipped"]
    return out / "wine.duckdb"


def test_a_peer_refitted_on_the_product_folds_predicts_every_row_out_of_fold(wine: Path) -> None:
    goal = next(g for g in load_goals(sets={"wine"}) if g.expect.cohort is None)
    rows = peers.expected_rows(wine, goal.expect)
    folds = pd.DataFrame(
        {"entity_id": rows["entity_id"].astype(str), "fold": np.arange(len(rows)) % 5}
    )
    features = peers.entity_features(wine, goal)
    frame = peers_cv.cv_frame(rows, features, folds)
    assert list(frame.columns[:4]) == ["entity_id", "y", "split", "fold"]
    # The folds are part of what the cache key covers: other folds, another fit.
    shifted = frame.assign(fold=(frame["fold"] + 1) % 5)
    key = peers.data_key(frame, goal.expect.task, "accuracy", "lightgbm_defaults", 0)
    assert peers.data_key(shifted, goal.expect.task, "accuracy", "lightgbm_defaults", 0) != key
    job = {"task": goal.expect.task, "peers": ["lightgbm_defaults"], "seconds": 0}
    fit = peer_fit.fit_frame(frame, {**job, "optimise": "accuracy"})["lightgbm_defaults"]
    assert "error" not in fit, fit
    assert set(fit["predictions"]) == set(frame["entity_id"])  # every row, once
    scored = peers_cv.score_cv(fit, rows, goal.expect, None)
    accuracy = scored["accuracy"]["all_rows"]
    assert accuracy["n"] == len(rows) and accuracy["method"] == "wilson"
    assert 0.85 < accuracy["value"] <= 1.0 and accuracy["low"] < accuracy["value"]
    assert scored["macro_f1"]["all_rows"]["method"] == "bootstrap"


def test_pooled_metrics_use_the_product_intervals() -> None:
    from dagster_agentic.training.confidence import bootstrap_interval, wilson, z_value
    from dagster_agentic.training.task_confidence import task_interval

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.clip(y * 0.6 + rng.random(300) * 0.5, 0, 1)
    auc = peers_cv.measure_cv("roc_auc", "binary_classification", y.astype(float), p)
    expected = bootstrap_interval("roc_auc", y, p, threshold=0.5)
    assert (auc["low"], auc["high"]) == (expected.low, expected.high)
    labels = np.array(["a", "b", "c"])[rng.integers(0, 3, 200)]
    guessed = np.where(rng.random(200) < 0.8, labels, "a")
    acc = peers_cv.measure_cv("accuracy", "multiclass_classification", labels, guessed)
    low, high = wilson(int((labels == guessed).sum()), 200, z=z_value(0.95))
    assert (acc["low"], acc["high"]) == pytest.approx((low, high))
    values = rng.normal(size=100)
    mae = peers_cv.measure_cv("mae", "regression", values, values + 0.1)
    assert mae["value"] == pytest.approx(0.1)
    interval = task_interval("mae", values, values + 0.1)
    assert (mae["low"], mae["high"]) == (interval.low, interval.high)
