"""SHAP feature importance and a SHAP summary plot for a fitted learner.

Two ways to get SHAP values, picked by family:

* LightGBM: exact TreeSHAP. ``shap.TreeExplainer`` on the booster, which for a LightGBM
  booster hands the work to LightGBM's own ``pred_contrib`` (TreeSHAP in C++, categorical
  splits included). The booster scores the learner's ``model_frame`` (positional names,
  fixed category lists) whose column ``i`` is ``feature_columns[i]``, so the values map back
  one to one. Values are in log-odds: base value + a row's values = the raw score.
* Every other learner (torch_mlp, logistic): shap's model-agnostic Permutation explainer with
  an ``Independent`` masker over a background sample. shap masks numeric matrices, so rows are
  encoded first: numeric columns as float (timestamps as epoch seconds, as the learners see
  them), text columns as integer codes of their values with ``-1`` for missing. The
  prediction function decodes codes back to the strings before ``learner.predict_proba``,
  so the learner scores the same kind of frame it was trained on. Values are in probability
  units. One forward-and-backward permutation per row (exact for models with at most
  pairwise interactions) costs ``(2 * features + 1) * background`` model rows; a fixed
  budget of model rows is split between rows explained and background rows, so wide frames
  get fewer of both. The first permutation explanation in a process also pays a one-off
  few seconds while numba compiles shap's masking kernels.

Multiclass models have one SHAP value per row, feature and class (log-odds of each class's
softmax logit for LightGBM, each class's probability otherwise). A feature's importance is
then its mean |SHAP| over rows and classes, so a feature that only separates two rare classes
still counts; the values kept per row (for the plot) are those of the row's predicted class.
Regression models are explained in the target's unit (``output`` "value").

Importance is the mean absolute SHAP value per column; ``shares`` normalise it to sum to 1,
which makes families comparable although their units differ. Everything is deterministic
given ``seed``; numpy's global random state, which shap draws from, is restored afterwards.
"""

from __future__ import annotations

import math
import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dagster_agentic.errors import DataError
from dagster_agentic.training.preprocess import (
    category_values,
    is_numeric_column,
    numeric_values,
    ranked_categories,
    select_features,
)

if TYPE_CHECKING:
    from dagster_agentic.training.learners import Learner
    from dagster_agentic.training.lightgbm_learner import LightGBMLearner

# Permutation SHAP costs rows x background rows x (2 x features + 1) model evaluations. The
# budget is about 3 seconds of predict_proba on two cores for a 60-feature MLP or logistic
# regression; it is split evenly between rows and background for wide frames.
PERMUTATION_MODEL_ROWS = 300_000
BACKGROUND_ROWS = 100
PERMUTATION_MAX_ROWS = 300
PERMUTATION_MIN_ROWS = 25  # rows and background rows never go below this (beyond the budget)
MISSING_CODE = -1


@dataclass(frozen=True, eq=False)
class Explanation:
    """SHAP values of a sample of rows and the mean |SHAP| importance per feature column.

    ``values`` are in log-odds for ``tree_shap`` (LightGBM's raw score) and in probability
    units for ``permutation_shap``; ``output`` says which. ``base_value`` plus a row's values
    is the model's output for that row. ``data`` holds the explained rows numerically encoded
    (text columns as integer codes by falling frequency, missing as NaN) to colour the plot.
    """

    method: str  # "tree_shap" or "permutation_shap"
    columns: tuple[str, ...]  # the learner's feature columns, in its order
    values: np.ndarray  # (rows, features)
    data: pd.DataFrame  # (rows, features), numeric
    importance: dict[str, float]  # mean |SHAP| per column
    base_value: float = math.nan  # the expected model output the values are relative to
    output: str = ""  # "log_odds" or "probability"

    def shares(self) -> dict[str, float]:
        """Each column's share of the total importance (all 0 when the total is 0)."""
        total = float(sum(self.importance.values()))
        if total <= 0 or not math.isfinite(total):
            return {column: 0.0 for column in self.importance}
        return {column: value / total for column, value in self.importance.items()}

    def ranked(self) -> list[tuple[str, float]]:
        """Columns by importance, highest first; ties by name."""
        return sorted(self.importance.items(), key=lambda item: (-item[1], item[0]))

    def to_dict(self) -> dict[str, Any]:
        """A small JSON-serialisable summary (no per-row arrays)."""
        return {
            "method": self.method,
            "output": self.output,
            "rows": len(self.values),
            "base_value": self.base_value if math.isfinite(self.base_value) else None,
            "importance": dict(self.importance),
            "shares": self.shares(),
        }


