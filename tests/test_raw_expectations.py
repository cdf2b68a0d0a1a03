"""Expectations on raw tables: written from the plan's profile, validated in the warehouse,
blocking downstream assets as Dagster asset checks when a critical one fails."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_agentic import Goal
from dagster_agentic.agent.planner import load_suite
from dagster_agentic.expectations.models import ExpectationResult, ExpectationSuite
from dagster_agentic.expectations.validate import psi, validate_suite
from dagster_agentic.plan.store import PlanBundle
from dagster_agentic.warehouse.connection import Warehouse
from example_churn.faults import BENIGN, FAULTS, apply_fault


@pytest.fixture(scope="module")
def suite(planned: PlanBundle) -> ExpectationSuite:
    return load_suite(planned)


def _faulty(goal: Goal, tmp_path: Path, *statements: str) -> Warehouse:
    copy = tmp_path / "faulty.duckdb"
    shutil.copy(goal.warehouse, copy)
    with duckdb.connect(str(copy)) as conn:
        for statement in statements:
            conn.execute(statement)
    return Warehouse(copy)


def _failed(results: list[ExpectationResult]) -> dict[str, ExpectationResult]:
    return {f"{r.expectation.table}:{r.expectation.name}": r for r in results if not r.passed}


def test_the_suite_covers_every_raw_table_of_the_plan(
    suite: ExpectationSuite, planned: PlanBundle
) -> None:
    assert set(suite.tables) == {t.name for t in planned.plan.raw_tables}
    kinds = {(e.table, e.kind) for e in suite.expectations}
    for table in suite.tables:
        assert (table, "table_exists") in kinds and (table, "row_count_between") in kinds
    assert ("events", "fresh_within_days") in kinds
    assert ("payments", "accepted_values") in kinds or "payments" not in suite.tables
    drift = [e for e in suite.expectations if e.kind == "drift_psi_at_most"]
    assert drift and all(not e.critical for e in drift)
    assert all(abs(sum(e.reference_shares) - 1) < 1e-3 for e in drift)
    assert suite.reference_time is not None and suite.reference_time.startswith("2026-06-30")


def test_an_unchanged_warehouse_passes_every_expectation(
    suite: ExpectationSuite, session_goal: Goal
) -> None:
    results = validate_suite(Warehouse(session_goal.warehouse), suite)
    assert len(results) == len(suite.expectations)
    assert not _failed(results)


@pytest.mark.parametrize(
    ("statements", "check", "evidence"),
    [
        (
            ["UPDATE events SET duration_seconds = duration_seconds * 1000"],
            "events:duration_seconds__between",
            "outside the expected range",
        ),
        (
            ["UPDATE payments SET status = upper(status)"],
            "payments:status__accepted_values",
            "not among the known values",
        ),
        (
            ["ALTER TABLE support_tickets DROP COLUMN resolution_hours"],
            "support_tickets:resolution_hours__column_exists",
            "missing",
        ),
        (["ALTER TABLE events RENAME TO events_v2"], "events:table_exists", "events_v2"),
        (
            ["UPDATE events SET duration_seconds = NULL WHERE event_id % 5 < 2"],
            "events:duration_seconds__null_fraction_at_most",
            "null",
        ),
        (
            ["DELETE FROM events WHERE event_time >= TIMESTAMP '2026-05-31'"],
            "events:event_time__fresh_within_days",
            "days before the prediction time",
        ),
        (["DELETE FROM events WHERE event_id % 10 < 7"], "events:row_count_between", "rows"),
        (
            [
                "UPDATE support_tickets SET customer_id = customer_id + 10000000"
                " WHERE ticket_id % 10 = 0"
            ],
            "support_tickets:customer_id__foreign_key_inclusion",
            "found in customers",
        ),
        (
            ["ALTER TABLE support_tickets ALTER satisfaction_score TYPE VARCHAR"],
            "support_tickets:satisfaction_score__column_type",
            "VARCHAR",
        ),
    ],
)
def test_each_kind_of_fault_fails_a_critical_expectation_with_evidence(
    suite: ExpectationSuite,
    session_goal: Goal,
    tmp_path: Path,
    statements: list[str],
    check: str,
    evidence: str,
) -> None:
    table = check.split(":")[0]
    if table not in suite.tables:
        pytest.skip(f"the plan does not read {table}")
    failed = _failed(validate_suite(_faulty(session_goal, tmp_path, *statements), suite))
    assert check in failed, sorted(failed)
    result = failed[check]
    assert result.expectation.critical and evidence in result.message


def test_failing_values_are_sampled_as_evidence(
    suite: ExpectationSuite, session_goal: Goal, tmp_path: Path
) -> None:
    warehouse = _faulty(
        session_goal, tmp_path, "UPDATE events SET event_type = 'EVT_' || event_type"
    )
    result = _failed(validate_suite(warehouse, suite))["events:event_type__accepted_values"]
    assert result.failing_sample and all(str(v).startswith("EVT_") for v in result.failing_sample)
    assert len(result.failing_sample) <= 5


def test_a_shifted_distribution_is_drift_but_does_not_block(
    suite: ExpectationSuite, session_goal: Goal, tmp_path: Path
) -> None:
    copy = tmp_path / "drifted.duckdb"
    shutil.copy(session_goal.warehouse, copy)
    apply_fault(copy, "distribution_drift", seed=1)
    failed = _failed(validate_suite(Warehouse(copy), suite))
    drift = failed["payments:amount__drift_psi_at_most"]
    assert not drift.expectation.critical and drift.observed["psi"] > 0.2
    assert not any(r.expectation.critical for r in failed.values())
    assert psi((0.5, 0.5), (0.5, 0.5)) == 0.0


def test_a_blocking_failure_stops_every_downstream_asset_and_touches_no_raw_row(
    warehouse_copy: Path,
) -> None:
    from dagster_agentic.agent.planner import ensure_plan
    from dagster_agentic.runner import run_goal

    from .conftest import make_goal

    goal = make_goal(warehouse_copy)
    ensure_plan(goal)
    with duckdb.connect(str(warehouse_copy)) as conn:
        conn.execute("UPDATE events SET duration_seconds = duration_seconds * 1000")
        before = conn.execute("SELECT sum(duration_seconds), count(*) FROM events").fetchone()
    summary = run_goal(goal, log_level="CRITICAL", heal=False)
    assert not summary.success and summary.status == "failed"
    assert summary.assets == ()
    assert summary.checks["churn/sources:events__duration_seconds__between"] is False
    assert "duration_seconds__between" in summary.why
    with duckdb.connect(str(warehouse_copy), read_only=True) as conn:
        after = conn.execute("SELECT sum(duration_seconds), count(*) FROM events").fetchone()
    assert after == before


_NOT_A_FAILURE = {
    "new_table": "a new table is an opportunity, not a broken assumption",
    **{fault: "a benign change must not fail a check" for fault in BENIGN},
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_injected_fault_is_detected_on_the_table_it_hits(
    fault: str, suite: ExpectationSuite, session_goal: Goal, tmp_path: Path
) -> None:
    spec = FAULTS[fault]
    if spec.table not in suite.tables and fault not in _NOT_A_FAILURE:
        pytest.skip(f"the plan does not read {spec.table}")
    copy = tmp_path / "faulty.duckdb"
    shutil.copy(session_goal.warehouse, copy)
    apply_fault(copy, fault, seed=3)
    failed = _failed(validate_suite(Warehouse(copy), suite))
    if fault in _NOT_A_FAILURE:
        assert not failed
        return
    on_table = {name: r for name, r in failed.items() if r.expectation.table == spec.table}
    assert on_table, f"{fault} went unnoticed"
    if spec.column:
        assert any(r.expectation.column in (spec.column, None) for r in on_table.values())
