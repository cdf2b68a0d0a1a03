"""Expectations on the training matrix, validated with Great Expectations on the fetched frame.

The training matrix is the one table that leaves the warehouse: a bounded pandas frame whose
bytes are already counted. Validating it in memory moves no further data, and Great Expectations'
pandas datasource works offline, whereas its SQL datasource fails on DuckDB; raw tables are
therefore checked by SQL inside the warehouse (:mod:`dagster_agentic.expectations.validate`)
and the training matrix here, after it is fetched and before a model is fitted on it.

Every expectation of one validation carries the name of the check it belongs to; a few checks
(each a Dagster asset check) combine several expectations, so the number of checks stays small
and is known from the plan alone, before any data is read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dagster_agentic.expectations import label_checks
from dagster_agentic.expectations.gx_frame import great_expectations, plain, run_expectations
from dagster_agentic.expectations.label_checks import (
    LABEL_RATE_FACTOR,
    NAMES,
    QUANTILES,
    Evaluated,
    LabelContext,
    Summary,
    unevaluated,
)
from dagster_agentic.plan.models import Plan

COLUMNS = "training_set__columns"
LABEL = NAMES["binary_classification"].label
SPLITS = "training_set__splits"
TRAIN_CLASSES = NAMES["binary_classification"].train_classes
UNIQUE_ROWS = "training_set__unique_entity_cutoff"
ROW_COUNT = "training_set__row_count"
FEATURE_NULLS = "training_set__feature_nulls"
LABEL_RATE = NAMES["binary_classification"].drift
COHORT = "training_set__cohort_in_each_split"
"""Each check's name; the three label checks are named per task (``label_checks.NAMES``),
these are the binary names, which also key the checks internally."""
_CHECKS: tuple[tuple[str, bool], ...] = (
    (COLUMNS, True),
    (LABEL, True),
    (SPLITS, True),
    (TRAIN_CLASSES, True),
    (UNIQUE_ROWS, True),
    (ROW_COUNT, True),
    (COHORT, True),
    (FEATURE_NULLS, False),
    (LABEL_RATE, False),
)

KEY_COLUMNS = ("entity_id", "cutoff_at")
BASE_COLUMNS = (*KEY_COLUMNS, "label", "split", "in_cohort")
SPLIT_NAMES = ("train", "valid", "test")
"""The values of ``split``, as the training set model writes them."""
ROW_RATIO = (0.5, 2.0)
"""Rows allowed, as multiples of the reference's: fewer or more is a broken build, not drift."""
NULL_DRIFT, MAX_NULL_FRACTION = 0.2, 0.95
"""A feature may be at most ``NULL_DRIFT`` more null than in the reference, and never more than
``MAX_NULL_FRACTION`` null: a feature that is almost all null carries almost nothing."""
SAMPLE = 5
__all__ = ["LABEL_RATE_FACTOR"]


