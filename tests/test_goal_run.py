"""The example goal end to end on a real tiny warehouse: dbt, training, evaluation, goal."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import precision_score, recall_score

from dagster_agentic import Goal
from dagster_agentic.plan.models import Plan
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.runner import RunSummary

RAW_TABLES = ("customers", "subscriptions", "events", "support_tickets", "payments", "churn_labels")


def _checksums(path: Path) -> dict[str, tuple[int, int]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {
            table: conn.execute(  # type: ignore[misc]
                f"SELECT count(*), sum(hash(t)) FROM main.{table} AS t"
            ).fetchone()
            for table in RAW_TABLES
        }


def test_the_goal_run_succeeds_and_reports_a_real_metric_on_the_cohort(
    goal_run: RunSummary,
) -> None:
    assert goal_run.success, goal_run.why
    assert goal_run.metric == "precision" and goal_run.target == 0.95
    assert "Europe" in goal_run.cohort
    assert goal_run.status in ("met", "not met", "inconclusive")
    assert goal_run.value is not None and 0.0 <= goal_run.value <= 1.0
    assert "precision" in goal_run.why and "cohort rows" in goal_run.why
    rendered = goal_run.render()
    for fragment in ("precision", "target 0.950", "bytes left the warehouse", "wall time"):
        assert fragment in rendered


def test_every_layer_of_the_graph_was_materialised(goal_run: RunSummary, sample_plan: Plan) -> None:
    assets = set(goal_run.assets)
    assert {"churn/training_set", "churn/model", "churn/evaluation", "churn"} <= assets
    features = {a for a in assets if a.startswith("features/churn__")}
    assert features == {f"features/churn__{g.name}" for g in sample_plan.feature_groups}
    assert len(features) >= 2


def test_expectations_ran_as_asset_checks_and_the_blocking_ones_passed(
    goal_run: RunSummary,
) -> None:
    checked_assets = {name.split(":")[0] for name in goal_run.checks}
    feature_assets = {a for a in goal_run.assets if a.startswith("features/")}
    assert feature_assets <= checked_assets  # at least one check per feature asset
    unique = [n for n in goal_run.checks if n.endswith(":unique_rows")]
    assert unique and all(goal_run.checks[n] for n in unique)
    assert "churn:goal_met" in goal_run.checks  # the verdict, a check of the goal asset
    # The point-in-time expectation on recency runs on every aggregate group, and holds.
    recency = [n for n in goal_run.checks if "days_since_last" in n]
    assert {n.split(":")[0] for n in recency} >= {"features/churn__events"}
    assert all(goal_run.checks[n] for n in recency)


def test_features_were_computed_in_the_warehouse_and_raw_data_is_untouched(
    goal_run: RunSummary, session_goal: Goal, pristine_warehouse: Path, sample_plan: Plan
) -> None:
    with duckdb.connect(str(session_goal.warehouse), read_only=True) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                [sample_plan.models_schema],
            ).fetchall()
        }
        labels = conn.execute("SELECT count(*) FROM main.churn_labels").fetchone()
        rows = conn.execute(
            f"SELECT count(*) FROM {sample_plan.models_schema}.churn__training_set"
        ).fetchone()
    assert {f"churn__{g.name}" for g in sample_plan.feature_groups} | {"churn__training_set"} == (
        tables
    )
    assert rows == labels
    assert _checksums(session_goal.warehouse) == _checksums(pristine_warehouse)


def test_only_the_selected_training_matrix_left_the_warehouse(
    goal_run: RunSummary, session_instance: dg.DagsterInstance, sample_plan: Plan
) -> None:
    assert 0 < goal_run.egress_bytes < goal_run.warehouse_bytes
    # Data gravity is asset metadata too: the model step counts what it fetched.
    model = session_instance.get_latest_materialization_event(dg.AssetKey(["churn", "model"]))
    assert model is not None and model.asset_materialization is not None
    metadata = model.asset_materialization.metadata
    assert metadata["egress_bytes"].value == goal_run.egress_bytes
    assert metadata["features"].value == len(sample_plan.feature_columns)
    # Selected features, as 4-byte floats, plus id, label, split and cohort flag, per row.
    rows = sum(metadata["rows"].value.values())
    assert goal_run.egress_bytes <= rows * (len(sample_plan.feature_columns) + 4) * 8


def test_shap_importance_and_its_plot_are_on_the_evaluation_asset(
    goal_run: RunSummary,
    session_instance: dg.DagsterInstance,
    session_goal: Goal,
    planned: PlanBundle,
    sample_plan: Plan,
) -> None:
    key = dg.AssetKey(["churn", "evaluation"])
    event = session_instance.get_latest_materialization_event(key)
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    assert "shap_summary_plot" not in metadata  # a local path says nothing in the UI
    assert "data:image/png;base64," in metadata["shap_summary"].value
    shares = [row["feature"] for row in metadata["feature_importance"].value]
    assert set(shares) <= set(sample_plan.feature_columns) and shares
    artifacts = PlanStore(session_goal.resolved_state_dir, "churn").artifacts_dir(planned.version)
    importance = json.loads((artifacts / "importance.json").read_text())
    assert set(importance["importance"]) == set(sample_plan.feature_columns)
    assert abs(sum(importance["shares"].values()) - 1.0) < 1e-6
    assert set(importance["valueless"]) <= set(sample_plan.feature_columns)


def test_the_evaluation_is_the_cohort_test_split_at_the_validation_threshold(
    goal_run: RunSummary, session_goal: Goal, planned: PlanBundle
) -> None:
    artifacts = PlanStore(session_goal.resolved_state_dir, "churn").artifacts_dir(planned.version)
    evaluation = json.loads((artifacts / "evaluation.json").read_text())
    predictions = pd.read_csv(artifacts / "predictions.csv")
    test = predictions[(predictions["split"] == "test") & predictions["in_cohort"]]
    threshold = evaluation["threshold"]["threshold"]
    predicted = (test["score"].to_numpy() >= threshold).astype(int)
    cohort = evaluation["cohort_test"]
    assert cohort["n_rows"] == len(test)
    if predicted.any():
        assert np.isclose(cohort["precision"], precision_score(test["label"], predicted))
    assert np.isclose(cohort["recall"], recall_score(test["label"], predicted, zero_division=0))
    assert cohort["value"] == cohort["precision"]
    assert goal_run.value == cohort["value"]
    # The verdict rests on the interval over the predicted positives of the cohort's test rows.
    assert cohort["support"] == cohort["n_predicted_positive"] == int(predicted.sum())
    assert cohort["interval_low"] <= cohort["value"] <= cohort["interval_high"]
    assert evaluation["verdict"] == cohort["verdict"]
    assert cohort["met"] == (cohort["verdict"] == "met")
    assert goal_run.checks["churn:goal_met"] == cohort["met"]


def test_the_goal_asset_records_status_and_why_in_the_instance(
    goal_run: RunSummary, session_instance: dg.DagsterInstance
) -> None:
    event = session_instance.get_latest_materialization_event(dg.AssetKey(["churn"]))
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    assert metadata["status"].value == goal_run.status
    assert metadata["why"].value == goal_run.why
    verdict = metadata["verdict"].value
    assert goal_run.status == {"met": "met", "not_met": "not met"}.get(verdict, verdict)
    interval = metadata["interval"].value
    assert interval["low"] <= goal_run.value <= interval["high"] and interval["level"] == 0.95
    assert interval["support_name"] == "predicted positives"
    assert "CI [" in goal_run.why
    assert metadata["plan_version"].value == goal_run.plan_version


def test_every_kernel_decision_is_in_the_trace(goal_run: RunSummary, session_goal: Goal) -> None:
    from dagster_agentic.agent.planner import trace_for

    decisions = trace_for(session_goal).records(goal="churn", kind="decision")
    names = [d.name for d in decisions]
    assert names[:2] == ["interpret_goal", "propose_plan"]
    interpret = decisions[0]
    assert interpret.actor == "policy"
    assert interpret.inputs["goal"]["objective"] == session_goal.objective
    assert interpret.outputs["metric"] == "precision"
    assert interpret.outputs["threshold"] == 0.95
    assert decisions[1].outputs["feature_groups"]


def test_an_empty_cohort_is_refused_when_planning_with_the_problem_and_the_fix(
    warehouse_copy: Path,
) -> None:
    """A cohort that selects no labelled row is a declaration problem, not a fault to heal:
    planning refuses it, names it and the fix, and writes no version."""
    import pytest

    from dagster_agentic.errors import DataError
    from dagster_agentic.goals.spec import GoalOverrides
    from dagster_agentic.plan.store import PlanStore
    from dagster_agentic.runner import run_goal

    from .conftest import make_goal

    goal = make_goal(warehouse_copy, overrides=GoalOverrides(cohort="country = 'ZZ'"))
    with pytest.raises(DataError) as raised:
        run_goal(goal)
    assert "has no rows among the" in str(raised.value)
    assert "widen the cohort" in raised.value.fix
    assert PlanStore(goal.resolved_state_dir, goal.name).accepted_version() is None
