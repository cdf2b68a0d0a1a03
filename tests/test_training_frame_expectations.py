"""The training matrix's expectations, validated by Great Expectations on the fetched frame."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from dagster_agentic.expectations.training_frame import (
    COLUMNS,
    FEATURE_NULLS,
    LABEL,
    LABEL_RATE,
    ROW_COUNT,
    TRAIN_CLASSES,
    UNIQUE_ROWS,
    FrameCheck,
    FrameReference,
    check_names,
    validate_training_frame,
)
from dagster_agentic.plan.models import FeatureGroup, FeatureSpec, Plan


@pytest.fixture(scope="module")
def plan(sample_plan: Plan) -> Plan:
    """The example plan, with a categorical feature too."""
    country = FeatureGroup(
        name="customers",
        kind="entity_attributes",
        source_table="customers",
        join_column="customer_id",
        features=(
            FeatureSpec(name="country", expression="t.country", hypothesis="h", kind="categorical"),
        ),
    )
    return sample_plan.model_copy(update={"feature_groups": (country, *sample_plan.feature_groups)})


def _frame(plan: Plan, rows: int = 300) -> pd.DataFrame:
    """A good training matrix: two cutoffs per entity, every split, both classes, few nulls."""
    rng = np.random.default_rng(3)
    index = np.arange(rows)
    data: dict[str, object] = {
        "entity_id": index // 2,
        "cutoff_at": pd.to_datetime(np.where(index % 2, "2024-06-01", "2024-03-01")),
        "label": (index % 4 == 0).astype(np.int8),
        "split": pd.Series(np.array(["train", "valid", "test"])[index % 3], dtype="str"),
        "in_cohort": index % 5 != 0,
    }
    for column in plan.feature_columns:
        if column in plan.categorical_columns:
            codes = pd.Series(rng.choice(["DE", "FR", "US"], rows), dtype="str")
            data[column] = codes.mask(rng.random(rows) < 0.1)
        else:
            values = rng.normal(size=rows).astype(np.float32)
            values[rng.random(rows) < 0.1] = np.nan
            data[column] = values
    return pd.DataFrame(data)


def _by_name(checks: list[FrameCheck]) -> dict[str, FrameCheck]:
    return {check.name: check for check in checks}


def _failed(checks: list[FrameCheck]) -> set[str]:
    return {check.name for check in checks if not check.passed}


def test_a_good_frame_passes_every_check_offline(
    plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    frame = _frame(plan)
    reference = FrameReference.of(frame, plan)
    assert reference.rows == 300 and reference.label_rate == pytest.approx(0.25)
    assert FrameReference.from_dict(json.loads(json.dumps(reference.to_dict()))) == reference
    for ref in (None, reference):
        checks = validate_training_frame(frame, plan, ref)
        assert _failed(checks) == set(), [c.description for c in checks if not c.passed]
        assert [(c.name, c.critical) for c in checks] == list(check_names(plan))
        json.dumps([asdict(c) for c in checks])  # evidence is JSON-able, for Dagster metadata


def test_a_one_class_train_split_fails_critically(plan: Plan) -> None:
    frame = _frame(plan)
    frame.loc[frame["split"] == "train", "label"] = 0
    check = _by_name(validate_training_frame(frame, plan, None))[TRAIN_CLASSES]
    assert check.critical and not check.passed
    assert "one-class" in check.description and "only label 0" in check.description
    assert check.observed == {"missing_classes": [1]}


def test_a_label_outside_0_1_fails(plan: Plan) -> None:
    frame = _frame(plan)
    frame.loc[7, "label"] = 2
    checks = validate_training_frame(frame, plan, None)
    check = _by_name(checks)[LABEL]
    assert _failed(checks) == {LABEL} and check.critical
    assert check.observed["values_outside_0_1"] == 1 and check.failing_sample == (2,)
    assert "outside {0, 1}" in check.description


def test_a_missing_feature_column_is_named(plan: Plan) -> None:
    missing = plan.feature_columns[3]
    frame = _frame(plan).drop(columns=[missing])
    checks = validate_training_frame(frame, plan, FrameReference.of(_frame(plan), plan))
    check = _by_name(checks)[COLUMNS]
    assert _failed(checks) == {COLUMNS} and check.critical
    assert missing in check.description and check.observed["missing"] == [missing]


def test_duplicate_entity_and_cutoff_fails(plan: Plan) -> None:
    frame = _frame(plan)
    frame = pd.concat([frame, frame.iloc[[10]]], ignore_index=True)
    checks = validate_training_frame(frame, plan, None)
    check = _by_name(checks)[UNIQUE_ROWS]
    assert _failed(checks) == {UNIQUE_ROWS} and check.critical
    assert check.observed["duplicated_rows"] == 2
    assert check.failing_sample == ({"entity_id": 5, "cutoff_at": "2024-03-01T00:00:00"},)


def test_fewer_than_half_the_reference_rows_fails(plan: Plan) -> None:
    frame = _frame(plan)
    reference = FrameReference.of(frame, plan)
    checks = _by_name(validate_training_frame(frame.iloc[:120], plan, reference))
    check = checks[ROW_COUNT]
    assert check.critical and not check.passed
    assert check.observed == {"rows": 120, "min": 150, "max": 600, "reference_rows": 300}
    assert "120 rows" in check.description
    empty = _by_name(validate_training_frame(frame.iloc[:0], plan, None))[ROW_COUNT]
    assert not empty.passed and "no rows" in empty.description


def test_an_all_null_feature_is_a_named_warning(plan: Plan) -> None:
    frame = _frame(plan)
    numeric, categorical = plan.feature_columns[5], plan.categorical_columns[0]
    frame[numeric] = np.float32("nan")
    frame[categorical] = pd.Series([None] * len(frame), dtype="str")
    checks = validate_training_frame(frame, plan, None)
    check = _by_name(checks)[FEATURE_NULLS]
    assert _failed(checks) == {FEATURE_NULLS} and not check.critical
    assert set(check.observed["offending"]) == {numeric, categorical}
    assert check.observed["offending"][numeric] == {"null_fraction": 1.0, "allowed": 0.95}
    assert numeric in check.description and categorical in check.description


def test_nulls_and_label_rate_are_compared_with_the_reference(plan: Plan) -> None:
    frame = _frame(plan)
    reference = FrameReference.of(frame, plan)
    feature = plan.feature_columns[1]
    drifted = frame.copy()
    drifted.loc[drifted.index % 2 == 0, feature] = np.nan  # about 10% null before, 55% now
    drifted["label"] = (drifted.index % 40 == 0).astype(np.int8)  # 2.5% instead of 25%
    checks = _by_name(validate_training_frame(drifted, plan, reference))
    assert list(checks[FEATURE_NULLS].observed["offending"]) == [feature]
    assert not checks[LABEL_RATE].passed and not checks[LABEL_RATE].critical
    assert "3x" in checks[LABEL_RATE].description
    assert _by_name(validate_training_frame(drifted, plan, None))[FEATURE_NULLS].passed


def test_check_names_are_known_before_the_data(plan: Plan) -> None:
    names = check_names(plan)
    assert len(names) == len({n for n, _ in names}) <= 10
    assert all(n.replace("_", "").isalnum() and n.startswith("training_set__") for n, _ in names)
    broken = _frame(plan).drop(columns=["label", "cutoff_at"])
    checks = validate_training_frame(broken, plan, None)
    assert [(c.name, c.critical) for c in checks] == list(names)
    assert {LABEL, TRAIN_CLASSES, UNIQUE_ROWS, COLUMNS} <= _failed(checks)
    assert "label" in _by_name(checks)[LABEL].description


def test_great_expectations_is_imported_only_when_validating() -> None:
    code = (
        "import sys, dagster_agentic, dagster_agentic.expectations.training_frame;"
        " assert 'great_expectations' not in sys.modules, 'imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _task_plan(plan: Plan, task: str) -> Plan:
    """The example plan as a multiclass or regression goal (same columns, another label)."""
    update: dict[str, object] = {"task": task}
    if task == "multiclass_classification":
        update |= {"classes": ("bronze", "silver", "gold"), "metric": "macro_f1"}
    else:
        update |= {"metric": "rmse", "threshold": 10.0}
    return plan.model_copy(update={"objective": plan.objective.model_copy(update=update)})


def test_multiclass_labels_are_class_indices_and_every_class_must_train(plan: Plan) -> None:
    multi = _task_plan(plan, "multiclass_classification")
    names = dict(check_names(multi))
    assert "training_set__train_has_every_class" in names and TRAIN_CLASSES not in names
    frame = _frame(multi)
    frame["label"] = ((frame.index // 3) % 3).astype(np.int8)
    reference = FrameReference.of(frame, multi)
    assert reference.class_shares == pytest.approx((0.34, 0.33, 0.33))  # 102, 99, 99 of 300
    assert FrameReference.from_dict(json.loads(json.dumps(reference.to_dict()))) == reference
    checks = validate_training_frame(frame, multi, reference)
    assert _failed(checks) == set(), [c.description for c in checks if not c.passed]

    missing = frame.copy()
    missing.loc[(missing["split"] == "train") & (missing["label"] == 2), "label"] = 1
    check = _by_name(validate_training_frame(missing, multi, None))[
        "training_set__train_has_every_class"
    ]
    assert check.critical and not check.passed
    assert "'gold' (label 2)" in check.description
    assert check.observed == {"missing_classes": [2], "missing_values": ["gold"]}

    outside = frame.copy()
    outside.loc[4, "label"] = 3
    failed = _failed(validate_training_frame(outside, multi, None))
    assert failed == {"training_set__label_in_classes"}

    skewed = frame.copy()
    skewed["label"] = np.where(skewed.index % 20 == 0, 2, skewed.index % 2).astype(np.int8)
    drift = _by_name(validate_training_frame(skewed, multi, reference))[
        "training_set__class_shares"
    ]
    assert not drift.passed and not drift.critical
    assert list(drift.observed["moved"]) == ["gold"] and "'gold' 5.0%" in drift.description


def test_regression_targets_are_finite_varied_and_compared_by_mean_and_quantiles(
    plan: Plan,
) -> None:
    regression = _task_plan(plan, "regression")
    frame = _frame(regression)
    rng = np.random.default_rng(5)
    frame["label"] = rng.normal(200_000, 40_000, len(frame))
    reference = FrameReference.of(frame, regression)
    assert reference.label_std == pytest.approx(frame["label"].std())
    assert len(reference.label_quantiles) == 3
    assert FrameReference.from_dict(json.loads(json.dumps(reference.to_dict()))) == reference
    checks = validate_training_frame(frame, regression, reference)
    assert _failed(checks) == set(), [c.description for c in checks if not c.passed]

    broken = frame.copy()
    broken.loc[3, "label"] = np.inf
    check = _by_name(validate_training_frame(broken, regression, None))[
        "training_set__label_finite"
    ]
    assert check.critical and not check.passed and check.observed["non_finite"] == 1

    constant = frame.copy()
    constant.loc[constant["split"] == "train", "label"] = 7.0
    check = _by_name(validate_training_frame(constant, regression, None))[
        "training_set__target_not_constant"
    ]
    assert check.critical and not check.passed and "constant target" in check.description

    shifted = frame.copy()
    shifted["label"] = shifted["label"] * 2
    drift = _by_name(validate_training_frame(shifted, regression, reference))[
        "training_set__label_distribution"
    ]
    assert not drift.passed and not drift.critical and "mean" in drift.description
    assert _by_name(validate_training_frame(shifted, regression, None))[
        "training_set__label_distribution"
    ].passed


def test_a_reference_written_before_tasks_still_loads(plan: Plan) -> None:
    old = {"rows": 10, "null_fractions": {"a": 0.1}, "label_rate": 0.2}
    reference = FrameReference.from_dict(old)
    assert reference.class_shares == () and reference.label_mean is None
