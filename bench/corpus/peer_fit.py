"""The peers' side of ``make bench-corpus``, run in the peers' venv (bench/data/venv-peers).

    bench/data/venv-peers/bin/python -m bench.corpus.peer_fit <job dir>

The job dir holds ``frame.parquet`` (entity_id, y, split, then the features) and ``job.json``
(task, peers, time budget, metric to optimise). Each peer fits on the train and valid rows and
predicts the test rows; ``result.json`` gets, per peer, the test predictions by entity id, the
fit's seconds and the peer's version, or the error that stopped it.

With a ``fold`` column (the product's cross-validation folds, when its metric was
cross-validated), each peer is fitted once per fold on the rows of every other fold and predicts
that fold's rows instead: the predictions are then out-of-fold, one per row, as the product's.
No data leaves this machine: AutoGluon and FLAML are run with telemetry and downloads off.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

for _name, _value in {"AUTOGLUON_TELEMETRY": "0", "DO_NOT_TRACK": "1"}.items():
    os.environ.setdefault(_name, _value)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ID_COLUMNS = ("entity_id", "y", "split", "fold")
THREADS = int(os.environ.get("BENCH_PEER_THREADS", "2"))


def _features(frame: pd.DataFrame) -> pd.DataFrame:
    """Strings as categories, times as epoch seconds: what every peer accepts as is."""
    out = frame.drop(columns=[c for c in ID_COLUMNS if c in frame.columns]).copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.astype("int64", errors="ignore") / 1e9
        elif series.dtype == object or pd.api.types.is_string_dtype(series):
            values = series.map(lambda v: None if v is None else str(v))
            out[column] = values.astype("category")
        elif pd.api.types.is_bool_dtype(series):
            out[column] = series.astype("float64")
    return out


def _target(frame: pd.DataFrame, task: str) -> pd.Series:
    if task == "regression":
        return frame["y"].astype("float64")
    if task == "binary_classification":
        return frame["y"].astype("int64")
    return frame["y"].astype(str)


def fit_lightgbm(x: pd.DataFrame, y: pd.Series, test: pd.DataFrame, task: str, job: dict) -> Any:
    import lightgbm

    params = {"n_jobs": THREADS, "verbose": -1, "random_state": job.get("seed", 0)}
    if task == "regression":
        model = lightgbm.LGBMRegressor(**params)
        model.fit(x, y)
        return model.predict(test)
    model = lightgbm.LGBMClassifier(**params)
    model.fit(x, y)
    if task == "binary_classification":
        return np.asarray(model.predict_proba(test))[:, 1]
    return model.predict(test)


_FLAML_METRIC = {
    "roc_auc": "roc_auc",
    "accuracy": "accuracy",
    "macro_f1": "macro_f1",
    "rmse": "rmse",
    "mae": "mae",
    "r2": "r2",
}


def fit_flaml(x: pd.DataFrame, y: pd.Series, test: pd.DataFrame, task: str, job: dict) -> Any:
    from flaml import AutoML

    # FLAML's default list less CatBoost: CatBoost's trials check the machine's memory at every
    # iteration and overran the budget several times over on a shared, loaded machine.
    estimators = ["lgbm", "rf", "xgboost", "extra_tree", "xgb_limitdepth"]
    if task != "regression":
        estimators.append("lrl1")
    automl = AutoML()
    automl.fit(
        x,
        y,
        task="regression" if task == "regression" else "classification",
        metric=_FLAML_METRIC[job["optimise"]],
        time_budget=job["seconds"],
        estimator_list=estimators,
        seed=job.get("seed", 0),
        n_jobs=THREADS,
        verbose=0,
    )
    if task == "binary_classification":
        return automl.predict_proba(test)[:, 1]
    return automl.predict(test)


_AG_METRIC = {
    "roc_auc": "roc_auc",
    "accuracy": "accuracy",
    "macro_f1": "f1_macro",
    "rmse": "root_mean_squared_error",
    "mae": "mean_absolute_error",
    "r2": "r2",
}
_AG_PROBLEM = {
    "binary_classification": "binary",
    "multiclass_classification": "multiclass",
    "regression": "regression",
}


def fit_autogluon(x: pd.DataFrame, y: pd.Series, test: pd.DataFrame, task: str, job: dict) -> Any:
    from autogluon.tabular import TabularPredictor

    train = x.assign(y__=y.to_numpy())
    with tempfile.TemporaryDirectory(prefix="ag-") as path:
        predictor = TabularPredictor(
            label="y__",
            problem_type=_AG_PROBLEM[task],
            eval_metric=_AG_METRIC[job["optimise"]],
            path=path,
            verbosity=0,
        )
        predictor.fit(train, time_limit=job["seconds"], num_cpus=THREADS, num_gpus=0)
        if task == "binary_classification":
            proba = predictor.predict_proba(test)
            return proba[1].to_numpy() if 1 in proba.columns else proba.iloc[:, -1].to_numpy()
        return predictor.predict(test).to_numpy()


PEERS = {
    "lightgbm_defaults": ("lightgbm", fit_lightgbm),
    "flaml": ("flaml", fit_flaml),
    "autogluon": ("autogluon.tabular", fit_autogluon),
}


def _parts(frame: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit rows, predicted rows) masks: train + valid -> test, or each fold from the others."""
    if "fold" not in frame.columns:
        fit_rows = frame["split"].isin(["train", "valid"]).to_numpy()
        return [(fit_rows, (frame["split"] == "test").to_numpy())]
    folds = frame["fold"].to_numpy()
    return [(folds != k, folds == k) for k in sorted(set(folds.tolist()))]


def run(job_dir: Path) -> dict[str, Any]:
    job = json.loads((job_dir / "job.json").read_text())
    return fit_frame(pd.read_parquet(job_dir / "frame.parquet"), job)


def fit_frame(frame: pd.DataFrame, job: dict[str, Any]) -> dict[str, Any]:
    """Every peer of ``job`` fitted on ``frame``: per peer, predictions by entity id."""
    task = job["task"]
    features = _features(frame)
    parts = _parts(frame)
    results: dict[str, Any] = {}
    for name in job["peers"]:
        package, fit = PEERS[name]
        started = time.perf_counter()
        try:
            values: list[Any] = []
            ids: list[str] = []
            for fit_rows, predict_rows in parts:
                x, y = features[fit_rows], _target(frame[fit_rows], task)
                predictions = np.asarray(fit(x, y, features[predict_rows], task, job))
                values += (
                    [str(v) for v in predictions]
                    if task == "multiclass_classification"
                    else [round(float(v), 6) for v in predictions]
                )
                ids += frame.loc[predict_rows, "entity_id"].astype(str).tolist()
            results[name] = {"predictions": dict(zip(ids, values, strict=True))}
        except Exception as error:  # a peer that fails is recorded, the others still run
            results[name] = {
                "error": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc()[-2000:],
            }
        results[name]["seconds"] = round(time.perf_counter() - started, 2)
        results[name]["version"] = importlib.metadata.version(package)
    return results


def main() -> int:
    job_dir = Path(sys.argv[1])
    results = run(job_dir)
    (job_dir / "result.json").write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
