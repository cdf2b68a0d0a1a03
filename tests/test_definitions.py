"""Definitions are built from the accepted plan version; a new version changes the graph."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_agentic import Goal, goal_definitions
from dagster_agentic.orchestration.definitions import build_definitions
from dagster_agentic.plan.store import PlanBundle, PlanStore

from .conftest import add_survey_table, make_goal

K = dg.AssetKey


def _graph(defs: dg.Definitions) -> dict[dg.AssetKey, set[dg.AssetKey]]:
    graph = defs.resolve_asset_graph()
    return {key: set(graph.get(key).parent_keys) for key in graph.get_all_asset_keys()}


def test_the_graph_reads_raw_to_features_to_training_set_to_model_to_evaluation_to_goal(
    session_goal: Goal, planned: PlanBundle
) -> None:
    graph = _graph(build_definitions(session_goal, planned))
    features = {k for k in graph if k.path[0] == "features"}
    assert K(["features", "churn__payments"]) in features
    for key in features:
        # Raw tables reach the features through the gate that validates them.
        assert graph[key] and all(
            p.path[0] == "raw" or p == K(["churn", "sources"]) for p in graph[key]
        ), key
    assert K(["churn", "sources"]) in set().union(*(graph[key] for key in features))
    assert graph[K(["churn", "training_set"])] >= features
    assert graph[K(["churn", "model"])] == {K(["churn", "training_set"])}
    assert graph[K(["churn", "evaluation"])] == {K(["churn", "model"])}
    assert graph[K(["churn"])] == {K(["churn", "evaluation"])}
    assert graph[K(["features", "churn__payments"])] >= {K(["raw", "payments"])}


def test_every_feature_asset_has_an_expectation_check(
    session_goal: Goal, planned: PlanBundle
) -> None:
    defs = build_definitions(session_goal, planned)
    graph = defs.resolve_asset_graph()
    checked = {check.asset_key for check in graph.asset_check_keys}
    features = {k for k in graph.get_all_asset_keys() if k.path[0] == "features"}
    assert features and features <= checked


def test_a_new_table_is_planned_in_with_no_code_change(warehouse_copy: Path) -> None:
    goal = make_goal(warehouse_copy)
    before = goal_definitions(goal).resolve_asset_graph().get_all_asset_keys()
    assert K(["features", "churn__nps_surveys"]) not in before

    # A new source appears in the warehouse: the schema change alone triggers the next plan.
    add_survey_table(warehouse_copy)
    after = goal_definitions(goal).resolve_asset_graph()

    store = PlanStore(goal.resolved_state_dir, goal.name)
    assert store.versions() == [1, 2]
    assert store.load(2).meta["reason"] == "warehouse grew: table nps_surveys"
    assert K(["features", "churn__nps_surveys"]) in after.get_all_asset_keys()
    assert K(["raw", "nps_surveys"]) in after.get(K(["features", "churn__nps_surveys"])).parent_keys


def test_a_breaking_schema_change_keeps_the_accepted_version_for_the_checks(
    warehouse_copy: Path,
) -> None:
    from dagster_agentic.agent.planner import ensure_plan
    from dagster_agentic.runner import run_goal
    from example_churn.faults import apply_fault

    goal = make_goal(warehouse_copy)
    first = ensure_plan(goal)
    apply_fault(warehouse_copy, "rename_column")  # payments.amount -> amount_eur
    assert ensure_plan(goal).version == first.version
    summary = run_goal(goal, log_level="CRITICAL", heal=False)
    assert summary.plan_version == first.version and not summary.success
    assert summary.checks["churn/sources:payments__amount__column_exists"] is False
    assert summary.assets == ()
