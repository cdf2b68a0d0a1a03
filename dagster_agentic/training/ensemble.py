"""The mean of several families' predictions, as one learner.

On small data the validation split that picks one family is a few dozen to a few hundred rows:
families within noise of each other are picked between by chance, and each makes errors the
others do not (trees cut the space in steps, the MLP and logistic regression draw smooth
boundaries). Averaging their outputs (class probabilities, P(positive) or values) keeps what
they agree on and cancels part of what they do not: cross-validated on the benchmark corpus'
small sets (bench/corpus), the mean matched or beat the best single family on five of six and
trailed it by under 1% on the sixth, a regression whose linear member was far behind. It is one
more candidate, compared like the others, so it is kept only where it scores better.

Parameters: ``members``, the families averaged (comma separated, each fitted with its own
defaults), and per member ``<family>__<parameter>`` overrides, e.g. ``lightgbm__num_leaves``
(a ModelSpec's parameters are flat). Members share the ensemble's deadline in turn; a member
that diverges is left out (and noted), one that fails to start on time too, as long as one
member remains.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from dagster_agentic.errors import DataError
from dagster_agentic.training.deadline import Deadline
from dagster_agentic.training.learners import (
    FitReport,
    Learner,
    TrainingDivergedError,
    class_indices,
    fit_report_scores,
    no_probabilities,
    saved_task,
    task_validation,
)
from dagster_agentic.training.spec import ENSEMBLE_DEFAULTS

META_FILE = "ensemble.json"
MEMBER_FAMILIES = ("lightgbm", "torch_mlp", "logistic")


def member_params(params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each member family's parameter overrides, from the flat ``<family>__<name>`` keys."""
    families = [f.strip() for f in str(params.get("members", "")).split(",") if f.strip()]
    unknown = sorted(set(families) - set(MEMBER_FAMILIES))
    if not families or unknown:
        raise DataError(
            f"an ensemble's members must be some of {list(MEMBER_FAMILIES)}, not {families}",
            fix="list member families, comma separated, in the ensemble's 'members' parameter",
        )
    out: dict[str, dict[str, Any]] = {family: {} for family in families}
    for key, value in params.items():
        if key == "members":
            continue
        family, sep, name = key.partition("__")
        if not sep or family not in out:
            raise DataError(
                f"ensemble parameter {key!r} names no member (members: {families})",
                fix="write member parameters as <family>__<parameter>, e.g. lightgbm__num_leaves",
            )
        out[family][name] = value
    return out


class EnsembleLearner:
    """Equal-weight mean of its members' outputs; each member is saved in its own folder."""

    family: ClassVar[str] = "ensemble"

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        max_seconds: float = 120.0,
        task: str = "binary_classification",
        n_classes: int = 2,
    ) -> None:
        self.params: dict[str, Any] = {**ENSEMBLE_DEFAULTS, **(params or {})}
        self.max_seconds = max_seconds
        self.task = task
        self.n_classes = n_classes
        self.feature_columns: list[str] = []
        self.members: list[Learner] = []

    def _member(self, family: str, params: dict[str, Any]) -> Learner:
        """A member with its family's defaults under ``params``; the ensemble's deadline share
        is what bounds its time."""
        from dagster_agentic.training.learners import make_learner
        from dagster_agentic.training.spec import ModelSpec

        spec = ModelSpec.model_validate(
            {"family": family, "params": params, "max_seconds": self.max_seconds}
        )
        return make_learner(spec, self.task, self.n_classes)

    def fit(
        self,
        X_train: pd.DataFrame,
        y_train: np.ndarray,
        X_valid: pd.DataFrame,
        y_valid: np.ndarray,
        *,
        seed: int,
        deadline: Deadline | None = None,
    ) -> FitReport:
        started = time.monotonic()
        deadline = (deadline or Deadline.never()).within(self.max_seconds)
        plan = member_params(self.params)
        self.feature_columns = [str(c) for c in X_train.columns]
        self.members = []
        notes: list[str] = []
        first_error: TrainingDivergedError | None = None
        for index, (family, params) in enumerate(plan.items()):
            if deadline.expired() and self.members:
                notes.append(f"{family} left out: the ensemble's time budget was spent")
                continue
            share = deadline.share(len(plan) - index)
            learner = self._member(family, params)
            try:
                learner.fit(X_train, y_train, X_valid, y_valid, seed=seed, deadline=share)
            except TrainingDivergedError as error:
                notes.append(f"{family} left out: {error.message}")
                first_error = first_error or error
                continue
            self.members.append(learner)
        if not self.members:
            if first_error is not None:
                raise first_error
            raise DataError("no member of the ensemble was trained", fix="raise the time budget")
        output = self._output(X_valid)
        return self._report(output, y_valid, notes, time.monotonic() - started)

    def compose(
        self, members: list[Learner], X_valid: pd.DataFrame, y_valid: np.ndarray
    ) -> FitReport:
        """Make the ensemble of ``members``, already fitted (as its own fit would have fitted
        them), and report its validation scores."""
        started = time.monotonic()
        self.members = list(members)
        self.feature_columns = list(members[0].feature_columns)
        return self._report(self._output(X_valid), y_valid, [], time.monotonic() - started)

    def _report(
        self, output: np.ndarray, y_valid: np.ndarray, notes: list[str], seconds: float
    ) -> FitReport:
        scores = task_validation(self.task, y_valid, output)
        return FitReport(
            family=self.family,
            params=dict(self.params),
            best_iteration=len(self.members),
            epochs=len(self.members),
            train_curve=[],
            valid_curve=[],
            fit_seconds=seconds,
            stop_reason="mean of " + ", ".join(m.family for m in self.members),
            notes=notes,
            **fit_report_scores(self.task, scores),
        )

    def _output(self, X: pd.DataFrame) -> np.ndarray:
        if not self.members:
            raise RuntimeError("EnsembleLearner used before fit or load")
        outputs = [
            np.asarray(
                m.predict(X) if self.task == "regression" else m.predict_proba(X), dtype="float64"
            )
            for m in self.members
        ]
        return np.asarray(np.mean(outputs, axis=0))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self.task == "regression":
            raise no_probabilities(self.family)
        return self._output(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Class indices (classification) or values in the target's unit (regression)."""
        output = self._output(X)
        return output if self.task == "regression" else class_indices(self.task, output)

    def save(self, dir: Path) -> None:
        from dagster_agentic.training.artifacts import save_learner

        if not self.members:
            raise RuntimeError("EnsembleLearner.save called before fit")
        dir = Path(dir)
        dir.mkdir(parents=True, exist_ok=True)
        for i, member in enumerate(self.members):
            save_learner(member, dir / f"member_{i}")
        meta = {
            "params": self.params,
            "max_seconds": self.max_seconds if math.isfinite(self.max_seconds) else None,
            "feature_columns": self.feature_columns,
            "members": [m.family for m in self.members],
            "task": self.task,
            "n_classes": self.n_classes,
        }
        (dir / META_FILE).write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, dir: Path) -> EnsembleLearner:
        from dagster_agentic.training.artifacts import load_learner

        dir = Path(dir)
        meta = json.loads((dir / META_FILE).read_text())
        task, n_classes = saved_task(meta)
        learner = cls(
            meta["params"],
            max_seconds=float(meta["max_seconds"] or math.inf),
            task=task,
            n_classes=n_classes,
        )
        learner.feature_columns = list(meta["feature_columns"])
        learner.members = [load_learner(dir / f"member_{i}") for i in range(len(meta["members"]))]
        return learner
