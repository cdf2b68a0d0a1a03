"""The training matrix's label checks, one set per task.

Three checks concern the label, and what each means depends on the task:

* **label**: binary labels are 0 or 1; multiclass labels a class index (below the number of
  classes); a regression target a finite number; never null in any task;
* **train classes** (critical): a classifier needs every class among its training rows (the
  error names the classes missing, by value); a regressor needs a target that is not constant;
* **label drift** (a warning, against the last good matrix): the positive rate (binary), each
  class's share (multiclass), the mean and the 10/50/90% quantiles (regression).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dagster_agentic.plan.models import Plan

LABEL_RATE_FACTOR = 3.0
"""A rate or class share may move by this factor from the reference's before it is reported."""
LABEL_SHIFT = 1.0
"""A regression target's mean and quantiles may move by this many reference standard
deviations before it is reported."""
QUANTILES = (0.1, 0.5, 0.9)
SAMPLE = 5

Summary = tuple[bool, str, dict[str, Any], Sequence[Any]]
Evaluated = list[tuple[Any, dict[str, Any]]]


@dataclass(frozen=True)
class LabelNames:
    """The checks' names for one task (the binary names are the historical ones)."""

    label: str
    train_classes: str
    drift: str


NAMES = {
    "binary_classification": LabelNames(
        "training_set__label_in_0_1",
        "training_set__train_has_both_classes",
        "training_set__label_rate",
    ),
    "multiclass_classification": LabelNames(
        "training_set__label_in_classes",
        "training_set__train_has_every_class",
        "training_set__class_shares",
    ),
    "regression": LabelNames(
        "training_set__label_finite",
        "training_set__target_not_constant",
        "training_set__label_distribution",
    ),
}


@dataclass(frozen=True)
class LabelContext:
    task: str
    classes: tuple[str, ...]
    """Each class's value as text, in label order (binary: 0 and 1; regression: none)."""

    @classmethod
    def of(cls, plan: Plan) -> LabelContext:
        objective = plan.objective
        if objective.task == "multiclass_classification":
            return cls(objective.task, tuple(str(v) for v in objective.classes))
        if objective.task == "regression":
            return cls(objective.task, ())
        return cls(objective.task, ("0", "1"))

    def named(self, indices: Sequence[int]) -> str:
        return ", ".join(
            f"{self.classes[i]!r} (label {i})" if 0 <= i < len(self.classes) else f"label {i}"
            for i in indices
        )


def label_expectations(E: Any, context: LabelContext) -> list[Any]:
    if context.task == "regression":
        big = sys.float_info.max
        return [
            E.ExpectColumnValuesToBeBetween(column="label", min_value=-big, max_value=big),
            E.ExpectColumnValuesToNotBeNull(column="label"),
        ]
    return [
        E.ExpectColumnValuesToBeInSet(column="label", value_set=list(range(len(context.classes)))),
        E.ExpectColumnValuesToNotBeNull(column="label"),
    ]


def train_class_expectations(E: Any, context: LabelContext, train: Any) -> list[Any]:
    if context.task == "regression":
        return [
            E.ExpectColumnUniqueValueCountToBeBetween(
                column="label", min_value=2, row_condition=train
            )
        ]
    return [
        E.ExpectColumnDistinctValuesToContainSet(
            column="label", value_set=list(range(len(context.classes))), row_condition=train
        )
    ]


