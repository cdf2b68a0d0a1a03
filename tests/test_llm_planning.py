"""A goal planned by the model kernel end to end (reading, plan, features) over real HTTP,
replayed with no model into the same plan bundle, and traced as OpenTelemetry GenAI spans."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from dagster_agentic.agent.planner import ensure_plan, trace_for
from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.kernel.llm.kernel import LLMKernel
from dagster_agentic.observability.trace import Trace
from tests.conftest import make_goal
from tests.model_provider import data_of, provider, schema_name
from tests.otlp_receiver import Receiver

EUROPE = {"DE", "FR", "GB", "ES", "IT", "NL", "SE", "PL", "BE", "AT", "IE", "PT", "DK", "FI"}


def scripted(body: dict[str, Any]) -> str:
    """A model that reads the example goal, keeps the plan's groups with the families reversed,
    and drops the weakest feature the policy kept."""
    data, name = data_of(body), schema_name(body)
    if name == "ReadingAnswer":
        tables = {t["name"]: t for t in data["warehouse"]["tables"]}
        country = next(c for c in tables["customers"]["columns"] if c["name"] == "country")
        return json.dumps(
            {
                "target": "churn_labels.churned",
                "task": "binary_classification",
                "metric": "precision",
                "threshold": 0.95,
                "positive_value": 1,
                "entity_table": "customers",
                "cohort": [
                    {
                        "column": "customers.country",
                        "op": "in",
                        "values": sorted(v for v in country["values"] if v in EUROPE),
                    }
                ],
                "cohort_description": "European customers",
                "rationale": {"cohort": "'European cohorts': the European country codes held"},
            }
        )
    if name == "PlanAnswer":
        return json.dumps(
            {
                "keep_groups": [g["name"] for g in data["feature_groups"]],
                "families": list(reversed(data["model_families"])),
                "rationale": ["every source can carry churn signal"],
            }
        )
    if name == "FeatureAnswer":
        kept = [c for c in data["candidates"] if c["policy_keep"]]
        weakest = min(kept, key=lambda c: c["mutual_information_bits"])["column"]
        return json.dumps(
            {
                "decisions": [
                    {
                        "column": c["column"],
                        "keep": c["policy_keep"] and c["column"] != weakest,
                        "reason": "weakest of the kept" if c["column"] == weakest else "",
                    }
                    for c in data["candidates"]
                ]
            }
        )
    raise AssertionError(f"unexpected decision {name}")


def _attributes(span: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for attribute in span.attributes:
        kind = attribute.value.WhichOneof("value")
        values[attribute.key] = getattr(attribute.value, kind)
    return values


def test_a_goal_planned_by_a_model_replays_byte_for_byte(
    warehouse_copy: Path, tmp_path: Path, receiver: Receiver
) -> None:
    with provider(scripted) as model:
        spec = ModelKernelSpec(
            model="openai/gpt-4o-mini", api_base=model.url, otlp_endpoint=receiver.url
        )
        goal = make_goal(warehouse_copy, kernel=spec)
        bundle = ensure_plan(goal)
    assert model.decisions() == ["ReadingAnswer", "PlanAnswer", "FeatureAnswer"]

    plan = bundle.plan
    assert plan.kernel == "llm"
    assert plan.objective.cohort_sql is not None and "'DE'" in plan.objective.cohort_sql
    assert any("'European cohorts'" in line for line in plan.rationale)
    families = [c.family for c in plan.training.candidates]
    assert families == ["logistic", "torch_mlp", "lightgbm"]  # the policy's order, reversed
    selection = json.loads((bundle.path / "screening.json").read_text())["selection"]
    dropped = [d for d in selection["decisions"] if d["rule"] == "model_dropped"]
    assert len(dropped) == 1 and "weakest of the kept" in dropped[0]["reason"]

    # Every decision is traced with the model that took it; every call with its spend.
    trace = trace_for(goal)
    decisions = trace.records(goal="churn", kind="decision")
    assert [d.name for d in decisions[:3]] == ["interpret_goal", "propose_plan", "select_features"]
    calls = trace.records(goal="churn", kind="llm")
    assert [c.outputs["spend"]["calls"] for c in calls] == [1, 2, 3]

    # GenAI spans: one invoke_agent per decision, a chat span inside each with the usage.
    chats = [s for s in receiver.spans if s.name == "chat openai/gpt-4o-mini"]
    agents = {s.span_id: s for s in receiver.spans if s.name == "invoke_agent dagster-agentic"}
    assert len(chats) == 3 and len(agents) == 3
    for chat in chats:
        assert chat.parent_span_id in agents
        attributes = _attributes(chat)
        assert attributes["gen_ai.operation.name"] == "chat"
        assert attributes["gen_ai.provider.name"] == "openai"
        assert attributes["gen_ai.request.model"] == "openai/gpt-4o-mini"
        assert attributes["gen_ai.usage.input_tokens"] > 0
        assert attributes["gen_ai.usage.output_tokens"] > 0

    # Replay with no model: the same goal planned again from the recorded trace.
    recorded = tmp_path / "recorded"
    shutil.move(goal.resolved_state_dir, recorded)
    replay = LLMKernel.replaying(
        spec, recorded=Trace(recorded / "trace.sqlite"), trace=trace_for(goal), goal="churn"
    )
    again = ensure_plan(goal, kernel=replay)
    original = recorded / bundle.path.relative_to(goal.resolved_state_dir)
    assert again.version == bundle.version
    # plan.json, the dbt project and every other file are byte for byte the same, but for
    # version.json (when it was written), dbt's own logs and run files, the seconds the
    # screening and the leakage audit took, recorded in their reports, and the last bits of
    # statistics DuckDB sums in parallel (a mean, a mutual information): equal to 1e-9.
    assert (original / "plan.json").read_bytes() == (again.path / "plan.json").read_bytes()
    compared = 0
    for path in sorted(original.rglob("*")):
        relative = path.relative_to(original)
        if path.is_dir() or relative.parts[:2] in {("dbt", "logs"), ("dbt", "target")}:
            continue
        if relative.name == "version.json":
            continue
        twin = again.path / relative
        if path.suffix == ".json":
            assert _untimed(json.loads(path.read_text()), tolerant=True) == _untimed(
                json.loads(twin.read_text())
            ), relative
        else:
            assert path.read_bytes() == twin.read_bytes(), relative
        compared += 1
    assert compared >= 10


def _untimed(value: Any, tolerant: bool = False) -> Any:
    if isinstance(value, dict):
        return {k: _untimed(v, tolerant) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_untimed(v, tolerant) for v in value]
    if isinstance(value, str):
        return re.sub(r"\bin \d+(\.\d+)? s\b", "in <t> s", value)
    if isinstance(value, float) and tolerant:
        return pytest.approx(value, rel=1e-9, abs=1e-12)
    return value


def test_a_replay_refuses_a_request_it_has_no_recording_of(
    warehouse_copy: Path, tmp_path: Path
) -> None:
    with provider(scripted) as model:
        spec = ModelKernelSpec(model="openai/gpt-4o-mini", api_base=model.url)
        goal = make_goal(warehouse_copy, kernel=spec)
        ensure_plan(goal)
    recorded = tmp_path / "recorded"
    shutil.move(goal.resolved_state_dir, recorded)
    changed = goal.model_copy(update={"objective": goal.objective + " in 2025"})
    replay = LLMKernel.replaying(
        spec, recorded=Trace(recorded / "trace.sqlite"), trace=trace_for(goal), goal="churn"
    )
    from dagster_agentic.errors import GuardrailError

    with pytest.raises(GuardrailError, match="no recorded answer to this ReadingAnswer request"):
        ensure_plan(changed, kernel=replay)


def test_features_a_model_proposes_are_compiled_checked_and_screened(
    warehouse_copy: Path,
) -> None:
    answers: list[str] = []

    def ideas(body: dict[str, Any]) -> str:
        if schema_name(body) != "PlanAnswer":
            return scripted(body)
        data = data_of(body)
        payments = next(t for t in data["source_tables"] if t["name"] == "payments")
        status = next(c for c in payments["columns"] if c["name"] == "status")
        urgent = {
            "group": "support_tickets",
            "name": "avg_satisfaction_urgent_60d",
            "aggregate": "avg",
            "column": "satisfaction_score",
            "where": [{"column": "priority", "op": "in", "values": ["urgent", "high"]}],
            "window_days": 60,
            "hypothesis": "unhappy customers with pressing problems leave",
        }
        failed = {
            "group": "payments",
            "name": "share_not_succeeded_90d",
            "aggregate": "share",
            "where": [{"column": "status", "op": "!=", "values": ["succeeded"]}],
            "window_days": 90,
            "hypothesis": "failing payments come before churn",
        }
        assert "succeeded" in status["values"]
        plan = {
            "keep_groups": [g["name"] for g in data["feature_groups"]],
            "families": data["model_families"],
        }
        if not answers:
            bad = {**urgent, "column": "priority"}  # an average of text
            answers.append("bad")
            return json.dumps({**plan, "new_features": [bad]})
        answers.append("good")
        return json.dumps({**plan, "new_features": [urgent, failed]})

    with provider(ideas) as model:
        spec = ModelKernelSpec(model="openai/gpt-4o-mini", api_base=model.url)
        bundle = ensure_plan(make_goal(warehouse_copy, kernel=spec))
    assert answers == ["bad", "good"]
    retry = next(
        r for r in model.requests if schema_name(r) == "PlanAnswer" and len(r["messages"]) > 2
    )
    assert "avg needs a numeric column, not priority" in retry["messages"][-1]["content"]

    screened = json.loads((bundle.path / "screening.json").read_text())
    columns = {s["column"] for s in screened["report"]["scores"]}
    assert {
        "support_tickets__avg_satisfaction_urgent_60d",
        "payments__share_not_succeeded_90d",
    } <= columns
    groups = {g["name"]: g for g in screened["candidates"]}
    urgent = next(
        f
        for f in groups["support_tickets"]["features"]
        if f["name"] == "avg_satisfaction_urgent_60d"
    )
    assert urgent["expression"] == (
        "avg(t.\"satisfaction_score\") FILTER (WHERE t.\"priority\" IN ('urgent', 'high')"
        ' AND t."created_at" >= s.cutoff_at - INTERVAL 60 DAY)'
    )
    assert any("unhappy customers with pressing problems" in line for line in bundle.plan.rationale)


def test_the_replay_command_reproduces_the_plan_with_no_model(
    warehouse_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    from dagster_agentic.cli import main

    with provider(scripted) as model:
        spec = ModelKernelSpec(model="openai/gpt-4o-mini", api_base=model.url)
        goal = make_goal(warehouse_copy, kernel=spec)
        ensure_plan(goal)
    goal_file = tmp_path / "goal.yaml"
    goal_file.write_text(
        yaml.safe_dump(
            {
                "name": goal.name,
                "objective": goal.objective,
                "warehouse": str(warehouse_copy),
                "kernel": spec.model_dump(mode="json"),
            }
        )
    )
    recorded = goal.resolved_state_dir / "trace.sqlite"
    # The provider is gone: every answer comes from the recording.
    assert (
        main(
            ["replay", str(goal_file), "--trace", str(recorded), "--into", str(tmp_path / "replay")]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "replayed plan version 1" in out and "plan.json identical to" in out
    assert (
        main(
            ["replay", str(goal_file), "--trace", str(recorded), "--into", str(tmp_path / "replay")]
        )
        == 2
    )
    assert "is not empty" in capsys.readouterr().err
