"""The leakage audit on real plans and real DuckDB files.

Each feature computed as of the cutoff must equal the same feature computed on the warehouse
with every later row removed. The audit must pass the plans the agent makes, catch plans that
read the future (a lost time filter, a path without its time, a table with no readable time),
flag single features that are too good to be true, and keep a repair of a re-encoded time
column point in time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_agentic import Goal
from dagster_agentic.agent.planner import LEAKAGE_FILE, PROFILE_FILE, load_suite, plan_goal
from dagster_agentic.expectations.validate import validate_suite
from dagster_agentic.features.adapters import adapted_sources
from dagster_agentic.features.leakage import audit_bundle, audit_plan, without_leaks
from dagster_agentic.features.screening import ScreeningReport
from dagster_agentic.healing.diagnosis import diagnose
from dagster_agentic.healing.evidence import collect_evidence
from dagster_agentic.kernel.policy.remedies import propose_repair
from dagster_agentic.kernel.protocol import RepairRequest
from dagster_agentic.plan.models import FeatureGroup, FeatureSpec, Plan
from dagster_agentic.plan.store import PlanBundle
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from example_churn.faults import apply_fault

from .conftest import EXAMPLE_OBJECTIVE
from .shop_warehouse import CUTOFF, OBJECTIVE, build_shop_warehouse
from .snapshots import with_retention_calls


def _without_time(plan: Plan, group: str) -> Plan:
    groups = tuple(
        g.model_copy(update={"time_column": None}) if g.name == group else g
        for g in plan.feature_groups
    )
    return plan.model_copy(update={"feature_groups": groups})


def test_the_agents_own_plan_passes_the_audit_in_seconds(
    planned: PlanBundle, session_goal: Goal
) -> None:
    written = json.loads((planned.path / LEAKAGE_FILE).read_text())
    assert written["passed"] is True, written["summary"]
    audit = audit_bundle(session_goal, planned)
    assert audit.passed, audit.summary()
    assert audit.sample_rows >= 300 and audit.cutoffs
    assert audit.features == len(planned.plan.feature_columns)
    aggregated = {
        g.source_table for g in planned.plan.feature_groups if g.kind != "entity_attributes"
    }
    assert {t.table for t in audit.truncated} == aggregated
    assert audit.seconds < 20, audit.summary()


def test_a_plan_that_lost_its_time_filter_leaks_and_loses_those_features(
    planned: PlanBundle, session_goal: Goal
) -> None:
    plan = planned.plan
    group = next(g for g in plan.feature_groups if g.source_table == "payments")
    leaky = _without_time(plan, group.name)
    audit = audit_plan(Warehouse(session_goal.warehouse), leaky)
    assert not audit.passed
    leaking = set(audit.leaking_columns)
    assert leaking and all(c.startswith(f"{group.name}__") for c in leaking)
    count = next((f for f in group.features if f.name == "n_rows"), None)
    if count is not None:
        assert group.column_name(count) in leaking
    leak = audit.leaks[0]
    assert 0 < leak.rows_differing <= leak.rows_compared
    assert set(leak.example) == {"entity_id", "cutoff_at", "as_planned", "without_later_rows"}
    assert leak.example["as_planned"] != leak.example["without_later_rows"]
    kept, reasons = without_leaks(leaky, audit)
    assert kept is not None and reasons
    assert not set(kept.feature_columns) & leaking
    assert set(kept.feature_columns) == set(plan.feature_columns) - leaking
    assert "leak: " in audit.summary()


def test_a_group_on_a_table_without_time_is_unproven(
    planned: PlanBundle, warehouse_copy: Path
) -> None:
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute(
            "CREATE TABLE call_notes AS SELECT customer_id, 'called' AS body"
            " FROM customers, range(3)"
        )
    notes = FeatureGroup(
        name="call_notes",
        kind="child_aggregates",
        source_table="call_notes",
        join_column="customer_id",
        features=(FeatureSpec(name="n_rows", expression='count(t."customer_id")', hypothesis="x"),),
    )
    plan = planned.plan
    raw = plan.raw_tables[0].model_copy(update={"name": "call_notes", "columns": ()})
    plan = plan.model_copy(
        update={
            "feature_groups": (*plan.feature_groups, notes),
            "raw_tables": (*plan.raw_tables, raw),
        }
    )
    audit = audit_plan(Warehouse(warehouse_copy), plan)
    assert not audit.passed
    assert [u.group for u in audit.unproven] == ["call_notes"]
    kept, reasons = without_leaks(plan, audit)
    assert kept is not None and "call_notes" not in {g.name for g in kept.feature_groups}
    assert any("call_notes" in r for r in reasons)


@pytest.fixture(scope="module")
def shop_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Goal, PlanBundle]:
    """The shop warehouse: lapsed members come back for visits after the cutoff, and (here)
    some of those visits carry purchases stamped the day before it: only the path's own time
    (the visit's) tells that they were not there yet."""
    root = tmp_path_factory.mktemp("shop")
    path = build_shop_warehouse(root / "shop.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute(
            "INSERT INTO purchases SELECT (SELECT max(purchase_no) FROM purchases)"
            " + row_number() OVER (ORDER BY visit_no), visit_no,"
            f" TIMESTAMP '{CUTOFF}' - INTERVAL 1 DAY, 'SKU001', 10.0"
            f" FROM visits WHERE started >= TIMESTAMP '{CUTOFF}'"
        )
    goal = Goal(name="lapse", objective=OBJECTIVE, warehouse=path, state_dir=root / "state")
    return goal, plan_goal(goal)


def test_the_shop_plan_passes_and_a_path_without_its_time_leaks(
    shop_bundle: tuple[Goal, PlanBundle],
) -> None:
    goal, bundle = shop_bundle
    audit = audit_bundle(goal, bundle)
    assert audit.passed, audit.summary()
    plan = bundle.plan
    visits = next(g for g in plan.feature_groups if g.source_table == "visits" and g.via is None)
    leaky = audit_plan(Warehouse(goal.warehouse), _without_time(plan, visits.name))
    assert any(c.startswith(f"{visits.name}__") for c in leaky.leaking_columns), leaky.summary()
    path = next(g for g in plan.feature_groups if g.via is not None)
    assert path.via is not None and path.via.time_column == "started"
    lost = path.model_copy(update={"via": path.via.model_copy(update={"time_column": None})})
    groups = tuple(lost if g.name == path.name else g for g in plan.feature_groups)
    via_audit = audit_plan(
        Warehouse(goal.warehouse), plan.model_copy(update={"feature_groups": groups})
    )
    assert via_audit.leaking_columns, via_audit.summary()
    assert all(c.startswith(f"{path.name}__") for c in via_audit.leaking_columns)


def test_a_too_good_single_feature_is_flagged_strong(
    pristine_warehouse: Path, tmp_path: Path
) -> None:
    path = with_retention_calls(pristine_warehouse, tmp_path / "warehouse.duckdb")
    goal = Goal(name="churn", objective=EXAMPLE_OBJECTIVE, warehouse=path, state_dir=tmp_path / "s")
    bundle = plan_goal(goal)
    screened = json.loads((bundle.path / "screening.json").read_text())
    report = ScreeningReport.model_validate(screened["report"])
    # The selection already refuses such features; a plan that holds them (another kernel's,
    # say) is flagged by the audit, on the screening's own figures.
    calls = next(
        FeatureGroup.model_validate(g)
        for g in screened["candidates"]
        if g["source_table"] == "retention_calls"
    )
    assert "retention_calls" not in {g.source_table for g in bundle.plan.feature_groups}
    raw = bundle.plan.raw_tables[0].model_copy(update={"name": "retention_calls"})
    greedy = bundle.plan.model_copy(
        update={
            "feature_groups": (*bundle.plan.feature_groups, calls),
            "raw_tables": (*bundle.plan.raw_tables, raw),
        }
    )
    audit = audit_plan(Warehouse(path), greedy, screening=report)
    strong = {s.column for s in audit.strong}
    assert "retention_calls__share_outcome_lost" in strong, audit.summary()
    assert all(c.startswith("retention_calls__") for c in strong)
    assert audit.passed, audit.summary()  # recorded before the cutoff: strong, not a leak
    assert "strong: retention_calls__" in audit.summary()


# --- a re-encoded time column, diagnosed and repaired without a leak -----------------------------


@pytest.mark.parametrize("fault", ["text_time", "epoch_time"])
def test_a_time_column_in_another_encoding_is_read_as_a_time_again(
    fault: str, session_goal: Goal, planned: PlanBundle, tmp_path: Path
) -> None:
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(session_goal.warehouse, path)
    apply_fault(path, fault, seed=3)
    warehouse = Warehouse(path)
    plan = planned.plan
    results = validate_suite(warehouse, load_suite(planned), relations=adapted_sources(plan))
    reference = WarehouseProfile.model_validate_json((planned.path / PROFILE_FILE).read_text())
    evidence = collect_evidence(warehouse, reference, results)
    diagnoses = diagnose(evidence)
    changed = next(d for d in diagnoses if d.cause == "changed_type")
    assert changed.details["parse_time"]["share"] >= 0.95
    goal = session_goal.model_copy(update={"warehouse": path})
    proposal = propose_repair(
        RepairRequest(goal=goal, plan=plan, diagnoses=diagnoses, measurements={}, refused=())
    )
    assert proposal.action == "adapt", proposal.rationale
    fixes = [f for a in proposal.sources for f in a.columns if f.kind == "parse_time"]
    assert [(f.column, f.format, f.epoch_unit) for f in fixes] == [
        {
            "text_time": ("paid_at", "%d/%m/%Y %H:%M", None),
            "epoch_time": ("created_at", None, "s"),
        }[fault]
    ]
    repaired = plan.model_copy(update={"sources": proposal.sources})
    after = validate_suite(warehouse, load_suite(planned), relations=adapted_sources(repaired))
    failed = [f"{r.expectation.name}: {r.message}" for r in after if not r.passed]
    assert not failed
    audit = audit_plan(warehouse, repaired)
    assert audit.passed, audit.summary()
    table = fixes[0].column
    assert any(t.column == table and "holds times" in t.reading for t in audit.truncated)