def drift_expectations(E: Any, context: LabelContext, reference: Any) -> list[Any]:
    """Expectations on the label's distribution against ``reference`` (a FrameReference)."""
    if context.task == "regression":
        if reference.label_std is None or reference.label_mean is None:
            return []
        width = LABEL_SHIFT * reference.label_std
        quantiles = reference.label_quantiles or []
        out = [
            E.ExpectColumnMeanToBeBetween(
                column="label",
                min_value=reference.label_mean - width,
                max_value=reference.label_mean + width,
            )
        ]
        if len(quantiles) == len(QUANTILES):
            out.append(
                E.ExpectColumnQuantileValuesToBeBetween(
                    column="label",
                    quantile_ranges={
                        "quantiles": list(QUANTILES),
                        "value_ranges": [[q - width, q + width] for q in quantiles],
                    },
                )
            )
        return out
    if context.task == "multiclass_classification":
        out = []
        for index, share in enumerate(reference.class_shares or []):
            low, high = share / LABEL_RATE_FACTOR, min(1.0, share * LABEL_RATE_FACTOR)
            out += [
                E.ExpectColumnValuesToBeInSet(column="label", value_set=[index], mostly=low),
                E.ExpectColumnValuesToNotBeInSet(
                    column="label", value_set=[index], mostly=round(1.0 - high, 9)
                ),
            ]
        return out
    rate = reference.label_rate
    return [
        E.ExpectColumnMeanToBeBetween(
            column="label",
            min_value=rate / LABEL_RATE_FACTOR,
            max_value=min(1.0, rate * LABEL_RATE_FACTOR),
        )
    ]


def _errors(evaluated: Evaluated) -> list[str]:
    return [r["error"].splitlines()[0] for _, r in evaluated if r.get("error")]


def unevaluated(check: str, evaluated: Evaluated) -> Summary | None:
    """The summary of a check some expectation of which could not be evaluated at all."""
    errors = _errors(evaluated)
    if not errors:
        return None
    return False, f"{check} could not be evaluated: {errors[0]}", {"errors": errors}, ()


def label_summary(evaluated: Evaluated, context: LabelContext) -> Summary:
    failed = unevaluated("the label check", evaluated)
    if failed:
        return failed
    (_, in_set), (_, not_null) = evaluated
    outside = int(in_set["result"].get("unexpected_count") or 0)
    nulls = int(not_null["result"].get("unexpected_count") or 0)
    sample = list(dict.fromkeys(in_set["result"].get("partial_unexpected_list") or []))
    if context.task == "regression":
        observed: dict[str, Any] = {"non_finite": outside, "nulls": nulls}
        wanted = "a finite number"
        problem = f"{outside} rows hold a target that is not a finite number (e.g. {sample})"
    else:
        allowed = "{0, 1}" if context.task == "binary_classification" else "the class indices"
        key = "values_outside_0_1" if context.task == "binary_classification" else "outside"
        observed = {key: outside, "nulls": nulls}
        wanted = (
            "0 or 1"
            if context.task == "binary_classification"
            else f"a class index 0-{len(context.classes) - 1}"
        )
        problem = f"{outside} rows hold a label outside {allowed} (e.g. {sample[:SAMPLE]})"
    problems = []
    if outside:
        problems.append(problem)
    if nulls:
        problems.append(f"{nulls} rows have no label")
    if problems:
        return False, "; ".join(problems), observed, sample
    return True, f"every label is {wanted}", observed, ()


def train_classes_summary(evaluated: Evaluated, context: LabelContext) -> Summary:
    failed = unevaluated("the class check", evaluated)
    if failed:
        return failed
    ((_, result),) = evaluated
    observed: dict[str, Any]
    if context.task == "regression":
        distinct = int(result["result"].get("observed_value") or 0)
        observed = {"distinct_targets": distinct}
        if distinct < 2:
            held = "no labelled row" if distinct == 0 else "a single target value"
            return (
                False,
                f"the train split holds {held}: a constant target leaves a regressor nothing"
                " to learn (is the target column filled?)",
                observed,
                (),
            )
        return True, f"the train split holds {distinct} distinct target values", observed, ()
    absent = sorted(int(v) for v in result["result"].get("partial_missing_list") or [])
    observed = {"missing_classes": absent}
    if not absent:
        if len(context.classes) == 2:
            return True, "the train split holds both classes", observed, ()
        return True, f"the train split holds all {len(context.classes)} classes", observed, ()
    if context.task == "binary_classification":
        held = f"only label {1 - absent[0]}" if len(absent) == 1 else "no labelled row"
        return (
            False,
            f"the train split holds {held}: a model cannot be trained on a one-class target",
            observed,
            absent,
        )
    known = len(context.classes)
    return (
        False,
        f"the train split holds no row of class(es) {context.named(absent)}: a model cannot"
        " learn a class it never sees (label more of them, or leave those values out of the"
        " goal's classes)",
        observed | {"missing_values": [context.classes[i] for i in absent if i < known]},
        absent,
    )


