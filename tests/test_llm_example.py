"""The example goal end to end through litellm, against a loopback server answering as the
policy kernel decided: the same plan and the same outcome as the policy kernel's own run."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from dagster_agentic.agent.planner import trace_for
from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.plan.store import PlanStore
from dagster_agentic.runner import run_goal
from tests.conftest import make_goal
from tests.model_provider import provider
from tests.policy_echo import policy_echo


def test_the_example_goal_through_litellm_has_the_policys_outcome(
    warehouse_copy: Path, pristine_warehouse: Path, tmp_path: Path
) -> None:
    # The policy kernel's own run, on another copy of the same warehouse.
    (tmp_path / "policy").mkdir()
    shutil.copy(pristine_warehouse, tmp_path / "policy" / "warehouse.duckdb")
    policy_goal = make_goal(tmp_path / "policy" / "warehouse.duckdb")
    with dg.instance_for_test() as instance:
        goal_run = run_goal(policy_goal, instance=instance, log_level="ERROR")
    planned = PlanStore(policy_goal.resolved_state_dir, "churn").load_accepted()
    assert planned is not None and planned.plan.kernel == "policy"

    with provider(policy_echo) as model:
        spec = ModelKernelSpec(model="openai/gpt-4o-mini", api_base=model.url)
        goal = make_goal(warehouse_copy, kernel=spec)
        with dg.instance_for_test() as instance:
            summary = run_goal(goal, instance=instance, log_level="ERROR")
    assert model.decisions() == ["ReadingAnswer", "PlanAnswer", "FeatureAnswer"]

    # The same reading, plan and outcome as the policy kernel's run of the same data.
    assert summary.success and summary.status == goal_run.status
    assert summary.value == goal_run.value and summary.metric == goal_run.metric
    assert summary.cohort == goal_run.cohort
    live = PlanStore(goal.resolved_state_dir, goal.name).load_accepted()
    assert live is not None and live.plan.kernel == "llm"
    ours, theirs = live.plan, planned.plan
    assert ours.objective.model_dump(exclude={"rationale"}) == (
        theirs.objective.model_dump(exclude={"rationale"})
    )
    assert ours.feature_columns == theirs.feature_columns
    assert ours.training == theirs.training
    assert summary.model_spend is not None and summary.model_spend["calls"] == 3
    assert "model kernel  openai/gpt-4o-mini: 3 calls" in summary.render()
    assert goal_run.model_spend is None
    calls = trace_for(goal).records(goal="churn", kind="llm")
    assert len(calls) == 3 and all(c.outputs["error"] is None for c in calls)
