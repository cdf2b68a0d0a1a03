"""The peers of the corpus benchmark: which rows they see, the cache of their fits, the metrics.

Rows. Peers fit on the train and valid rows and are measured on the test rows of a split of
the labelled entities. When the product ran, the split is the product's own training set
(``entity_id``, ``label``, ``split``); before that, or when the product failed, it is the
expected reading's rows split the way the product splits by default (DuckDB
``hash(entity_id, 17) % 1000``: below 700 train, below 850 valid, else test).

Features. ``entity``: the entity table's own columns (for a relational warehouse, nothing of
the child, label or dimension tables), less the key, the target and the goal's
``peer_exclude``. ``product``: the product's own feature matrix (its training set's columns).

Cache. A fit depends only on the rows, the labels, the split, the features and the peer's
settings, so its test predictions are stored in ``bench/results/corpus_peers.json`` under the
sha256 of exactly those (``data_key``). A later run that builds the same frame reuses them:
the peers' part can be run before the product's (``--peers-only``) and the final run only fits
what changed. Goals that share rows and target (they differ by cohort, metric or wording)
share one fit: cohorts only select which test rows are scored.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from bench.corpus.goals import CorpusGoal, Expected

BENCH = Path(__file__).resolve().parent.parent
PEERS_PYTHON = BENCH / "data" / "venv-peers" / "bin" / "python"
CACHE_FILE = BENCH / "results" / "corpus_peers.json"
PEER_NAMES = ("lightgbm_defaults", "flaml", "autogluon")
PEER_SECONDS = 60
PEER_SETTINGS = {
    "lightgbm_defaults": "LGBMClassifier()/LGBMRegressor() defaults, n_jobs=2",
    "flaml": "AutoML(time_budget) estimators lgbm rf xgboost extra_tree xgb_limitdepth"
    " (+lrl1 for classification), n_jobs=2",
    "autogluon": "TabularPredictor default preset, fit(time_limit), num_cpus=2",
}
"""What each peer runs (bench/corpus/peer_fit.py), part of its cache key: change the text when
the peer's configuration changes, so no stale fit is reused."""
SPLIT_SEED, TRAIN_END, VALID_END = 17, 700, 850
BOOTSTRAP = 500


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _label_sql(expected: Expected, alias: str) -> str:
    column = f"{alias}.{_q(expected.target_column)}"
    if expected.task == "binary_classification":
        positive = str(expected.positive).replace("'", "''")
        return f"CASE WHEN CAST({column} AS VARCHAR) = '{positive}' THEN 1 ELSE 0 END"
    if expected.task == "regression":
        return f"CAST({column} AS DOUBLE)"
    return f"CAST({column} AS VARCHAR)"


def expected_rows(warehouse: Path, expected: Expected) -> pd.DataFrame:
    """(entity_id, y, split) of the labelled entities, by the expected reading."""
    key = _q(expected.key)
    join = (
        ""
        if expected.target_table == expected.entity
        else f" JOIN {_q(expected.target_table)} AS l ON l.{key} = e.{key}"
    )
    label_alias = "e" if not join else "l"
    label = _label_sql(expected, label_alias)
    bucket = f"hash(e.{key}, {SPLIT_SEED}) % 1000"
    sql = (
        f"SELECT e.{key} AS entity_id, {label} AS y, CASE WHEN {bucket} < {TRAIN_END} THEN 'train'"
        f" WHEN {bucket} < {VALID_END} THEN 'valid' ELSE 'test' END AS split"
        f" FROM {_q(expected.entity)} AS e{join}"
        f" WHERE {label_alias}.{_q(expected.target_column)} IS NOT NULL ORDER BY 1"
    )
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).df()


def entity_features(warehouse: Path, goal: CorpusGoal) -> pd.DataFrame:
    """The entity table's columns, keyed ``entity_id``, less key, target and peer_exclude."""
    e = goal.expect
    drop = {e.key, *goal.peer_exclude}
    if e.target_table == e.entity:
        drop.add(e.target_column)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        frame = conn.execute(f"SELECT * FROM {_q(e.entity)}").df()
    frame = frame.rename(columns={e.key: "entity_id"})
    return frame[["entity_id", *[c for c in frame.columns if c not in drop | {"entity_id"}]]]


