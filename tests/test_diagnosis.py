"""From detection to diagnosis: every injected fault of the example warehouse is traced to its
root cause from evidence alone (schema diff, rename candidates, profile diff)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dagster_agentic.agent.planner import PROFILE_FILE, ensure_plan, load_suite
from dagster_agentic.expectations.models import ExpectationSuite
from dagster_agentic.expectations.validate import validate_suite
from dagster_agentic.healing.diagnosis import Diagnosis, diagnose
from dagster_agentic.healing.evidence import Evidence, collect_evidence, schema_diff
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from example_churn.faults import BENIGN, CLASSES, FAULTS, apply_fault

from .conftest import make_goal


@dataclass(frozen=True)
class Planned:
    warehouse: Path
    suite: ExpectationSuite
    reference: WarehouseProfile


@dataclass(frozen=True)
class Expected:
    cause: str
    table: str
    column: str | None
    details: dict[str, Any] = field(default_factory=dict)


EXPECTED: dict[str, Expected] = {
    "rename_column": Expected(
        "renamed_column", "payments", "amount", {"from": "amount", "to": "amount_eur"}
    ),
    "change_type": Expected(
        "changed_type", "support_tickets", "satisfaction_score", {"cast": "INTEGER"}
    ),
    "drop_column": Expected("removed_column", "support_tickets", "resolution_hours"),
    "renamed_table": Expected(
        "renamed_table", "events", None, {"from": "events", "to": "events_v2"}
    ),
    "unit_change": Expected("unit_change", "events", "duration_seconds", {"factor": 1000.0}),
    "relabel_categories": Expected("relabelled_categories", "payments", "status"),
    "null_burst": Expected("null_burst", "events", "duration_seconds"),
    "distribution_drift": Expected("distribution_drift", "payments", "amount"),
    "extreme_values": Expected("corrupt_values", "payments", "amount"),
    "duplicate_rows": Expected("duplicated_rows", "payments", "payment_id"),
    "volume_drop": Expected("partial_load", "events", None),
    "stale_data": Expected("stale_feed", "events", "event_time"),
    "orphan_keys": Expected("orphan_keys", "support_tickets", "customer_id"),
    "new_category": Expected("new_category", "customers", "acquisition_channel"),
    "timezone_shift": Expected("clock_shift", "events", "event_time"),
    "duplicate_labels": Expected("duplicated_rows", "churn_labels", "customer_id"),
    "key_format": Expected("key_format_change", "support_tickets", "customer_id"),
    "key_as_text": Expected("key_format_change", "payments", "customer_id"),
    "epoch_time": Expected("changed_type", "support_tickets", "created_at"),
    "text_time": Expected("changed_type", "payments", "paid_at"),
    "cohort_lowercase": Expected("relabelled_categories", "customers", "country"),
    "cohort_names": Expected("relabelled_categories", "customers", "country"),
}
"""The first cause for each fault with one root cause; releases of several and a vanished
cohort are judged by the loop (tests/test_healing_loop.py) and the benchmark."""
ONE_ROOT_CAUSE = {"rename_column", "renamed_table"}


@pytest.fixture(scope="module")
def planned_copy(pristine_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Planned:
    warehouse = tmp_path_factory.mktemp("diagnosis") / "warehouse.duckdb"
    shutil.copy(pristine_warehouse, warehouse)
    bundle = ensure_plan(make_goal(warehouse))
    reference = WarehouseProfile.model_validate_json((bundle.path / PROFILE_FILE).read_text())
    return Planned(warehouse, load_suite(bundle), reference)


def _evidence(planned: Planned, tmp_path: Path, fault: str | None) -> Evidence:
    copy = tmp_path / "faulty.duckdb"
    shutil.copy(planned.warehouse, copy)
    if fault is not None:
        apply_fault(copy, fault, seed=3)
    warehouse = Warehouse(copy)
    results = validate_suite(warehouse, planned.suite)
    return collect_evidence(warehouse, planned.reference, results)


def test_every_fault_has_an_expected_diagnosis() -> None:
    several = set(CLASSES["release"]) | {"cohort_dropped"}
    assert set(EXPECTED) == set(FAULTS) - {"new_table"} - set(BENIGN) - several


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_each_fault_is_traced_to_its_root_cause(
    fault: str, planned_copy: Planned, tmp_path: Path
) -> None:
    if FAULTS[fault].table not in planned_copy.suite.tables:
        pytest.skip(f"the plan does not read {FAULTS[fault].table}")
    expected = EXPECTED[fault]
    diagnoses = diagnose(_evidence(planned_copy, tmp_path, fault))
    assert diagnoses, f"{fault}: no diagnosis"
    first = diagnoses[0]
    assert (first.cause, first.table, first.column) == (
        expected.cause,
        expected.table,
        expected.column,
    ), diagnoses
    for key, value in expected.details.items():
        assert first.details.get(key) == value, first.details
    assert 0.0 <= first.confidence <= 1.0
    assert first.explanation and first.remedy
    if fault in ONE_ROOT_CAUSE:
        assert len(diagnoses) == 1, diagnoses
    if fault == "relabel_categories":
        mapping = first.details["mapping"]
        assert mapping["paid"] == "succeeded" and mapping["declined"] == "failed"


def test_a_rename_is_explained_by_name_and_values(planned_copy: Planned, tmp_path: Path) -> None:
    evidence = _evidence(planned_copy, tmp_path, "rename_column")
    best = evidence.renames_of("payments.amount")[0]
    assert best.new == "payments.amount_eur" and best.value_similarity > 0.95
    assert best.score >= 0.9 and best.name_similarity >= 0.9
    diagnosis: Diagnosis = diagnose(evidence)[0]
    assert "payments.amount_eur" in diagnosis.explanation
    assert diagnosis.remedy == "map amount -> amount_eur in every feature"


def test_a_changed_type_is_checked_for_a_safe_cast(planned_copy: Planned, tmp_path: Path) -> None:
    evidence = _evidence(planned_copy, tmp_path, "change_type")
    entry = evidence.profile_diff["support_tickets.satisfaction_score"]
    assert entry["not_castable"] == 0 and entry["cast_to"] == "INTEGER"
    assert evidence.schema_diff.type_changes[0].new_type == "VARCHAR"


def test_an_unchanged_warehouse_gives_no_diagnosis(planned_copy: Planned, tmp_path: Path) -> None:
    evidence = _evidence(planned_copy, tmp_path, None)
    assert not evidence.failed and evidence.schema_diff.empty
    assert diagnose(evidence) == ()


def test_the_schema_diff_reports_a_new_table(planned_copy: Planned, tmp_path: Path) -> None:
    copy = tmp_path / "new_table.duckdb"
    shutil.copy(planned_copy.warehouse, copy)
    apply_fault(copy, "new_table", seed=3)
    with Warehouse(copy).connect() as conn:
        diff = schema_diff(planned_copy.reference, conn)
    assert diff.new_tables == ("nps_surveys",)
    assert not (diff.missing_tables or diff.missing_columns or diff.type_changes)


def test_diagnosis_is_deterministic(planned_copy: Planned, tmp_path: Path) -> None:
    evidence = _evidence(planned_copy, tmp_path, "stale_data")
    assert diagnose(evidence) == diagnose(evidence)
    assert [d.cause for d in diagnose(evidence)] == ["stale_feed"]
