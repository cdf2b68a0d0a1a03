"""Choosing the model kernel: in a goal's YAML or Python, or as a Dagster resource whose key
comes from the environment and is never written anywhere."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster_shared.utils.warnings import BetaWarning

import dagster_agentic as da
from dagster_agentic.agent.planner import default_kernel, trace_for
from dagster_agentic.errors import GoalError
from dagster_agentic.goals.loading import load_goal_file
from dagster_agentic.kernel.llm.kernel import LLMKernel
from dagster_agentic.kernel.policy.kernel import PolicyKernel
from tests.model_provider import provider
from tests.test_llm_planning import scripted


def _goal_file(tmp_path: Path, kernel: object) -> Path:
    path = tmp_path / "goal.yaml"
    fields = {"name": "churn", "objective": "Predict churn", "warehouse": "w.duckdb"}
    path.write_text(yaml.safe_dump({**fields, "kernel": kernel}))
    return path


def test_a_kernel_mapping_in_yaml(tmp_path: Path) -> None:
    goal = load_goal_file(
        _goal_file(
            tmp_path,
            {
                "model": "ollama/llama3.1",
                "api_base": "http://127.0.0.1:11434",
                "max_usd": None,
                "mode": "model",
                "decisions": ["interpret_goal"],
            },
        )
    )
    assert goal.kernel is not None and goal.kernel.model == "ollama/llama3.1"
    assert goal.kernel.max_usd is None and goal.kernel.decisions == ("interpret_goal",)
    kernel = default_kernel(goal)
    assert isinstance(kernel, LLMKernel) and kernel.spec == goal.kernel
    assert "ollama/llama3.1" in kernel.version


def test_a_model_string_alone_and_the_policy_by_name(tmp_path: Path) -> None:
    goal = load_goal_file(_goal_file(tmp_path, "openai/gpt-4.1-mini"))
    assert goal.kernel is not None and goal.kernel.max_calls == 40
    assert load_goal_file(_goal_file(tmp_path, "policy")).kernel is None
    assert isinstance(default_kernel(load_goal_file(_goal_file(tmp_path, "policy"))), PolicyKernel)


@pytest.mark.parametrize(
    ("kernel", "message"),
    [
        ({"model": "gpt 4"}, "must be a litellm model string"),
        ({"model": "openai/x", "max_trails": 3}, "max_trails: Extra inputs are not permitted"),
        ({"model": "openai/x", "api_key": "sk-live-123"}, "api_key: Extra inputs are not"),
        ({"model": "openai/x", "api_key_env": "sk-live-123"}, "must name an environment variable"),
        ({"model": "openai/x", "api_base": "file:///etc/passwd"}, "http:// or https:// URL"),
        ({"model": "openai/x", "input_usd_per_million": 1}, "set input_usd_per_million and"),
        ([1, 2], "kernel must be a mapping"),
    ],
)
def test_a_bad_kernel_declaration_names_the_problem(
    tmp_path: Path, kernel: object, message: str
) -> None:
    with pytest.raises(GoalError, match=message):
        load_goal_file(_goal_file(tmp_path, kernel))


def test_the_component_takes_a_kernel(tmp_path: Path) -> None:
    component = da.GoalComponent(
        name="churn",
        objective="Predict churn",
        warehouse=str(tmp_path / "w.duckdb"),
        kernel={"model": "anthropic/claude-sonnet-4-5", "max_usd": 0.5},
    )
    goal = component.goal()
    assert goal.kernel is not None and goal.kernel.model == "anthropic/claude-sonnet-4-5"


def test_a_resource_with_its_key_from_the_environment(
    warehouse_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-4f1c9a2b7e"
    monkeypatch.setenv("AGENTIC_TEST_MODEL_KEY", secret)
    with provider(scripted) as model:
        resource = da.ModelKernelResource(
            model="openai/gpt-4o-mini",
            api_base=model.url,
            api_key=dg.EnvVar("AGENTIC_TEST_MODEL_KEY"),
        )
        goal = da.Goal(name="churn", objective=_objective(), warehouse=warehouse_copy)
        defs = da.goal_definitions(goal, kernel=resource)
    assert model.decisions() == ["ReadingAnswer", "PlanAnswer", "FeatureAnswer"]
    assert all(h["Authorization"] == f"Bearer {secret}" for h in model.headers)
    with warnings.catch_warnings():
        # Dagster passes a beta parameter of its own sensors when it resolves the repository.
        warnings.simplefilter("ignore", BetaWarning)
        heal = defs.resolve_job_def("churn__heal")
    assert "agentic_kernel" in heal.nodes[0].definition.required_resource_keys  # type: ignore[union-attr]
    assert isinstance(defs.resources["agentic_kernel"], da.ModelKernelResource)
    # The key is in no file the goal wrote: not the plan, not the trace.
    state = goal.resolved_state_dir
    written = [p for p in state.rglob("*") if p.is_file()]
    assert any(p.name == "trace.sqlite" for p in written)
    assert all(secret.encode() not in p.read_bytes() for p in written)
    assert trace_for(goal).records(goal="churn", kind="llm")


def _objective() -> str:
    from tests.conftest import EXAMPLE_OBJECTIVE

    return EXAMPLE_OBJECTIVE


def test_the_goal_dump_holds_no_secret(tmp_path: Path) -> None:
    goal = load_goal_file(_goal_file(tmp_path, {"model": "openai/x", "api_key_env": "OPENAI_KEY"}))
    dumped = json.dumps(goal.model_dump(mode="json"))
    assert '"api_key_env": "OPENAI_KEY"' in dumped and "sk-" not in dumped
