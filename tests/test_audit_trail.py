"""A real goal run exported as OpenTelemetry GenAI spans to an OTLP/HTTP receiver on
127.0.0.1, the same tree in the SQLite trace, and a run that a dead receiver cannot fail."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from dagster_agentic import Telemetry
from dagster_agentic.agent.planner import trace_for
from dagster_agentic.runner import run_goal
from tests.conftest import make_goal
from tests.otlp_receiver import Receiver


def attributes(span: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for attribute in span.attributes:
        kind = attribute.value.WhichOneof("value")
        value = getattr(attribute.value, kind)
        if kind == "array_value":
            value = [getattr(v, v.WhichOneof("value")) for v in value.values]
        values[attribute.key] = value
    return values


def test_a_goal_run_is_one_tree_of_genai_spans_and_the_trace_names_them(
    warehouse_copy: Path, receiver: Receiver
) -> None:
    goal = make_goal(warehouse_copy, telemetry=Telemetry(otlp_endpoint=receiver.url))
    summary = run_goal(goal, log_level="ERROR")
    assert summary.success, summary.why

    spans = list(receiver.spans)  # the run flushed them before it returned
    assert receiver.services == {"dagster-agentic"}
    by_id = {s.span_id: s for s in spans}
    assert len(by_id) == len(spans)
    roots = [s for s in spans if not s.parent_span_id]
    assert [r.name for r in roots] == ["invoke_agent churn"]
    root = roots[0]
    assert {s.trace_id for s in spans} == {root.trace_id}
    assert all(s.parent_span_id in by_id for s in spans if s is not root)

    def chain(span: Any) -> list[str]:
        names = []
        while span.parent_span_id:
            span = by_id[span.parent_span_id]
            names.append(span.name)
        return names

    def named(name: str) -> list[Any]:
        return [s for s in spans if s.name == name]

    top = attributes(root)
    assert top["gen_ai.operation.name"] == "invoke_agent"
    assert top["gen_ai.agent.name"] == "churn" and top["dagster_agentic.goal"] == "churn"
    assert top["dagster_agentic.status"] == summary.status
    assert top["dagster_agentic.plan_version"] == summary.plan_version
    assert top["dagster_agentic.egress_bytes"] == summary.egress_bytes > 0

    (planner,) = named("invoke_agent planner")
    assert planner.parent_span_id == root.span_id
    decisions = [s for s in spans if s.name.startswith("decide ")]
    assert {s.name for s in decisions} >= {"decide interpret_goal", "decide propose_plan"}
    assert all(s.parent_span_id == planner.span_id for s in decisions)
    assert attributes(named("decide propose_plan")[0])["dagster_agentic.rationale"]

    tools = [s for s in spans if s.name.startswith("execute_tool ")]
    for span in tools:
        found = attributes(span)
        assert found["gen_ai.operation.name"] == "execute_tool"
        assert span.name == f"execute_tool {found['gen_ai.tool.name']}"
        assert found["gen_ai.tool.call.id"].startswith("call_")
        assert found["gen_ai.agent.name"] in {"churn", "planner"}
    assert len({attributes(s)["gen_ai.tool.call.id"] for s in tools}) == len(tools)

    (dbt,) = named("execute_tool dbt")
    (train,) = named("execute_tool train")
    (evaluate,) = named("execute_tool evaluate")
    for step in (dbt, train, evaluate):
        assert chain(step) == ["execute_tool materialise", "invoke_agent churn"]
        assert attributes(step)["dagster_agentic.plan_version"] == summary.plan_version
    trained = attributes(train)
    assert trained["dagster_agentic.family"] in trained["dagster_agentic.candidates"]
    assert trained["dagster_agentic.egress_bytes"] > 0
    assert attributes(evaluate)["dagster_agentic.value"] == pytest.approx(summary.value)
    checks = named("execute_tool expectations")
    assert {attributes(s)["dagster_agentic.suite"] for s in checks} == {
        "raw_tables",
        "training_set",
    }

    queries = named("execute_tool sql")
    assert any(s.parent_span_id == planner.span_id for s in queries)  # profiling
    fetches = [s for s in queries if by_id[s.parent_span_id].name == "execute_tool train"]
    assert fetches, "the training set is fetched in a query span of the training step"
    for query in queries:
        found = attributes(query)
        assert found["db.system.name"] == "duckdb"
        assert 0 < len(found["db.query.text"]) <= 2000
    assert any(attributes(s).get("dagster_agentic.egress_bytes", 0) > 0 for s in fetches)
    assert all(s.status.code != 2 for s in (root, planner, dbt, train, evaluate))

    # The SQLite trace is the same tree: every span is a record with the exported ids.
    records = trace_for(goal).records(goal="churn")
    assert records and all(r.span_id is not None for r in records)
    assert {r.trace_id for r in records} == {root.trace_id.hex()}
    exported = {s.span_id.hex(): s for s in spans}
    assert {r.span_id for r in records} == set(exported)
    for record in records:
        parent = exported[record.span_id].parent_span_id
        assert record.parent_span_id == (parent.hex() if parent else None)
    decided = {r.name: r.span_id for r in records if r.kind == "decision"}
    assert exported[decided["propose_plan"]].name == "decide propose_plan"
    (run,) = [r for r in records if r.kind == "agent" and r.name == "churn"]
    assert run.span_id == root.span_id.hex() and run.outputs["status"] == "ok"
    (dbt_record,) = [r for r in records if r.name == "dbt"]
    assert dbt_record.span_id == dbt.span_id.hex() and dbt_record.kind == "tool"


def test_a_dead_receiver_never_fails_the_run(warehouse_copy: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    goal = make_goal(
        warehouse_copy, telemetry=Telemetry(otlp_endpoint=f"http://127.0.0.1:{port}/v1/traces")
    )
    summary = run_goal(goal, log_level="ERROR")
    assert summary.success, summary.why
    records = trace_for(goal).records(goal="churn")
    (run,) = [r for r in records if r.kind == "agent" and r.name == "churn"]
    assert run.outputs["status"] == "ok" and run.parent_span_id is None
    assert {r.trace_id for r in records} == {run.trace_id}


def test_a_failed_step_is_an_error_span_with_its_exception(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Configured by the standard variable alone: the failed query's span says why."""
    import duckdb

    from dagster_agentic import Goal
    from dagster_agentic.errors import WarehouseError
    from dagster_agentic.observability.spans import agent_span
    from dagster_agentic.warehouse.connection import Warehouse

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.url)
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE customers AS SELECT range AS id FROM range(3)")
    goal = Goal(name="churn", objective="predict churn", warehouse=path)
    with pytest.raises(WarehouseError), agent_span("churn", goal=goal):
        Warehouse(path).fetch_df("SELECT missing FROM customers", purpose="probe")
    (query,) = [s for s in receiver.spans if s.name == "execute_tool sql"]
    (root,) = [s for s in receiver.spans if s.name == "invoke_agent churn"]
    assert query.parent_span_id == root.span_id
    for span in (query, root):
        assert span.status.code == 2  # STATUS_CODE_ERROR
        assert "missing" in span.status.message
        (event,) = [e for e in span.events if e.name == "exception"]
        assert attributes(event)["exception.type"] == "dagster_agentic.errors.WarehouseError"
    assert attributes(query)["error.type"] == "dagster_agentic.errors.WarehouseError"
    (record,) = trace_for(goal).records(kind="tool")
    assert record.span_id == query.span_id.hex() and record.outputs["status"] == "error"