def drift_summary(evaluated: Evaluated, context: LabelContext, reference: Any) -> Summary:
    if reference is None:
        return True, "no reference label distribution to compare with", {}, ()
    if not evaluated:
        return True, "the reference holds no label distribution to compare with", {}, ()
    failed = unevaluated("the label distribution check", evaluated)
    if failed:
        return failed
    if context.task == "regression":
        return _regression_drift(evaluated, reference)
    if context.task == "multiclass_classification":
        return _class_drift(evaluated, context, reference)
    ((expectation, mean),) = evaluated
    rate = mean["result"].get("observed_value")
    observed = {
        "label_rate": rate,
        "reference_label_rate": reference.label_rate,
        "min": expectation.min_value,
        "max": expectation.max_value,
    }
    shown = "unknown (no labelled row)" if rate is None else f"{float(rate):.2%}"
    if mean["success"]:
        return (
            True,
            f"label rate {shown}, near the reference's {reference.label_rate:.2%}",
            observed,
            (),
        )
    return (
        False,
        f"label rate {shown} is more than {LABEL_RATE_FACTOR:g}x away from the reference's"
        f" {reference.label_rate:.2%}",
        observed,
        (),
    )


def _class_drift(evaluated: Evaluated, context: LabelContext, reference: Any) -> Summary:
    moved: dict[str, dict[str, float]] = {}
    for index in range(len(evaluated) // 2):
        (_, at_least), (_, at_most) = evaluated[2 * index], evaluated[2 * index + 1]
        share = 1.0 - float(at_least["result"].get("unexpected_percent") or 0.0) / 100
        if not (at_least["success"] and at_most["success"]):
            name = context.classes[index] if index < len(context.classes) else str(index)
            moved[name] = {
                "share": round(share, 4),
                "reference_share": round(float(reference.class_shares[index]), 4),
            }
    observed = {"classes": len(evaluated) // 2, "moved": moved}
    if moved:
        shown = ", ".join(
            f"{name!r} {v['share']:.1%} (was {v['reference_share']:.1%})"
            for name, v in list(moved.items())[:SAMPLE]
        )
        return (
            False,
            f"{len(moved)} class share(s) moved more than {LABEL_RATE_FACTOR:g}x from the"
            f" reference's: {shown}",
            observed,
            list(moved),
        )
    return True, "every class's share is near the reference's", observed, ()


def _regression_drift(evaluated: Evaluated, reference: Any) -> Summary:
    mean = evaluated[0][1]["result"].get("observed_value")
    observed: dict[str, Any] = {
        "mean": mean,
        "reference_mean": reference.label_mean,
        "reference_std": reference.label_std,
        "allowed_shift": LABEL_SHIFT * reference.label_std,
    }
    problems = []
    if not evaluated[0][1]["success"]:
        shown = "unknown" if mean is None or not math.isfinite(mean) else f"{float(mean):.4g}"
        problems.append(
            f"the target's mean {shown} moved more than {LABEL_SHIFT:g} reference standard"
            f" deviation(s) from {reference.label_mean:.4g}"
        )
    if len(evaluated) > 1:
        values = (evaluated[1][1]["result"].get("observed_value") or {}).get("values") or []
        observed["quantiles"] = dict(zip([str(q) for q in QUANTILES], values, strict=False))
        observed["reference_quantiles"] = dict(
            zip([str(q) for q in QUANTILES], reference.label_quantiles, strict=False)
        )
        if not evaluated[1][1]["success"]:
            problems.append(
                "its 10/50/90% quantiles moved: "
                + ", ".join(f"{v:.4g}" for v in values if v is not None)
                + " (was "
                + ", ".join(f"{v:.4g}" for v in reference.label_quantiles)
                + ")"
            )
    if problems:
        return False, "; ".join(problems), observed, ()
    return True, "the target's mean and quantiles are near the reference's", observed, ()