def explain(
    learner: Learner, X: pd.DataFrame, *, max_rows: int = 1000, seed: int = 0
) -> Explanation:
    """SHAP values of ``learner`` on (a deterministic sample of at most ``max_rows`` of) ``X``.

    LightGBM gets exact TreeSHAP; other learners permutation SHAP, which explains at most
    ``PERMUTATION_MAX_ROWS`` rows, fewer for wide frames (see the module docstring).
    """
    from dagster_agentic.training.lightgbm_learner import LightGBMLearner

    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, not {max_rows}")
    columns = list(learner.feature_columns)
    if not columns:
        raise DataError(
            f"the {learner.family} learner has no feature columns to explain",
            fix="fit or load the learner before explaining it",
        )
    if len(X) == 0:
        raise DataError(
            "cannot explain a model on an empty feature frame (0 rows)",
            fix="pass the rows to explain, e.g. the validation or scoring features",
        )
    frame = select_features(X, columns).reset_index(drop=True)
    task = getattr(learner, "task", "binary_classification")
    if isinstance(learner, LightGBMLearner):
        rows = _sample(frame, max_rows, seed)
        codec = _Codec.fit(rows)
        raw, base = _tree_shap(learner, rows)
        method, output = "tree_shap", "log_odds"
    else:
        # An ensemble scores each model row once per member: the same time buys fewer rows.
        members = max(1, len(getattr(learner, "members", ())))
        n_rows, n_background = _permutation_design(
            len(columns), len(frame), max_rows, PERMUTATION_MODEL_ROWS // members
        )
        rows = _sample(frame, n_rows, seed)
        background = _sample(frame, n_background, seed + 1)
        codec = _Codec.fit(pd.concat([rows, background], ignore_index=True))
        raw, base = _permutation_shap(learner, codec, rows, background, seed)
        method, output = "permutation_shap", "probability"
    if task == "regression":
        output = "value"
    values, importance = _per_row_values(learner, rows, raw)
    return Explanation(
        method=method,
        columns=tuple(columns),
        values=values,
        data=codec.plot_frame(rows),
        importance={c: float(v) for c, v in zip(columns, importance, strict=True)},
        base_value=base,
        output=output,
    )


def valueless_features(explanation: Explanation, *, min_share: float = 0.002) -> tuple[str, ...]:
    """Columns whose share of the total importance is below ``min_share``, sorted by name.

    The most important column is never included, so the result is never every column.
    """
    shares = explanation.shares()
    low = {column for column, share in shares.items() if share < min_share}
    if low and len(low) == len(shares):
        low.discard(explanation.ranked()[0][0])
    return tuple(sorted(low))