def peer_frame(rows: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """rows (entity_id, y, split) with the features joined by entity id, sorted by id."""
    ids = rows["entity_id"].astype(str)
    y = rows["y"]
    if pd.api.types.is_bool_dtype(y) or pd.api.types.is_integer_dtype(y):
        y = y.astype("int64")
    elif pd.api.types.is_float_dtype(y):
        y = y.astype("float64")
    else:
        y = y.astype(str)
    base = pd.DataFrame({"entity_id": ids, "y": y.to_numpy(), "split": rows["split"].astype(str)})
    keyed = features.assign(entity_id=features["entity_id"].astype(str))
    frame = base.merge(keyed, on="entity_id", how="left", validate="1:1")
    return frame.sort_values("entity_id", kind="stable").reset_index(drop=True)


def data_key(frame: pd.DataFrame, task: str, optimise: str, peer: str, seconds: int) -> str:
    """sha256 of what a fit depends on: the frame's contents and the peer's settings."""
    digest = hashlib.sha256()
    settings = [peer, PEER_SETTINGS.get(peer), task, optimise, seconds, list(frame.columns)]
    digest.update(json.dumps(settings).encode())
    digest.update(json.dumps([str(t) for t in frame.dtypes]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


TASK_METRIC = {
    "binary_classification": "roc_auc",
    "multiclass_classification": "accuracy",
    "regression": "rmse",
}


def optimised_metric(expected: Expected) -> str:
    """What the peers optimise: the task's usual metric (ROC AUC, accuracy, RMSE), so goals on
    the same rows share one fit whatever their metric; each is then scored on the goal's."""
    return TASK_METRIC[expected.task]


def compared_metric(expected: Expected) -> str:
    """The metric peers and product are compared on: the goal's own when it needs no
    threshold, else ROC AUC (precision, recall, F1 and accuracy of a binary goal)."""
    if expected.task == "binary_classification":
        return "roc_auc"
    return expected.metric


class PeerCache:
    """bench/results/corpus_peers.json: data_key -> one peer's fit (predictions, seconds)."""

    def __init__(self, path: Path = CACHE_FILE) -> None:
        self.path = path
        self.entries: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def put(self, key: str, entry: dict[str, Any]) -> None:
        self.entries[key] = entry

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.partial")
        tmp.write_text(json.dumps(self.entries, sort_keys=True, separators=(",", ":")) + "\n")
        tmp.replace(self.path)


def fit_peers(
    frame: pd.DataFrame,
    task: str,
    optimise: str,
    peers: tuple[str, ...],
    cache: PeerCache,
    *,
    seconds: int = PEER_SECONDS,
    timeout: float = 900.0,
) -> dict[str, dict[str, Any]]:
    """Each peer's fit of ``frame``: from the cache, else fitted now in the peers' venv."""
    out: dict[str, dict[str, Any]] = {}
    keys = {p: data_key(frame, task, optimise, p, seconds) for p in peers}
    missing = []
    for peer in peers:
        hit = cache.get(keys[peer])
        if hit is not None and "error" not in hit:
            out[peer] = {**hit, "cached": True, "data_key": keys[peer]}
        else:
            missing.append(peer)
    if not missing:
        return out
    if not PEERS_PYTHON.exists():
        why = f"the peers' venv is missing ({PEERS_PYTHON}): make bench-corpus builds it"
        return {**out, **{p: {"error": why, "data_key": keys[p]} for p in missing}}
    with tempfile.TemporaryDirectory(prefix="corpus-peers-") as tmp:
        job = Path(tmp)
        with duckdb.connect() as conn:
            conn.register("frame_out", frame)
            conn.execute(f"COPY frame_out TO '{job / 'frame.parquet'}' (FORMAT parquet)")
        spec = {"task": task, "peers": missing, "seconds": seconds, "optimise": optimise}
        (job / "job.json").write_text(json.dumps(spec))
        try:
            done = subprocess.run(
                [str(PEERS_PYTHON), "-m", "bench.corpus.peer_fit", str(job)],
                # In the job's own folder: learners that write training logs (CatBoost's
                # catboost_info, say) write them there, never into the repository.
                cwd=job,
                env={**os.environ, "PYTHONPATH": str(BENCH.parent)},
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            results = json.loads((job / "result.json").read_text())
        except (subprocess.TimeoutExpired, OSError, ValueError) as error:
            tail = getattr(locals().get("done"), "stderr", "") or ""
            why = f"the peers' run failed: {type(error).__name__}: {error} {tail[-500:]}"
            return {**out, **{p: {"error": why, "data_key": keys[p]} for p in missing}}
    for peer in missing:
        entry = results[peer]
        if "error" not in entry:
            cache.put(keys[peer], entry)
        out[peer] = {**entry, "cached": False, "data_key": keys[peer]}
    return out


# -- metrics ---------------------------------------------------------------------------------


def _score(metric: str, y: np.ndarray, p: np.ndarray) -> float:
    from sklearn import metrics as m

    if metric == "roc_auc":
        return float(m.roc_auc_score(y, p)) if len(set(y.tolist())) == 2 else math.nan
    if metric == "accuracy":
        return float(m.accuracy_score(y, p))
    if metric == "macro_f1":
        return float(m.f1_score(y, p, average="macro"))
    if metric == "rmse":
        return float(np.sqrt(m.mean_squared_error(y, p)))
    if metric == "mae":
        return float(m.mean_absolute_error(y, p))
    if metric == "r2":
        return float(m.r2_score(y, p))
    raise ValueError(metric)


def measure(metric: str, y: np.ndarray, p: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """The metric on these rows with a seeded 95% bootstrap interval."""
    if len(y) == 0:
        return {"value": None, "n": 0}
    value = _score(metric, y, p)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(BOOTSTRAP):
        index = rng.integers(0, len(y), len(y))
        draw = _score(metric, y[index], p[index])
        if not math.isnan(draw):
            draws.append(draw)
    low, high = np.percentile(draws, [2.5, 97.5]) if draws else (math.nan, math.nan)
    return {"value": value, "low": float(low), "high": float(high), "n": len(y)}


def compared_metrics(expected: Expected) -> tuple[str, ...]:
    """What the peers are measured on: the compared metric, and the task's usual companions."""
    first = compared_metric(expected)
    usual = {
        "binary_classification": ("roc_auc",),
        "multiclass_classification": ("accuracy", "macro_f1"),
        "regression": ("rmse", "mae", "r2"),
    }[expected.task]
    return (first, *[m for m in usual if m != first])


def score_peer(
    fit: dict[str, Any], rows: pd.DataFrame, expected: Expected, cohort_ids: set[str] | None
) -> dict[str, Any]:
    """A fit's metrics on every test row and on the cohort's test rows."""
    if "predictions" not in fit:
        return {"error": fit.get("error", "no predictions")}
    test = rows[rows["split"] == "test"].assign(entity_id=lambda f: f["entity_id"].astype(str))
    test = test[test["entity_id"].isin(fit["predictions"].keys())]
    predicted = test["entity_id"].map(fit["predictions"])
    regression = expected.task == "regression"
    binary = expected.task == "binary_classification"
    y = test["y"].to_numpy(dtype=float if regression or binary else object)
    p = predicted.to_numpy(dtype=float if regression or binary else object)
    if not (regression or binary):
        y, p = y.astype(str), p.astype(str)
    scores: dict[str, Any] = {"seconds": fit.get("seconds"), "version": fit.get("version")}
    scores["cached"] = fit.get("cached")
    for metric in compared_metrics(expected):
        scores[metric] = {"all_test": measure(metric, y, p)}
        if cohort_ids is not None:
            inside = test["entity_id"].isin(cohort_ids).to_numpy()
            scores[metric]["cohort_test"] = measure(metric, y[inside], p[inside])
    return scores


def cohort_ids(warehouse: Path, expected: Expected) -> set[str] | None:
    if expected.cohort is None:
        return None
    sql = (
        f"SELECT CAST({_q(expected.key)} AS VARCHAR) FROM {_q(expected.entity)}"
        f" WHERE COALESCE(({expected.cohort.where}), FALSE)"
    )
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return {row[0] for row in conn.execute(sql).fetchall()}
