"""Predictive power with one learner: the same LightGBM, rows and split for both feature sets.

The rows and the train/valid/test split are the agent's training set (a hash of the entity
id); DFS's feature matrix is joined onto them by entity id. LightGBM is the package's own
``LightGBMLearner`` (early stopping on the valid rows, text columns as categories).
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

LEARNER_PARAMS: dict[str, Any] = {"n_jobs": 2}
LEARNER_MAX_SECONDS = 120.0
TOP_FEATURES = 8


def read_parquet(path: Path) -> pd.DataFrame:
    with duckdb.connect() as conn:
        return conn.execute("SELECT * FROM read_parquet(?)", [str(path)]).df()


def dfs_frame(rows: pd.DataFrame, matrix: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """The agent's rows (entity_id, label, split) with DFS's features joined by id."""
    features = matrix.rename(columns={id_column: "entity_id"})
    joined = rows[["entity_id", "label", "split"]].merge(
        features, on="entity_id", how="left", validate="one_to_one"
    )
    if joined["entity_id"].isna().any() or len(joined) != len(rows):
        raise ValueError("DFS's feature matrix does not cover the agent's rows")
    return joined


def _split(frame: pd.DataFrame, columns: list[str], name: str) -> tuple[pd.DataFrame, np.ndarray]:
    part = frame[frame["split"] == name]
    return part[columns], part["label"].to_numpy(dtype=np.int64)


def _importance(learner: Any, columns: list[str]) -> list[tuple[str, float]]:
    """Gain per feature, by the learner's positional names (f0, f1, ...)."""
    booster = getattr(learner, "_booster", None)
    if booster is None:
        return []
    gains = booster.feature_importance(importance_type="gain")
    total = float(sum(gains)) or 1.0
    ranked = sorted(zip(columns, gains, strict=True), key=lambda item: -item[1])
    return [(name, round(float(gain) / total, 4)) for name, gain in ranked[:TOP_FEATURES]]


def fit_once(frame: pd.DataFrame, columns: list[str], seed: int) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    from dagster_agentic.training.lightgbm_learner import LightGBMLearner

    x_train, y_train = _split(frame, columns, "train")
    x_valid, y_valid = _split(frame, columns, "valid")
    x_test, y_test = _split(frame, columns, "test")
    learner = LightGBMLearner(LEARNER_PARAMS, max_seconds=LEARNER_MAX_SECONDS)
    report = learner.fit(x_train, y_train, x_valid, y_valid, seed=seed)
    auc = float(roc_auc_score(y_test, learner.predict_proba(x_test)))
    return {
        "seed": seed,
        "test_auc": auc,
        "valid_auc": float(report.valid_roc_auc),
        "best_iteration": int(report.best_iteration),
        "fit_seconds": float(report.fit_seconds),
        "top_features_by_gain": _importance(learner, columns),
    }


def evaluate(frame: pd.DataFrame, columns: list[str], seeds: list[int]) -> dict[str, Any]:
    """Test ROC AUC over several seeds: every fit, mean, spread and the first fit's top gains."""
    fits = [fit_once(frame, columns, seed) for seed in seeds]
    aucs = [f["test_auc"] for f in fits]
    return {
        "test_auc_mean": statistics.fmean(aucs),
        "test_auc_std": statistics.pstdev(aucs),
        "test_auc_min": min(aucs),
        "test_auc_max": max(aucs),
        "fits": fits,
        "n_features": len(columns),
        "rows": {name: int((frame["split"] == name).sum()) for name in ("train", "valid", "test")},
    }
