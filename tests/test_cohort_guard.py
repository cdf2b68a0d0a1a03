"""The cohort is guarded: its column's type and values are critical expectations.

A goal is judged on its cohort's rows. When the cohort column's values change spelling the
cohort check fails at once (never a late "no rows in the validation split"), the existing
relabel diagnosis names the change and a mapping repair restores the cohort; when the
cohort's rows are simply gone the repair is refused with that cause; and a training set whose
cohort misses a split fails a named critical check.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dagster_agentic.agent.planner import load_suite
from dagster_agentic.expectations.training_frame import COHORT, validate_training_frame
from dagster_agentic.goals.spec import Goal, Healing
from dagster_agentic.healing.health import read_health
from dagster_agentic.healing.loop import failed_data_checks
from dagster_agentic.kernel.policy.cohort import CohortColumn, cohort_columns
from dagster_agentic.plan.models import Plan
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.runner import RunSummary, run_goal

from .conftest import EXAMPLE_OBJECTIVE, loop_instance
from .typed_warehouse import OBJECTIVE, build_typed_warehouse

TOLERANCE = 0.3
"""The tiny cohorts' metrics move in coarse steps; the gate's tolerance is wide here."""


def _run(goal: Goal) -> RunSummary:
    with loop_instance() as instance:
        return run_goal(goal, instance=instance, log_level="ERROR")


def test_the_cohort_columns_are_parsed_from_the_predicate() -> None:
    assert cohort_columns("country IN ('DE', 'FR')") == (CohortColumn("country", ("DE", "FR")),)
    assert cohort_columns("'x''y' = \"Home Region\"") == (CohortColumn("Home Region", ("x'y",)),)
    assert cohort_columns("is_pro = TRUE") == (CohortColumn("is_pro", ("true",)),)
    parsed = {c.column: c.values for c in cohort_columns("NOT (tier = 'gold') AND age > 30")}
    assert parsed == {"tier": ("gold",), "age": ()}
    assert cohort_columns(None) == () and cohort_columns("") == ()


def test_the_planned_suite_guards_the_cohort_critically(planned: PlanBundle) -> None:
    objective = planned.plan.objective
    assert objective.cohort_sql and objective.entity_table == "customers"
    suite = load_suite(planned)
    guard = {e.kind: e for e in suite.of("customers") if e.column == "country"}
    assert {"column_type", "accepted_values", "cohort_share_between"} <= set(guard)
    assert all(guard[k].critical for k in ("column_type", "accepted_values"))
    share = guard["cohort_share_between"]
    assert share.critical and share.predicate == objective.cohort_sql
    assert 0.0 < (share.min_value or 0.0) < (share.max_value or 0.0) <= 1.0
    assert {"DE", "FR"} <= set(guard["accepted_values"].values)


def _heal(goal: Goal, fault: str) -> RunSummary:
    with duckdb.connect(str(goal.warehouse)) as conn:
        conn.execute(fault)
    return _run(goal)


@pytest.fixture(scope="module")
def example(pristine_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A green run of the example goal, snapshotted (plan versions name their warehouse)."""
    root = tmp_path_factory.mktemp("cohort_example")
    (root / "work").mkdir()
    shutil.copy(pristine_warehouse, root / "work" / "warehouse.duckdb")
    summary = _run(_example_goal(root / "work" / "warehouse.duckdb"))
    assert summary.success and not failed_data_checks(summary), summary.render()
    shutil.copytree(root / "work", root / "snapshot")
    return root


def _example_goal(warehouse: Path) -> Goal:
    return Goal(
        name="churn",
        objective=EXAMPLE_OBJECTIVE,
        warehouse=warehouse,
        healing=Healing(metric_tolerance=TOLERANCE),
    )


def _restore(root: Path) -> Goal:
    shutil.rmtree(root / "work")
    shutil.copytree(root / "snapshot", root / "work")
    return _example_goal(root / "work" / "warehouse.duckdb")