def save_summary_plot(explanation: Explanation, path: Path, *, max_display: int = 20) -> Path:
    """Write shap's beeswarm summary plot of ``explanation`` to ``path`` as a PNG.

    Drawn on a standalone Agg figure (pyplot's global state is left alone), written to a
    temporary file beside ``path`` and moved into place, so readers never see half a file.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shap = _import_shap()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = min(len(explanation.columns), max_display)
    figure = Figure(figsize=(8.0, 0.4 * shown + 1.5))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    unit = "log-odds" if explanation.output == "log_odds" else explanation.output or "output"
    shap_values = shap.Explanation(
        values=explanation.values,
        base_values=np.full(len(explanation.values), explanation.base_value),
        data=explanation.data.to_numpy(dtype="float64", na_value=np.nan),
        feature_names=list(explanation.columns),
    )
    # A unique name beside the target (not mkstemp, whose 0600 mode would survive the rename).
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with _quiet(), _numpy_global_seed(0):  # the beeswarm jitters points with np.random
            shap.plots.beeswarm(
                shap_values, max_display=max_display, ax=axes, show=False, plot_size=None
            )
            axes.set_xlabel(f"SHAP value (impact on {unit}; {explanation.method})")
            figure.tight_layout()
            figure.savefig(temporary, format="png", dpi=100)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        figure.clear()
    return path


# --- helpers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Codec:
    """Numeric encoding of a feature frame: floats, or integer codes for text columns."""

    columns: list[str]
    levels: dict[str, np.ndarray]  # text column -> its values by falling frequency, then None

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> _Codec:
        levels = {
            column: np.array([*ranked_categories(frame[column], len(frame)), None], dtype=object)
            for column in frame.columns
            if not is_numeric_column(frame[column])
        }
        return cls(columns=[str(c) for c in frame.columns], levels=levels)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """A float64 matrix; text becomes level codes with ``MISSING_CODE`` for NULL."""
        blocks = []
        for column in self.columns:
            if column in self.levels:
                categories = list(self.levels[column][:-1])
                codes = pd.Categorical(category_values(frame[column]), categories=categories).codes
                blocks.append(codes.astype("float64"))  # -1 (missing) is MISSING_CODE
            else:
                blocks.append(numeric_values(frame[column]))
        return np.column_stack(blocks)

    def decode(self, matrix: np.ndarray) -> pd.DataFrame:
        """The frame a learner scores: codes back to their strings (None for missing)."""
        data: dict[str, Any] = {}
        for i, column in enumerate(self.columns):
            if column in self.levels:
                # MISSING_CODE (-1) picks the trailing None.
                data[column] = self.levels[column][matrix[:, i].astype(np.int64)]
            else:
                data[column] = matrix[:, i]
        return pd.DataFrame(data)

    def plot_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The encoding as a frame, with missing text as NaN so the plot greys it out."""
        matrix = self.encode(frame)
        for i, column in enumerate(self.columns):
            if column in self.levels:
                matrix[matrix[:, i] == MISSING_CODE, i] = np.nan
        return pd.DataFrame(matrix, columns=self.columns)


def _sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """At most ``n`` rows, drawn without replacement, kept in their original order."""
    if len(frame) <= n:
        return frame
    rows = np.sort(np.random.default_rng(seed).choice(len(frame), size=n, replace=False))
    return frame.iloc[rows].reset_index(drop=True)


def _per_row_values(
    learner: Learner, rows: pd.DataFrame, raw: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, features) values and the mean |SHAP| per feature.

    For (rows, features, classes) values: importance averaged over rows and classes, and
    each row's values for its predicted class.
    """
    if raw.ndim == 2:
        return raw, np.abs(raw).mean(axis=0)
    predicted = np.asarray(learner.predict(rows)).astype(np.int64)
    values = raw[np.arange(len(raw)), :, predicted]
    return values, np.abs(raw).mean(axis=(0, 2))


def _model_output(learner: Learner) -> Any:
    """What SHAP explains: P(positive), the class probabilities or the regression value."""
    if getattr(learner, "task", "binary_classification") == "regression":
        return learner.predict
    return learner.predict_proba


def _permutation_design(
    n_features: int, n_available: int, max_rows: int, model_rows: int = PERMUTATION_MODEL_ROWS
) -> tuple[int, int]:
    """Rows to explain and background rows, spending about ``model_rows`` model rows."""
    pairs = model_rows // (2 * n_features + 1)  # (row, background row) pairs
    background = min(BACKGROUND_ROWS, n_available, max(PERMUTATION_MIN_ROWS, math.isqrt(pairs)))
    rows = min(max_rows, PERMUTATION_MAX_ROWS, max(PERMUTATION_MIN_ROWS, pairs // background))
    return rows, background


def _tree_shap(learner: LightGBMLearner, rows: pd.DataFrame) -> tuple[np.ndarray, float]:
    """Exact TreeSHAP (log-odds) through shap, which defers to LightGBM's pred_contrib."""
    shap = _import_shap()
    with _quiet():
        explainer = shap.TreeExplainer(learner.booster)
        values = explainer.shap_values(learner.model_frame(rows), tree_limit=learner.best_iteration)
    expected = np.ravel(explainer.expected_value)
    if isinstance(values, list):  # older shap: one (rows, features) array per class
        values = np.stack(values, axis=-1)
    array = np.asarray(values, dtype="float64")
    if learner.task == "multiclass_classification" and array.ndim == 2:
        array = array.reshape(len(rows), -1, learner.n_classes)
    return array, float(expected.mean() if array.ndim == 3 else expected[0])


