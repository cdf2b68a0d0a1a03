"""A goal whose kernel is a model heals through it: the model diagnoses and proposes the repair
(an answer naming a feature the plan lacks is sent back first), the gate tests the repair as
any other, and the trace holds every decision with the model that took it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg

from dagster_agentic.agent.planner import trace_for
from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.goals.spec import Healing
from dagster_agentic.runner import run_goal
from example_churn.faults import apply_fault
from tests.conftest import make_goal
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
        with dg.instance_for_test() as instance:
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
