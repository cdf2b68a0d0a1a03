"""Validate the training data, fit every candidate and keep the best on validation."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dagster_agentic.errors import DataError, GuardrailError
from dagster_agentic.training.deadline import Deadline
from dagster_agentic.training.learners import (
    FitReport,
    Learner,
    TrainingDivergedError,
    make_learner,
    task_validation,
)
from dagster_agentic.training.preprocess import is_numeric_column, numeric_values
from dagster_agentic.training.spec import ModelSpec, TrainingSpec

log = logging.getLogger(__name__)


@dataclass
class PreparedData:
    """Checked training and validation data, with notes on what was changed."""

    X_train: pd.DataFrame
    y_train: np.ndarray
    X_valid: pd.DataFrame
    y_valid: np.ndarray
    notes: list[str] = field(default_factory=list)


def fit_best(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    spec: TrainingSpec,
    *,
    deadline: Deadline | None = None,
) -> tuple[Learner, list[FitReport]]:
    """Fit ``spec.candidates`` in order; return the best learner and every report.

    A candidate that diverges is reported (``FitReport.error``) and skipped; if all of them
    fail, the first failure is raised. ``deadline`` bounds the whole call, the data checks
    included: each candidate gets an equal share of the time that remains (and at most its
    own ``max_seconds``), keeps what it learnt when its share runs out
    (``FitReport.stopped_by_budget``), and is not started once the deadline has passed. If
    that leaves no model at all, :class:`GuardrailError` (rule ``budget.train_seconds``).

    On very small data (fewer than :data:`SELECTION_CV_MAX_ROWS` train and valid rows) candidates
    are compared by cross-validation over the train and valid rows instead of on the
    validation split alone (:func:`cross_validated_scores`); the kept model is still the one
    fitted on the train split and early-stopped on the valid split.
    """
    data = prepare_training_data(
        X_train, y_train, X_valid, y_valid, task=spec.task, n_classes=spec.n_classes
    )
    chosen = spec.validation_metric
    first_error: TrainingDivergedError | None = None
    starved = False  # a candidate was not started: the deadline had passed
    # Ensembles after the families they average, which they then reuse (``_composed``); the
    # reports stay in the spec's order, and so does the preference on a tie.
    order = sorted(range(len(spec.candidates)), key=lambda i: _is_ensemble(spec.candidates[i]))
    done: dict[int, tuple[FitReport, Learner | None]] = {}
    for step, index in enumerate(order):
        candidate = spec.candidates[index]
        composed = _composed(candidate, spec, done, data)
        if composed is not None:
            done[index] = composed
            continue
        if deadline is not None and deadline.expired():
            done[index] = (_not_started_report(candidate, deadline, spec.task), None)
            starved = True
            continue
        # Shares among the fits still to come: an ensemble of fitted members costs nothing.
        left = sum(1 for i in order[step:] if not _is_ensemble(spec.candidates[i])) or 1
        share = deadline.share(left) if deadline is not None else None
        learner = make_learner(candidate, spec.task, spec.n_classes)
        started = time.monotonic()
        try:
            report = learner.fit(
                data.X_train,
                data.y_train,
                data.X_valid,
                data.y_valid,
                seed=spec.seed,
                deadline=share,
            )
        except TrainingDivergedError as error:
            log.warning("candidate %s failed: %s", candidate.family, error.message)
            first_error = first_error or error
            failed = _failed_report(candidate, error, time.monotonic() - started, spec.task)
            done[index] = (failed, None)
            continue
        report.notes[:0] = data.notes
        done[index] = (report, learner)
    slots = [done[i] for i in range(len(spec.candidates))]
    reports = [report for report, _ in slots]
    fitted = [
        (candidate, report, learner)
        for candidate, (report, learner) in zip(spec.candidates, slots, strict=True)
        if learner is not None
    ]
    if len(fitted) > 1 and len(data.y_train) + len(data.y_valid) < SELECTION_CV_MAX_ROWS:
        scores = cross_validated_scores(data, spec, [(c, r) for c, r, _ in fitted], deadline)
        for (_, report, _), cv in zip(fitted, scores, strict=True):
            report.cv_scores = cv
    best: tuple[float, Learner] | None = None
    for _, report, learner in fitted:
        value = report.selection_value(chosen)
        # Strictly better only: on a tie the earlier (preferred) candidate stays.
        if math.isfinite(value) and (best is None or value > best[0]):
            best = (value, learner)
    if best is None:
        if deadline is not None and starved:
            raise _budget_spent(reports, deadline)
        if first_error is not None:
            raise first_error
        raise DataError(
            f"no candidate produced a finite validation {chosen}",
            fix="check the validation split has both classes and the features are not constant"
            if spec.task == "binary_classification"
            else "check the validation split has rows and the features are not constant",
        )
    return best[1], reports


SELECTION_CV_MAX_ROWS = 1_000
"""Fewer train and valid rows than this: candidates are compared by cross-validation. A valid
split of a few dozen to a hundred-odd rows scores families within noise of each other, and
picks between them by chance; pooled out-of-fold scores rest on every train and valid row.
Beyond it the valid split has a few hundred rows and the k refits of every candidate would
cost more than they tell."""
SELECTION_CV_FOLDS = 5


def cross_validated_scores(
    data: PreparedData,
    spec: TrainingSpec,
    fitted: list[tuple[ModelSpec, FitReport]],
    deadline: Deadline | None,
) -> list[dict[str, float]]:
    """Every fitted candidate's validation scores of its pooled out-of-fold predictions over
    the train and valid rows (``SELECTION_CV_FOLDS`` folds, each early-stopped on the next).

    An ensemble whose members are candidates too is scored on the mean of their out-of-fold
    outputs: the same folds, seeds and parameters give the very predictions a refit would.
    All or nothing: if the time budget (half of what remains, the rest is the evaluation's)
    or a fold keeps one candidate from being cross-validated, every candidate is compared on
    the validation split, as on large data, and the report says why.
    """
    from dagster_agentic.training.cross_validation import cross_validate
    from dagster_agentic.training.ensemble import member_params

    X = pd.concat([data.X_train, data.X_valid], ignore_index=True)
    y = np.concatenate([data.y_train, data.y_valid])
    rows = np.arange(len(y))  # one row per entity here: the rows are the groups
    budget = deadline.share(2) if deadline is not None else None
    reports = [report for _, report in fitted]
    # Members before the ensembles that average them.
    order = sorted(range(len(fitted)), key=lambda i: fitted[i][0].family == "ensemble")
    outputs: dict[int, np.ndarray] = {}
    for done, index in enumerate(order):
        candidate = fitted[index][0]
        if candidate.family == "ensemble":
            wanted = member_params(candidate.params).items()
            members = [
                i
                for family, params in wanted
                for i in outputs
                if fitted[i][0].family == family and fitted[i][0].params == params
            ]
            if len(members) == len(wanted):
                outputs[index] = np.mean([outputs[i] for i in members], axis=0)
                continue
        result = cross_validate(
            X,
            y,
            rows,
            candidate,
            task=spec.task,
            n_classes=spec.n_classes,
            seed=spec.seed,
            reason="comparing candidates on small data",
            deadline=budget.share(len(order) - done) if budget is not None else None,
            folds=SELECTION_CV_FOLDS,
        )
        if not result.used:
            note = f"candidates compared on the validation split: {result.reason}"
            for each in reports:
                each.notes.append(note)
            return [{} for _ in reports]
        outputs[index] = result.output
    for report in reports:
        report.notes.append(
            f"candidates compared by {SELECTION_CV_FOLDS}-fold cross-validation over"
            f" {len(y):,} train and valid rows"
        )
    return [task_validation(spec.task, y, outputs[i]) for i in range(len(fitted))]


def _is_ensemble(candidate: ModelSpec) -> bool:
    return candidate.family == "ensemble"


def _composed(
    candidate: ModelSpec,
    spec: TrainingSpec,
    done: dict[int, tuple[FitReport, Learner | None]],
    data: PreparedData,
) -> tuple[FitReport, Learner] | None:
    """The ensemble ``candidate`` made of candidates already fitted with its members' very
    parameters (the same data and seed: a refit would give the same models), or None when
    one of its members is not among them."""
    if not _is_ensemble(candidate):
        return None
    from dagster_agentic.training.ensemble import EnsembleLearner, member_params

    members: list[Learner] = []
    for family, params in member_params(candidate.params).items():
        match = next(
            (
                learner
                for i, (_, learner) in done.items()
                if learner is not None
                and spec.candidates[i].family == family
                and spec.candidates[i].params == params
            ),
            None,
        )
        if match is None:
            return None
        members.append(match)
    ensemble = EnsembleLearner(
        candidate.resolved_params(),
        max_seconds=candidate.max_seconds,
        task=spec.task,
        n_classes=spec.n_classes,
    )
    report = ensemble.compose(members, data.X_valid, data.y_valid)
    report.notes[:0] = data.notes
    return report, ensemble


def _not_started_report(
    candidate: ModelSpec, deadline: Deadline, task: str = "binary_classification"
) -> FitReport:
    """The report of a candidate the deadline kept from starting."""
    return FitReport(
        family=candidate.family,
        params=candidate.resolved_params(),
        best_iteration=0,
        epochs=0,
        train_curve=[],
        valid_curve=[],
        valid_average_precision=math.nan,
        valid_roc_auc=math.nan,
        fit_seconds=0.0,
        stop_reason="not started: time budget spent",
        error=f"the training time budget of {deadline.seconds:g}s was spent before it started",
        stopped_by_budget=True,
        task=task,
    )


def _budget_spent(reports: list[FitReport], deadline: Deadline) -> GuardrailError:
    """The refusal when the time budget ran out before any candidate gave a model."""
    outcomes = ", ".join(f"{r.family}: {r.stop_reason}" for r in reports)
    return GuardrailError(
        f"no model was trained within the training time budget of {deadline.seconds:g}s "
        f"({outcomes})",
        rule="budget.train_seconds",
        fix=f"raise the goal's budget.max_train_seconds (now {deadline.seconds:g}), or train "
        "on fewer rows (training_set.max_train_rows) or features",
    )


def _failed_report(
    candidate: ModelSpec,
    error: TrainingDivergedError,
    seconds: float,
    task: str = "binary_classification",
) -> FitReport:
    """The report of a diverged candidate, with the loss curves up to the failure."""
    return FitReport(
        family=candidate.family,
        params=error.params or candidate.resolved_params(),
        best_iteration=0,
        epochs=error.epoch,
        train_curve=list(error.train_curve),
        valid_curve=list(error.valid_curve),
        valid_average_precision=math.nan,
        valid_roc_auc=math.nan,
        fit_seconds=seconds,
        stop_reason="diverged",
        error=str(error),
        task=task,
    )


def prepare_training_data(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    task: str = "binary_classification",
    n_classes: int = 2,
) -> PreparedData:
    """Check shapes, labels and features; drop all-NULL feature columns with a note."""
    if task == "binary_classification":
        y_tr = _labels(y_train, X_train, "training")
        y_va = _labels(y_valid, X_valid, "validation")
    else:
        y_tr = task_labels(y_train, X_train, "training", task, n_classes)
        y_va = task_labels(y_valid, X_valid, "validation", task, n_classes, training=False)
    if X_train.shape[1] == 0:
        raise DataError(
            "the feature frame has no columns",
            fix="select at least one feature column besides the key and the label",
        )
    duplicated = sorted({str(c) for c in X_train.columns[X_train.columns.duplicated()]})
    if duplicated:
        raise DataError(
            f"feature column name(s) appear more than once: {duplicated}",
            fix="alias the columns so every feature has a unique name",
        )
    missing = [c for c in X_train.columns if c not in X_valid.columns]
    if missing:
        raise DataError(
            f"the validation frame lacks feature column(s) {missing[:10]}",
            fix="build the validation features with the same SQL as the training features",
        )
    empty = [c for c in X_train.columns if X_train[c].isna().all()]
    notes: list[str] = []
    if empty:
        if len(empty) == X_train.shape[1]:
            raise DataError(
                f"every feature column is NULL in all {len(X_train):,} training rows",
                fix="check the feature joins: a key mismatch leaves all features NULL",
            )
        notes.append(
            f"dropped {len(empty)} feature column(s) that are NULL in every training row: "
            f"{[str(c) for c in empty]}"
        )
        log.info(notes[-1])
    kept = [c for c in X_train.columns if c not in empty]
    X_tr, X_va = X_train.loc[:, kept], X_valid.loc[:, kept]
    _check_infinite(X_tr, "training")
    _check_infinite(X_va, "validation")
    return PreparedData(X_tr, y_tr, X_va, y_va, notes)


def _labels(y: np.ndarray, X: pd.DataFrame, split: str) -> np.ndarray:
    """The labels as 0/1 int, checked against the frame and for both classes."""
    values = np.asarray(y)
    _shape_checks(values, X, split)
    numeric = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64")
    if np.isnan(numeric).any() or not np.isin(numeric, (0.0, 1.0)).all():
        bad = pd.Series(values)[~np.isin(numeric, (0.0, 1.0))].unique()[:5]
        raise DataError(
            f"the {split} target has values other than 0 and 1 (e.g. {list(bad)})",
            fix="map the label to 0/1 with the objective's positive value and drop NULL labels",
        )
    labels = numeric.astype(int)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise DataError(
            f"the target column has only one class ({classes[0]}) in {len(labels):,} {split} rows",
            fix="check the label or the cohort filter",
        )
    return labels


def task_labels(
    y: np.ndarray,
    X: pd.DataFrame,
    split: str,
    task: str,
    n_classes: int,
    *,
    training: bool = True,
) -> np.ndarray:
    """Multiclass labels as class indices 0..n_classes-1, regression targets as finite
    float64; the training split needs two classes (multiclass) or a varying target."""
    values = np.asarray(y)
    _shape_checks(values, X, split)
    numeric = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64")
    if task == "regression":
        bad = ~np.isfinite(numeric)
        if bad.any():
            raise DataError(
                f"{int(bad.sum()):,} {split} target values are NULL, NaN or infinite"
                f" (e.g. {list(pd.Series(values)[bad].unique()[:5])})",
                fix="drop rows with a NULL target in the training set SQL",
            )
        if training and np.ptp(numeric) == 0:
            raise DataError(
                f"the target is constant ({numeric[0]:g}) in all {len(numeric):,} {split} rows",
                fix="check the target column or the cohort filter: nothing varies to be learnt",
            )
        return numeric
    valid = np.isfinite(numeric) & (numeric == np.round(numeric))
    valid &= (numeric >= 0) & (numeric < n_classes)
    if not valid.all():
        bad_values = list(pd.Series(values)[~valid].unique()[:5])
        raise DataError(
            f"the {split} target has values that are not class indices 0..{n_classes - 1}"
            f" (e.g. {bad_values})",
            fix="encode the label as the index of its value in the objective's classes and"
            " leave out rows whose value is not one of them",
        )
    labels = numeric.astype(int)
    if training and len(np.unique(labels)) < 2:
        raise DataError(
            f"the target column has only one class ({labels[0]}) in {len(labels):,} {split} rows",
            fix="check the label or the cohort filter",
        )
    return labels


def _shape_checks(values: np.ndarray, X: pd.DataFrame, split: str) -> None:
    if values.ndim != 1:
        raise DataError(
            f"the {split} labels must be one-dimensional, got shape {values.shape}",
            fix="pass the target column as a 1-D array",
        )
    if len(values) != len(X):
        raise DataError(
            f"the {split} labels have {len(values):,} rows but the features have {len(X):,}",
            fix="build the features and labels from the same rows, in the same order",
        )
    if len(values) == 0:
        raise DataError(
            f"the {split} set is empty",
            fix="check the cohort filter and the split: no rows reached training",
        )


def _check_infinite(X: pd.DataFrame, split: str) -> None:
    bad: dict[str, int] = {}
    for column in X.columns:
        if is_numeric_column(X[column]):
            count = int(np.isinf(numeric_values(X[column])).sum())
            if count:
                bad[str(column)] = count
    if bad:
        raise DataError(
            f"infinite values in {split} feature column(s) {bad} (column: count)",
            fix="guard divisions in the feature SQL, e.g. x / NULLIF(y, 0)",
        )
