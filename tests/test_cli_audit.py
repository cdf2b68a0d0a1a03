"""``audit`` over a model kernel's planning: its calls with their tokens and cost, and the
verdict of the guardrail that refused an answer, on the timeline of the version they made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dagster_agentic.cli import main
from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from tests.conftest import EXAMPLE_OBJECTIVE
from tests.model_provider import provider, schema_name
from tests.test_llm_planning import scripted


def test_audit_shows_model_calls_their_cost_and_a_rejected_answer(
    warehouse_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused: list[str] = []

    def answer(body: dict[str, Any]) -> str:
        if schema_name(body) == "PlanAnswer" and not refused:
            refused.append("once")
            return "no JSON here"  # refused: the model is asked again
        return scripted(body)

    with provider(answer) as model:
        spec = ModelKernelSpec(model="openai/gpt-4o-mini", api_base=model.url)
        goal_file = tmp_path / "goal.yaml"
        goal_file.write_text(
            yaml.safe_dump(
                {
                    "name": "churn",
                    "objective": EXAMPLE_OBJECTIVE,
                    "warehouse": str(warehouse_copy),
                    "kernel": spec.model_dump(mode="json"),
                }
            )
        )
        assert main(["plan", str(goal_file)]) == 0
    capsys.readouterr()
    assert main(["audit", str(goal_file), "--json"]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    calls = [e for e in entries if e["category"] == "model call"]
    verdicts = [e for e in entries if e["category"] == "guardrail"]
    assert len(calls) == len(model.requests) and all(e["usd"] > 0 for e in calls)
    assert len(verdicts) == 1 and ": rejected: " in verdicts[0]["summary"]
    assert {e["plan_version"] for e in entries} == {1}
    assert main(["audit", str(goal_file)]) == 0
    out = capsys.readouterr().out
    assert any("model call" in line and " tokens, $" in line for line in out.splitlines())
    total = sum(e["usd"] for e in calls)
    assert f"{len(calls)} model calls, ${total:.4f};" in out.splitlines()[-1]
    assert main(["audit", str(goal_file), "--kind", "llm", "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(calls) + len(verdicts)