def _permutation_shap(
    learner: Learner, codec: _Codec, rows: pd.DataFrame, background: pd.DataFrame, seed: int
) -> tuple[np.ndarray, float]:
    """Permutation SHAP (probabilities) over an independent background sample."""
    shap = _import_shap()

    model_output = _model_output(learner)

    def predict(matrix: np.ndarray) -> np.ndarray:
        return np.asarray(model_output(codec.decode(matrix)))

    width = 2 * len(codec.columns) + 1  # one forward-and-backward permutation
    reference = codec.encode(background)
    classes = getattr(learner, "n_classes", 2)
    multiclass = getattr(learner, "task", "") == "multiclass_classification"
    shape = (
        (len(rows), len(codec.columns), classes) if multiclass else (len(rows), len(codec.columns))
    )
    values = np.zeros(shape)
    base = math.nan
    with _quiet(), _numpy_global_seed(seed):
        masker = shap.maskers.Independent(reference, max_samples=len(reference))
        explainer = shap.explainers.Permutation(predict, masker, seed=seed)
        # Row by row rather than ``explainer(matrix)``: shap 0.51's __call__ reuses its
        # ``main_effects`` argument as a list, which turns main-effect evaluation on (and
        # doubles the cost) from the second row on.
        for i, row in enumerate(codec.encode(rows)):
            result = explainer.explain_row(
                row,
                max_evals=width,
                main_effects=False,
                error_bounds=False,
                batch_size=width,
                outputs=None,
                silent=True,
            )
            row_values = np.asarray(result["values"])
            values[i] = row_values.reshape(shape[1:]) if multiclass else np.ravel(row_values)
            expected = np.ravel(result["expected_values"])
            base = float(expected.mean() if multiclass else expected[0])
    return values, base


def _import_shap() -> Any:
    """shap, imported on first use (it pulls in matplotlib and numba) without its warnings,
    with its masking kernels compiled once per machine rather than once per process."""
    with _quiet():
        import shap

        _cache_kernels()
    return shap


_KERNEL_MODULES = ("shap.maskers._tabular",)
"""The modules whose kernels are cached: the tabular masker's, most of the compile time. The
masked model's kernels take shap's link function, a new numba type in every process, so a
cache of theirs would never be hit and would only grow."""
_CACHED: set[Any] = set()


def _cache_kernels() -> None:
    """Turn on numba's on-disk cache for shap's jitted masking kernels, which shap declares
    without ``cache=True``: every run process (a Dagster run worker, the CLI) would otherwise
    compile them again, several seconds each time. numba keeps the cache beside the module or
    in the user's cache directory; where neither can be written the kernels compile as before."""
    import importlib

    from numba.core.registry import CPUDispatcher

    for name in _KERNEL_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # another shap layout: nothing to cache
            continue
        for kernel in vars(module).values():
            if isinstance(kernel, CPUDispatcher) and kernel not in _CACHED:
                try:
                    kernel.enable_caching()
                except RuntimeError:  # no cache locator can be written here
                    return
                _CACHED.add(kernel)


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence shap's, numba's and matplotlib's warnings (pytest turns warnings into errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def _numpy_global_seed(seed: int) -> Iterator[None]:
    """Seed numpy's global generator (shap draws from it) and restore its state afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
