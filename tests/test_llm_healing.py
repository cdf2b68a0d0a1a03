"""A goal whose kernel is a model heals through it: the model diagnoses and proposes the repair
(an answer naming a feature the plan lacks is sent back first), the gate tests the repair as
any other, and the trace holds every decision with the model that took it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster_shared.utils.warnings import BetaWarning

import dagster_agentic as da
from dagster_agentic.agent.planner import trace_for
from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.goals.spec import Healing
from dagster_agentic.orchestration.healing import TRIGGER_TAG
from dagster_agentic.plan.store import PlanStore
from dagster_agentic.runner import execute_version, run_goal
from example_churn.faults import apply_fault
from tests.conftest import loop_instance, make_goal
from tests.model_provider import data_of, provider, schema_name
from tests.test_llm_planning import scripted


class Healer:
    """Reads, plans and selects as ``scripted``; diagnoses as the policy did, in its own words;
    repairs as the policy proposes, after one answer that drops a feature the plan lacks."""

    def __init__(self) -> None:
        self.repairs = 0

    def __call__(self, body: dict[str, Any]) -> str:
        name, data = schema_name(body), data_of(body)
        if name == "DiagnosisAnswer":
            found = data["policy_diagnoses"]["diagnoses"]
            return json.dumps(
                {
                    "diagnoses": [
                        {**d, "explanation": "the column was renamed upstream"} for d in found
                    ]
                }
            )
        if name == "RepairProposal":
            self.repairs += 1
            proposal = dict(data["policy_proposal"])
            if self.repairs == 1:
                return json.dumps({**proposal, "drop_features": ["customers__no_such_feature"]})
            return json.dumps({**proposal, "rationale": ["read the renamed column as before"]})
        return scripted(body)


def test_a_model_kernel_diagnoses_and_repairs_a_renamed_column(
    warehouse_copy: Path,
) -> None:
    healer = Healer()
    with provider(healer) as model:
        spec = ModelKernelSpec(model="openai/gpt-4o-mini", api_base=model.url, max_calls=60)
        goal = make_goal(warehouse_copy, kernel=spec, healing=Healing(metric_tolerance=0.3))
        with loop_instance() as instance:
            green = run_goal(goal, instance=instance, log_level="ERROR")
            assert green.success, green.render()
            apply_fault(warehouse_copy, "rename_column", seed=3)
            summary = run_goal(goal, instance=instance, log_level="ERROR")

    outcome = summary.healing
    assert outcome is not None and outcome.accepted, summary.render()
    assert summary.plan_version > green.plan_version
    assert {d.cause for d in outcome.diagnoses} == {"renamed_column"}
    assert all("the column was renamed upstream" in d.explanation for d in outcome.diagnoses)
    assert "DiagnosisAnswer" in model.decisions() and healer.repairs == 2
    # The first repair answer was sent back with the reason, the second went to the gate.
    rejected = next(
        r
        for r in model.requests
        if schema_name(r) == "RepairProposal" and "rejected" in r["messages"][-1]["content"]
    )
    assert "customers__no_such_feature" in rejected["messages"][-1]["content"]
    trace = trace_for(goal)
    decisions = {r.name: r for r in trace.records(goal="churn", kind="decision")}
    assert decisions["diagnose"].actor == decisions["propose_repair"].actor == "llm"
    assert (
        "proposed by model openai/gpt-4o-mini" in decisions["propose_repair"].outputs["rationale"]
    )


def test_the_heal_job_takes_the_model_kernel_as_a_resource(
    warehouse_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a deployment heals: the definitions carry the model kernel as the resource
    ``agentic_kernel`` (its key from EnvVar); the heal job the sensor launches diagnoses and
    repairs through it."""
    monkeypatch.setenv("AGENTIC_TEST_MODEL_KEY", "sk-test-heal-91ab")
    healer = Healer()
    with provider(healer) as model:
        resource = da.ModelKernelResource(
            model="openai/gpt-4o-mini",
            api_base=model.url,
            api_key=dg.EnvVar("AGENTIC_TEST_MODEL_KEY"),
            max_calls=60,
        )
        goal = make_goal(warehouse_copy, healing=Healing(metric_tolerance=0.3))
        defs = da.goal_definitions(goal, kernel=resource)
        bundle = PlanStore(goal.resolved_state_dir, goal.name).load_accepted()
        assert bundle is not None and bundle.plan.kernel == "llm"
        with loop_instance() as instance:
            assert execute_version(goal, bundle, instance, log_level="ERROR").success
            apply_fault(warehouse_copy, "rename_column", seed=3)
            failed = execute_version(goal, bundle, instance, log_level="ERROR")
            assert not failed.success
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", BetaWarning)
                job = defs.resolve_job_def("churn__heal")
            heal = job.execute_in_process(
                instance=instance, tags={TRIGGER_TAG: failed.run_id}, raise_on_error=False
            )
    assert heal.success
    assert heal.output_for_node("churn__heal_op") == "repaired"
    assert "DiagnosisAnswer" in model.decisions() and "RepairProposal" in model.decisions()
    assert all(h["Authorization"] == "Bearer sk-test-heal-91ab" for h in model.headers)
    live = PlanStore(goal.resolved_state_dir, goal.name).load_accepted()
    assert live is not None and live.version > bundle.version