def _assert_repaired(summary: RunSummary, goal: Goal, table: str) -> None:
    outcome = summary.healing
    assert outcome is not None, summary.render()
    detected = set(outcome.detected)
    assert any(f"{table}__country__accepted_values" in name for name in detected), detected
    assert outcome.diagnoses[0].cause == "relabelled_categories", outcome.diagnoses
    assert outcome.diagnoses[0].column == "country"
    assert outcome.status == "repaired", summary.render()
    assert summary.success and failed_data_checks(summary) == [], summary.render()
    assert read_health(goal)["status"] == "healthy"
    live = PlanStore(goal.resolved_state_dir, goal.name).load_accepted()
    assert live is not None
    fixes = [f for a in live.plan.sources if a.table == table for f in a.columns]
    assert any(f.kind == "relabel" and f.column == "country" for f in fixes), fixes


def test_lower_case_cohort_codes_are_detected_and_mapped_back(example: Path) -> None:
    goal = _restore(example)
    summary = _heal(goal, "UPDATE customers SET country = lower(country)")
    _assert_repaired(summary, goal, "customers")


def test_a_vanished_cohort_is_refused_with_its_cause(example: Path) -> None:
    goal = _restore(example)
    live = PlanStore(goal.resolved_state_dir, goal.name).accepted_version()
    cohort = PlanStore(goal.resolved_state_dir, goal.name).load_accepted()
    assert cohort is not None and cohort.plan.objective.cohort_sql
    # Every cohort row moves to a value outside the cohort that the column already held.
    summary = _heal(
        goal,
        f"UPDATE customers SET country = 'US' WHERE {cohort.plan.objective.cohort_sql}",
    )
    failed = failed_data_checks(summary)
    assert "churn/sources:customers__country__cohort_share_between" in failed, failed
    outcome = summary.healing
    assert outcome is not None and outcome.status == "degraded", summary.render()
    why = " ".join(a.why for a in outcome.attempts)
    assert "cohort" in why and "vanished" in why, why
    assert PlanStore(goal.resolved_state_dir, goal.name).accepted_version() == live
    assert "no rows in the validation split" not in summary.render()


def test_another_warehouse_maps_cohort_names_back_to_codes(tmp_path: Path) -> None:
    warehouse = build_typed_warehouse(tmp_path / "typed.duckdb")
    goal = Goal(
        name="cancel",
        objective=OBJECTIVE,
        warehouse=warehouse,
        healing=Healing(metric_tolerance=TOLERANCE),
    )
    first = _run(goal)
    assert first.success and not failed_data_checks(first), first.render()
    names = {"DE": "Germany", "FR": "France", "US": "United States", "GB": "United Kingdom"}
    names |= {"JP": "Japan", "ES": "Spain"}
    cases = " ".join(f"WHEN '{code}' THEN '{name}'" for code, name in names.items())
    summary = _heal(goal, f"UPDATE accounts SET country = CASE country {cases} END")
    _assert_repaired(summary, goal, "accounts")


def _frame(plan: Plan, rows: int = 300) -> pd.DataFrame:
    index = np.arange(rows)
    data: dict[str, object] = {
        "entity_id": index,
        "cutoff_at": pd.to_datetime(["2024-06-01"] * rows),
        "label": (index % 4 == 0).astype(np.int8),
        "split": pd.Series(np.array(["train", "valid", "test"])[index % 3], dtype="str"),
        "in_cohort": index % 5 != 0,
    }
    for column in plan.feature_columns:
        data[column] = np.zeros(rows, dtype=np.float32)
    return pd.DataFrame(data)


def test_a_cohort_missing_from_a_split_is_a_named_critical_check(sample_plan: Plan) -> None:
    frame = _frame(sample_plan)
    checks = {c.name: c for c in validate_training_frame(frame, sample_plan, None)}
    assert checks[COHORT].passed and checks[COHORT].critical
    frame.loc[frame["split"] == "valid", "in_cohort"] = False
    check = {c.name: c for c in validate_training_frame(frame, sample_plan, None)}[COHORT]
    assert check.critical and not check.passed
    assert "no rows in the valid split" in check.description
    assert check.observed == {"splits_without_cohort_rows": ["valid"]}
    frame["in_cohort"] = False
    check = {c.name: c for c in validate_training_frame(frame, sample_plan, None)}[COHORT]
    assert not check.passed and set(check.observed["splits_without_cohort_rows"]) == {
        "train",
        "valid",
        "test",
    }
