"""Turning a feature frame into model inputs, with every choice fixed at fit time.

Numeric columns stay numeric; every other column (text, categories, mixed objects) is treated
as categorical. The kinds, category lists and scaling statistics are learnt on the training
frame and stored as JSON, so scoring in another process encodes rows identically.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from dagster_agentic.errors import DataError


def is_numeric_column(series: pd.Series) -> bool:
    """Numbers, booleans and timestamps are numeric; everything else is categorical."""
    return bool(
        ptypes.is_numeric_dtype(series)
        or ptypes.is_bool_dtype(series)
        or ptypes.is_datetime64_any_dtype(series)
        or ptypes.is_timedelta64_dtype(series)
    )


def numeric_values(series: pd.Series) -> np.ndarray:
    """The column as float64, NULL -> NaN; timestamps become seconds since the epoch."""
    # Arithmetic rather than casts, so any datetime resolution (ns, us, s) and NaT work.
    if ptypes.is_datetime64_any_dtype(series):
        stamps = pd.to_datetime(series, utc=True)
        seconds = (stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
        return seconds.to_numpy(dtype="float64", na_value=np.nan)
    if ptypes.is_timedelta64_dtype(series):
        ratio = series / pd.Timedelta(seconds=1)  # type: ignore[operator]
        return ratio.to_numpy(dtype="float64", na_value=np.nan)
    if ptypes.is_numeric_dtype(series) or ptypes.is_bool_dtype(series):
        return series.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
    # A column that was numeric at fit time may arrive as text; unparseable values are NULL.
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def category_values(series: pd.Series) -> pd.Series:
    """The column as strings with NULLs kept as missing, so 'DE' matches 'DE' across runs."""
    return series.astype("string")


def ranked_categories(series: pd.Series, limit: int) -> list[str]:
    """The ``limit`` most frequent values, ties broken alphabetically for determinism."""
    counts = category_values(series).value_counts(dropna=True)
    ranked = sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0])))
    return [str(value) for value, _ in ranked[:limit]]


def select_features(X: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The learnt columns of ``X`` in training order; extra columns are ignored."""
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise DataError(
            f"the scoring frame lacks {len(missing)} feature column(s) the model was trained on: "
            f"{missing[:10]}",
            fix="build scoring features with the same feature SQL as the training features",
        )
    return X.loc[:, columns]


@dataclass
class TabularEncoder:
    """Standardised numerics with missing indicators, plus one-hot top categories."""

    columns: list[str]
    numeric: list[str]
    means: list[float]
    stds: list[float]
    with_indicator: list[str]  # numeric columns that had NULLs in training
    categories: dict[str, list[str]]

    @classmethod
    def fit(cls, X: pd.DataFrame, *, top_categories: int) -> TabularEncoder:
        """Learn kinds, scaling and category lists from the training frame."""
        numeric = [c for c in X.columns if is_numeric_column(X[c])]
        means: list[float] = []
        stds: list[float] = []
        with_indicator: list[str] = []
        for column in numeric:
            values = numeric_values(X[column])
            # Statistics over finite values only: infinities are left for training to reveal.
            finite = values[np.isfinite(values)]
            mean = float(finite.mean()) if finite.size else 0.0
            std = float(finite.std()) if finite.size else 0.0
            means.append(mean)
            stds.append(std if std > 1e-12 else 1.0)
            if np.isnan(values).any():
                with_indicator.append(column)
        categories = {
            str(c): ranked_categories(X[c], top_categories) for c in X.columns if c not in numeric
        }
        return cls(
            columns=[str(c) for c in X.columns],
            numeric=[str(c) for c in numeric],
            means=means,
            stds=stds,
            with_indicator=with_indicator,
            categories=categories,
        )

    @property
    def n_outputs(self) -> int:
        return (
            len(self.numeric)
            + len(self.with_indicator)
            + sum(len(v) for v in self.categories.values())
        )

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """A float32 matrix; NULL numerics become 0 (the mean), unseen categories all-zero."""
        frame = select_features(X, self.columns)
        # Filled column by column in place, without a float64 copy of the whole matrix: on
        # large frames the encoding counts against the training time budget.
        out = np.empty((len(frame), self.n_outputs), dtype=np.float32, order="F")
        j = 0
        for column, mean, std in zip(self.numeric, self.means, self.stds, strict=True):
            scaled = (numeric_values(frame[column]) - mean) / std
            out[:, j] = np.where(np.isnan(scaled), 0.0, scaled)
            j += 1
        for column in self.with_indicator:
            out[:, j] = frame[column].isna().to_numpy()
            j += 1
        for column, levels in self.categories.items():
            # Integer codes once per column, then one comparison per level: comparing the
            # strings for every level took most of the encoding time.
            codes = pd.Categorical(category_values(frame[column]), categories=levels).codes
            for i in range(len(levels)):
                out[:, j] = codes == i
                j += 1
        return np.ascontiguousarray(out)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TabularEncoder:
        return cls(**data)
