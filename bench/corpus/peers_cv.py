"""Peers measured the way the product measured itself, when it cross-validated.

On small data the product's metric is not read off its test split: it refits its chosen
configuration on k folds of every labelled row and measures the pooled out-of-fold predictions
(dagster_agentic.training.cross_validation). Peers measured on the test split alone rest on a
few dozen rows and another estimator, so for such goals the peers are also measured on the
same protocol: the product's own folds (its ``cv_fold`` column), each fold predicted by a fit
on every other fold, the pooled predictions scored with the product's interval methods (Wilson
for accuracy, the product's seeded multinomial bootstrap for ROC AUC, macro-F1, RMSE, MAE and
R², dagster_agentic.training.confidence and task_confidence). A peer fits on four folds of five
where the product trains on three and early-stops on the fourth, as on the test split peers fit
on train and valid rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.corpus import peers
from bench.corpus.goals import CorpusGoal, Expected

CV_PEERS = ("lightgbm_defaults",)
"""Peers refitted per fold by default: LightGBM with its defaults takes seconds; FLAML and
AutoGluon would take their budget once per fold (``--cv-peers`` adds them)."""


def product_folds(state_dir: Path, goal_id: str) -> pd.DataFrame | None:
    """(entity_id, fold) of the product's cross-validation, or None when it measured itself on
    its test split (or has no accepted plan)."""
    from dagster_agentic.plan.store import PlanStore
    from dagster_agentic.training.cross_validation import CV_FOLD_COLUMN

    store = PlanStore(state_dir, goal_id)
    version = store.accepted_version()
    if version is None:
        return None
    path = state_dir / goal_id / "artifacts" / f"{version:04d}" / "predictions.csv"
    if not path.exists():
        return None
    wanted = ("entity_id", CV_FOLD_COLUMN)
    frame = pd.read_csv(path, usecols=lambda c: c in wanted, dtype={"entity_id": str})
    if CV_FOLD_COLUMN not in frame.columns:
        return None
    return frame.rename(columns={CV_FOLD_COLUMN: "fold"})[["entity_id", "fold"]]


def cv_frame(rows: pd.DataFrame, features: pd.DataFrame, folds: pd.DataFrame) -> pd.DataFrame:
    """The peers' frame with each row's fold after ``split``: peer_fit then fits per fold."""
    frame = peers.peer_frame(rows, features)
    fold = frame[["entity_id"]].merge(
        folds.assign(entity_id=folds["entity_id"].astype(str)),
        on="entity_id",
        how="left",
        validate="1:1",
    )["fold"]
    if fold.isna().any():
        raise ValueError(f"{int(fold.isna().sum())} training rows have no fold in the predictions")
    frame.insert(3, "fold", fold.astype("int64").to_numpy())
    return frame


def _classes(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    labels = sorted(set(y.tolist()) | set(p.tolist()))
    index = {label: i for i, label in enumerate(labels)}
    return (
        np.array([index[v] for v in y], dtype=np.int64),
        np.array([index[v] for v in p], dtype=np.int64),
        len(labels),
    )


def measure_cv(metric: str, task: str, y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """``metric`` of pooled out-of-fold predictions with the product's own interval."""
    from dagster_agentic.training.confidence import bootstrap_interval
    from dagster_agentic.training.task_confidence import macro_f1, regression_value, task_interval

    if len(y) == 0:
        return {"value": None, "n": 0}
    if metric == "roc_auc":
        from sklearn.metrics import roc_auc_score

        y = y.astype(int)
        if len(set(y.tolist())) < 2:
            return {"value": None, "n": len(y)}
        value = float(roc_auc_score(y, p))
        interval = bootstrap_interval("roc_auc", y, p.astype(float), threshold=0.5)
    elif task == "multiclass_classification":
        y_index, p_index, k = _classes(y, p)
        value = (
            float((y_index == p_index).mean())
            if metric == "accuracy"
            else macro_f1(y_index, p_index, k)
        )
        interval = task_interval(metric, y_index, p_index, n_classes=k)
    else:
        y, p = y.astype(float), p.astype(float)
        value = regression_value(metric, y, p)
        interval = task_interval(metric, y, p)
    return {
        "value": value,
        "low": interval.low,
        "high": interval.high,
        "n": len(y),
        "method": interval.method,
    }


def score_cv(
    fit: dict[str, Any], rows: pd.DataFrame, expected: Expected, cohort_ids: set[str] | None
) -> dict[str, Any]:
    """A per-fold fit's metrics on every row and on the cohort's rows (all splits)."""
    if "predictions" not in fit:
        return {"error": fit.get("error", "no predictions")}
    every = rows.assign(entity_id=rows["entity_id"].astype(str))
    every = every[every["entity_id"].isin(fit["predictions"].keys())]
    predicted = every["entity_id"].map(fit["predictions"])
    numeric = expected.task != "multiclass_classification"
    y = every["y"].to_numpy(dtype=float if numeric else object)
    p = predicted.to_numpy(dtype=float if numeric else object)
    if not numeric:
        y, p = y.astype(str), p.astype(str)
    scores: dict[str, Any] = {"seconds": fit.get("seconds"), "version": fit.get("version")}
    scores["cached"] = fit.get("cached")
    for metric in peers.compared_metrics(expected):
        scores[metric] = {"all_rows": measure_cv(metric, expected.task, y, p)}
        if cohort_ids is not None:
            inside = every["entity_id"].isin(cohort_ids).to_numpy()
            scores[metric]["cohort_rows"] = measure_cv(metric, expected.task, y[inside], p[inside])
    return scores


def cv_block(
    goal: CorpusGoal,
    warehouse: Path,
    rows: pd.DataFrame,
    folds: pd.DataFrame,
    feature_sets: dict[str, pd.DataFrame],
    names: tuple[str, ...],
    cache: peers.PeerCache,
    seconds: int,
) -> dict[str, Any]:
    """Each peer refitted on the product's folds, per feature set ("product", "entity");
    ``seconds`` is each fold's budget for the peers that take one (FLAML, AutoGluon)."""
    optimise = peers.optimised_metric(goal.expect)
    cohort = peers.cohort_ids(warehouse, goal.expect)
    block: dict[str, Any] = {
        "protocol": "the product's cross-validation folds: each fold predicted by a fit on"
        " every other fold; pooled out-of-fold metric with the product's interval",
        "folds": int(folds["fold"].nunique()),
        "rows": len(rows),
        "optimised": optimise,
        "compared": peers.compared_metric(goal.expect),
    }
    for label, features in feature_sets.items():
        frame = cv_frame(rows, features, folds)
        budget = 0 if names == ("lightgbm_defaults",) else seconds
        fits = peers.fit_peers(frame, goal.expect.task, optimise, names, cache, seconds=budget)
        cache.save()
        block[label] = {
            "features": len(frame.columns) - 4,
            "peers": {
                name: {**score_cv(fit, rows, goal.expect, cohort), "data_key": fit["data_key"]}
                for name, fit in fits.items()
            },
        }
    return block