@dataclass(frozen=True)
class FrameReference:
    """What a good training matrix looked like: the yardstick for the next one."""

    rows: int
    null_fractions: dict[str, float]
    """Per feature column, the fraction of rows where it is null."""
    label_rate: float
    """The mean label: the positive rate of a binary task."""
    class_shares: tuple[float, ...] = ()
    """Multiclass: each class's share of rows, in label order."""
    label_mean: float | None = None
    label_std: float | None = None
    label_quantiles: tuple[float, ...] = ()
    """Regression: the target's mean, standard deviation and ``QUANTILES``."""

    @classmethod
    def of(cls, frame: pd.DataFrame, plan: Plan) -> FrameReference:
        features = [c for c in plan.feature_columns if c in frame.columns]
        nulls = frame[features].isna().mean() if len(frame) else pd.Series(0.0, index=features)
        raw = frame["label"] if "label" in frame.columns else pd.Series([], dtype=float)
        label = np.asarray(pd.to_numeric(raw, errors="coerce"), dtype=float)
        label = label[~np.isnan(label)]
        rate = float(label.mean()) if len(label) else math.nan
        task = plan.objective.task
        shares: tuple[float, ...] = ()
        mean = std = None
        quantiles: tuple[float, ...] = ()
        if task == "multiclass_classification" and len(label):
            counts = np.bincount(label.astype(int), minlength=len(plan.objective.classes))
            shares = tuple(
                float(counts[k]) / len(label) for k in range(len(plan.objective.classes))
            )
        if task == "regression" and len(label) > 1:
            mean, std = float(label.mean()), float(label.std(ddof=1))
            quantiles = tuple(float(q) for q in np.quantile(label, list(QUANTILES)))
        return cls(
            rows=len(frame),
            null_fractions={c: float(nulls[c]) for c in features},
            label_rate=0.0 if pd.isna(rate) else float(rate),
            class_shares=shares,
            label_mean=mean,
            label_std=std,
            label_quantiles=quantiles,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "null_fractions": dict(self.null_fractions),
            "label_rate": self.label_rate,
            "class_shares": list(self.class_shares),
            "label_mean": self.label_mean,
            "label_std": self.label_std,
            "label_quantiles": list(self.label_quantiles),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FrameReference:
        """A stored reference; those written before the per-task fields default them."""
        mean, std = data.get("label_mean"), data.get("label_std")
        return cls(
            rows=int(data["rows"]),
            null_fractions={str(k): float(v) for k, v in data["null_fractions"].items()},
            label_rate=float(data["label_rate"]),
            class_shares=tuple(float(v) for v in data.get("class_shares") or ()),
            label_mean=None if mean is None else float(mean),
            label_std=None if std is None else float(std),
            label_quantiles=tuple(float(v) for v in data.get("label_quantiles") or ()),
        )


@dataclass(frozen=True)
class FrameCheck:
    """The outcome of one check on the training matrix, with its evidence."""

    name: str
    critical: bool
    passed: bool
    description: str
    observed: dict[str, Any]
    failing_sample: tuple[Any, ...] = ()


def check_names(plan: Plan) -> tuple[tuple[str, bool], ...]:
    """(name, critical) of every check :func:`validate_training_frame` returns for ``plan``.

    The same with or without a reference: a check without one to compare with still runs, on
    absolute bounds (at least one row, features not almost all null) or passes as not applicable.
    """
    names = _task_names(plan)
    return tuple((names.get(name, name), critical) for name, critical in _CHECKS)


def _task_names(plan: Plan) -> dict[str, str]:
    """Internal (binary) check name -> the name the check has for ``plan``'s task: per-feature
    expectations are combined into one check, so the names depend on the task alone."""
    names = NAMES[plan.objective.task]
    return {LABEL: names.label, TRAIN_CLASSES: names.train_classes, LABEL_RATE: names.drift}


def validate_training_frame(
    frame: pd.DataFrame, plan: Plan, reference: FrameReference | None
) -> list[FrameCheck]:
    """Run the training matrix's expectations (one Great Expectations validation) on ``frame``.

    Critical checks guard training itself: the columns the plan selects, a label of the task's
    kind that is never null (0/1, a class index, a finite number), the three splits and
    nothing else, every class among training rows (or a target that is not constant), one row
    per (entity, cutoff), a row count near the reference's, and cohort rows in every split.
    Warnings report features more null than before and a label distribution that moved a lot.
    """
    present = set(frame.columns)
    features = [c for c in plan.feature_columns if c in present]
    context = LabelContext.of(plan)
    names = _task_names(plan)
    planned = _expectations(plan, features, reference, present, context)
    results = run_expectations(frame, [e for _, e in planned], sample=SAMPLE * 4)
    by_check: dict[str, list[tuple[Any, dict[str, Any]]]] = {name: [] for name, _ in _CHECKS}
    for (name, expectation), result in zip(planned, results, strict=True):
        by_check[name].append((expectation, result))
    checks = []
    for name, critical in _CHECKS:
        needed = [c for c in _NEEDS.get(name, ()) if c not in present]
        summary: Summary = (
            (
                False,
                f"cannot be checked: column(s) {', '.join(needed)} missing from the training set",
                {"missing_columns": needed},
                (),
            )
            if needed
            else _summary(name, by_check[name], reference, context)
        )
        passed, description, observed, sample = summary
        checks.append(
            FrameCheck(
                name=names.get(name, name),
                critical=critical,
                passed=passed,
                description=description,
                observed=plain(observed),
                failing_sample=tuple(plain(list(sample)[:SAMPLE])),
            )
        )
    return checks


_NEEDS: dict[str, tuple[str, ...]] = {
    LABEL: ("label",),
    SPLITS: ("split",),
    TRAIN_CLASSES: ("label", "split"),
    UNIQUE_ROWS: KEY_COLUMNS,
    LABEL_RATE: ("label",),
    COHORT: ("split", "in_cohort"),
}


def allowed_null_fraction(feature: str, reference: FrameReference | None) -> float:
    """The null fraction above which ``feature`` is reported."""
    if reference is None or feature not in reference.null_fractions:
        return MAX_NULL_FRACTION
    return min(reference.null_fractions[feature] + NULL_DRIFT, MAX_NULL_FRACTION)


def _expectations(
    plan: Plan,
    features: Sequence[str],
    reference: FrameReference | None,
    present: set[str],
    context: LabelContext,
) -> list[tuple[str, Any]]:
    """(check name, Great Expectations expectation) pairs, on the columns that are there."""
    gx = great_expectations()
    from great_expectations.expectations.row_conditions import Column

    E = gx.expectations
    out: list[tuple[str, Any]] = [
        (COLUMNS, E.ExpectColumnToExist(column=c))
        for c in dict.fromkeys((*BASE_COLUMNS, *plan.feature_columns))
    ]
    if "label" in present:
        out += [(LABEL, e) for e in label_checks.label_expectations(E, context)]
    if "split" in present:
        out += [
            (SPLITS, E.ExpectColumnValuesToBeInSet(column="split", value_set=list(SPLIT_NAMES))),
            (SPLITS, E.ExpectColumnValuesToNotBeNull(column="split")),
            (
                SPLITS,
                E.ExpectColumnDistinctValuesToContainSet(
                    column="split", value_set=list(SPLIT_NAMES)
                ),
            ),
        ]
    if {"label", "split"} <= present:
        train = Column("split") == "train"
        out += [
            (TRAIN_CLASSES, e) for e in label_checks.train_class_expectations(E, context, train)
        ]
    if {"split", "in_cohort"} <= present:
        # The goal is judged on the cohort's validation and test rows: a cohort that vanished
        # (its column relabelled, its rows gone) is named here, before anything is trained.
        out.append(
            (
                COHORT,
                E.ExpectColumnDistinctValuesToContainSet(
                    column="split",
                    value_set=list(SPLIT_NAMES),
                    row_condition=Column("in_cohort") == True,  # noqa: E712
                ),
            )
        )
    if set(KEY_COLUMNS) <= present:
        out.append((UNIQUE_ROWS, E.ExpectCompoundColumnsToBeUnique(column_list=list(KEY_COLUMNS))))
    low, high = (1, None) if reference is None else _row_bounds(reference.rows)
    out.append((ROW_COUNT, E.ExpectTableRowCountToBeBetween(min_value=low, max_value=high)))
    for feature in features:
        allowed = allowed_null_fraction(feature, reference)
        out.append(
            (
                FEATURE_NULLS,
                E.ExpectColumnValuesToNotBeNull(column=feature, mostly=round(1.0 - allowed, 6)),
            )
        )
    if reference is not None and "label" in present:
        out += [(LABEL_RATE, e) for e in label_checks.drift_expectations(E, context, reference)]
    return out


def _row_bounds(rows: int) -> tuple[int, int]:
    return math.ceil(rows * ROW_RATIO[0]), math.floor(rows * ROW_RATIO[1])


def _columns(evaluated: Evaluated, reference: FrameReference | None) -> Summary:
    missing = [e.column for e, r in evaluated if not r["success"]]
    observed = {"expected": len(evaluated), "missing": missing}
    if missing:
        return (
            False,
            f"{len(missing)} of {len(evaluated)} columns the plan selects are missing from the"
            f" training set: {', '.join(missing[:SAMPLE])}",
            observed,
            missing,
        )
    return True, f"all {len(evaluated)} columns the plan selects are present", observed, ()


def _splits(evaluated: Evaluated, reference: FrameReference | None) -> Summary:
    failed = unevaluated("the split check", evaluated)
    if failed:
        return failed
    (_, in_set), (_, not_null), (_, contains) = evaluated
    unknown = list(dict.fromkeys(in_set["result"].get("partial_unexpected_list") or []))
    outside = int(in_set["result"].get("unexpected_count") or 0)
    nulls = int(not_null["result"].get("unexpected_count") or 0)
    absent = list(contains["result"].get("partial_missing_list") or [])
    observed = {"rows_outside_splits": outside, "nulls": nulls, "missing_splits": absent}
    problems = []
    if outside:
        problems.append(f"{outside} rows in an unknown split (e.g. {unknown[:SAMPLE]})")
    if nulls:
        problems.append(f"{nulls} rows in no split")
    if absent:
        problems.append(f"no rows in split(s) {', '.join(absent)}")
    if problems:
        return False, "; ".join(problems), observed, unknown or absent
    return True, "rows are split into train, valid and test, and nothing else", observed, ()


def _cohort(evaluated: Evaluated, reference: FrameReference | None) -> Summary:
    failed = unevaluated("the cohort check", evaluated)
    if failed:
        return failed
    ((_, contains),) = evaluated
    absent = [str(v) for v in contains["result"].get("partial_missing_list") or []]
    observed = {"splits_without_cohort_rows": absent}
    if absent:
        return (
            False,
            f"the cohort has no rows in the {', '.join(absent)} split(s): the goal cannot be"
            " judged on it (has its column changed, or its rows gone?)",
            observed,
            absent,
        )
    return True, "the cohort has rows in the train, valid and test splits", observed, ()


def _unique_rows(evaluated: Evaluated, reference: FrameReference | None) -> Summary:
    failed = unevaluated("the uniqueness check", evaluated)
    if failed:
        return failed
    ((_, unique),) = evaluated
    count = int(unique["result"].get("unexpected_count") or 0)
    keys = unique["result"].get("partial_unexpected_list") or []
    distinct = list({tuple(k.items()): k for k in keys if isinstance(k, dict)}.values())
    observed = {"duplicated_rows": count}
    if count:
        return (
            False,
            f"{count} rows share their (entity_id, cutoff_at) with another row: each entity"
            " and prediction time must appear once",
            observed,
            distinct,
        )
    return True, "one row per (entity_id, cutoff_at)", observed, ()


def _row_count(evaluated: Evaluated, reference: FrameReference | None) -> Summary:
    failed = unevaluated("the row count check", evaluated)
    if failed:
        return failed
    ((expectation, count),) = evaluated
    rows = int(count["result"].get("observed_value") or 0)
    low, high = expectation.min_value, expectation.max_value
    observed = {"rows": rows, "min": low, "max": high}
    if reference is not None:
        observed["reference_rows"] = reference.rows
    if count["success"]:
        return True, f"{rows} rows, within [{low}, {high or 'no limit'}]", observed, ()
    if reference is None:
        return False, "the training set has no rows", observed, ()
    return (
        False,
        f"the training set has {rows} rows, outside [{low}, {high}]: between"
        f" {ROW_RATIO[0]}x and {ROW_RATIO[1]}x the {reference.rows} rows of the reference",
        observed,
        (),
    )


def _feature_nulls(evaluated: Evaluated, reference: FrameReference | None) -> Summary:
    offending: dict[str, dict[str, float]] = {}
    for expectation, result in evaluated:
        if result["success"] and not result.get("error"):
            continue
        details = result["result"]
        elements = int(details.get("element_count") or 0)
        nulls = int(details.get("unexpected_count") or 0)
        offending[expectation.column] = {
            "null_fraction": round(nulls / elements, 4) if elements else 1.0,
            "allowed": round(1.0 - float(expectation.mostly), 4),
        }
    observed = {"features": len(evaluated), "offending": offending}
    if offending:
        worst = sorted(offending, key=lambda f: -offending[f]["null_fraction"])
        shown = ", ".join(
            f"{f} ({offending[f]['null_fraction']:.0%} null, at most"
            f" {offending[f]['allowed']:.0%} allowed)"
            for f in worst[:SAMPLE]
        )
        return (
            False,
            f"{len(offending)} feature(s) more null than allowed: {shown}",
            observed,
            worst,
        )
    return True, f"no feature among {len(evaluated)} is more null than allowed", observed, ()


_SUMMARIES: dict[str, Callable[[Evaluated, FrameReference | None], Summary]] = {
    COLUMNS: _columns,
    SPLITS: _splits,
    UNIQUE_ROWS: _unique_rows,
    ROW_COUNT: _row_count,
    COHORT: _cohort,
    FEATURE_NULLS: _feature_nulls,
}


def _summary(
    name: str, evaluated: Evaluated, reference: FrameReference | None, context: LabelContext
) -> Summary:
    if name == LABEL:
        return label_checks.label_summary(evaluated, context)
    if name == TRAIN_CLASSES:
        return label_checks.train_classes_summary(evaluated, context)
    if name == LABEL_RATE:
        return label_checks.drift_summary(evaluated, context, reference)
    return _SUMMARIES[name](evaluated, reference)
