"""The audit trail without a receiver: span ids in the SQLite trace, the migration of an older
trace file, and no OpenTelemetry at all when no endpoint is configured."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_agentic import Goal
from dagster_agentic.observability import export
from dagster_agentic.observability.spans import agent_span, cap, query_span, tool_span
from dagster_agentic.observability.trace import Trace, TraceRecord
from dagster_agentic.warehouse.connection import Warehouse

OLD_SCHEMA = """
CREATE TABLE trace (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at REAL NOT NULL,
    goal TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    actor TEXT NOT NULL,
    inputs TEXT NOT NULL,
    outputs TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    plan_version INTEGER
)
"""


def _goal(tmp_path: Path) -> Goal:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("CREATE TABLE customers AS SELECT range AS id FROM range(5)")
    return Goal(name="churn", objective="predict churn", warehouse=warehouse)


def test_an_older_trace_file_gains_the_span_columns_and_keeps_its_records(tmp_path: Path) -> None:
    path = tmp_path / "trace.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_SCHEMA)
        conn.execute(
            "INSERT INTO trace (recorded_at, goal, kind, name, actor, inputs, outputs,"
            " duration_ms, plan_version) VALUES (1.0, 'churn', 'decision', 'propose_plan',"
            " 'policy', '{}', '{\"a\": 1}', 2.5, 3)"
        )
    trace = Trace(path)
    old = trace.records()
    assert len(old) == 1 and old[0].outputs == {"a": 1} and old[0].plan_version == 3
    assert (old[0].trace_id, old[0].span_id, old[0].parent_span_id) == (None, None, None)

    goal = Goal(name="churn", objective="predict churn", warehouse=tmp_path / "w.duckdb")
    with agent_span("planner", goal=goal) as span:
        trace.record(
            goal="churn",
            kind="action",
            name="accept_plan_version",
            actor="planner",
            inputs={},
            outputs={},
            duration_ms=0.0,
        )
    columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(trace)")]
    assert columns[-3:] == ["trace_id", "span_id", "parent_span_id"]
    new = Trace(path).records(kind="action")
    assert len(new) == 1
    assert (new[0].trace_id, new[0].span_id) == (span.trace_id, span.span_id)
    # A record as older code builds it, positionally, is still a valid record.
    legacy = TraceRecord(1, 1.0, "churn", "decision", "x", "policy", {}, {}, 0.0, None)
    assert legacy.span_id is None


def test_spans_nest_and_every_one_is_a_record_with_its_parent(tmp_path: Path) -> None:
    goal = _goal(tmp_path)
    warehouse = Warehouse(goal.warehouse)
    with agent_span("churn", goal=goal) as root, tool_span("materialise", plan_version=4) as run:
        frame = warehouse.fetch_df(
            "SELECT id FROM customers WHERE id > ?", [1], purpose="training set"
        )
        with pytest.raises(Exception, match="failed"):
            warehouse.fetch_df("SELECT nope FROM customers", purpose="broken")
    assert len(frame) == 3
    records = {r.span_id: r for r in Trace(goal.resolved_state_dir / "trace.sqlite").records()}
    assert records[root.span_id].parent_span_id is None
    assert records[run.span_id].parent_span_id == root.span_id
    sql = [r for r in records.values() if r.name == "sql"]
    assert len(sql) == 2  # the fetch and the execute under it are one tool call
    fetched, broken = sql
    assert {r.trace_id for r in records.values()} == {root.trace_id}
    assert fetched.parent_span_id == run.span_id and fetched.plan_version == 4
    assert fetched.inputs["db.system.name"] == "duckdb"
    assert fetched.inputs["db.query.text"] == "SELECT id FROM customers WHERE id > ?"
    assert fetched.inputs["dagster_agentic.purpose"] == "training set"
    assert fetched.outputs["status"] == "ok" and fetched.outputs["db.response.returned_rows"] == 3
    assert fetched.outputs["dagster_agentic.egress_bytes"] > 0
    assert broken.outputs["status"] == "error" and broken.outputs["error.type"] == (
        "dagster_agentic.errors.WarehouseError"
    )
    assert len(root.trace_id) == 32 and len(root.span_id) == 16


def test_query_text_is_kept_but_capped_and_cleaned() -> None:
    values = ", ".join(f"'value {i}\x00'" for i in range(2000))
    with query_span(f"SELECT * FROM t WHERE v IN ({values})") as span:
        text = span.inputs["db.query.text"]
    assert len(text) == 2000 and text.endswith("…") and "\x00" not in text
    assert text.startswith("SELECT * FROM t WHERE v IN ('value 0 '")
    assert cap("short") == "short"


def test_the_endpoint_comes_from_the_goal_then_the_kernel_then_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    goal = Goal(name="churn", objective="predict churn", warehouse=tmp_path / "w.duckdb")
    assert export.goal_endpoint(goal) is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")
    assert export.goal_endpoint(goal) == "http://127.0.0.1:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9/t")
    assert export.goal_endpoint(goal) == "http://127.0.0.1:9/t"
    kernel = {"model": "openai/gpt-4o-mini", "otlp_endpoint": "http://127.0.0.1:8/k"}
    with_kernel = Goal.model_validate({**_base(goal), "kernel": kernel})
    assert export.goal_endpoint(with_kernel) == "http://127.0.0.1:8/k"
    telemetry = Goal.model_validate(
        {**_base(goal), "kernel": kernel, "telemetry": {"otlp_endpoint": "http://127.0.0.1:7/g"}}
    )
    assert export.goal_endpoint(telemetry) == "http://127.0.0.1:7/g"
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert export.goal_endpoint(telemetry) is None


def _base(goal: Goal) -> dict[str, object]:
    return {"name": goal.name, "objective": goal.objective, "warehouse": goal.warehouse}


def test_a_bad_endpoint_is_refused_and_telemetry_is_no_part_of_the_plan(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from dagster_agentic.agent.planner import goal_fingerprint
    from dagster_agentic.kernel.policy.kernel import PolicyKernel

    with pytest.raises(ValidationError, match=r"telemetry\.otlp_endpoint"):
        Goal.model_validate(
            {
                "name": "churn",
                "objective": "predict churn",
                "warehouse": tmp_path / "w.duckdb",
                "telemetry": {"otlp_endpoint": "file:///etc/passwd"},
            }
        )
    plain = Goal(name="churn", objective="predict churn", warehouse=tmp_path / "w.duckdb")
    traced = Goal.model_validate(
        {**_base(plain), "telemetry": {"otlp_endpoint": "http://127.0.0.1:4318/v1/traces"}}
    )
    kernel = PolicyKernel()
    assert goal_fingerprint(plain, kernel) == goal_fingerprint(traced, kernel)


def test_without_an_endpoint_opentelemetry_is_never_imported(tmp_path: Path) -> None:
    """Spans, records and queries work, and not one OpenTelemetry module is loaded."""
    goal = _goal(tmp_path)
    script = f"""
import json, sys
from pathlib import Path
from dagster_agentic import Goal
from dagster_agentic.observability.spans import agent_span
from dagster_agentic.warehouse.connection import Warehouse
goal = Goal(name="churn", objective="predict churn", warehouse=Path({str(goal.warehouse)!r}))
with agent_span("churn", goal=goal):
    Warehouse(goal.warehouse).fetch_df("SELECT 1 AS one", purpose="probe")
print(json.dumps(sorted(m for m in sys.modules if m.startswith("opentelemetry"))))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_EXPORTER_OTLP")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    names = [r.name for r in Trace(goal.resolved_state_dir / "trace.sqlite").records()]
    assert names == ["sql", "churn"]


def test_a_goal_file_names_its_endpoint_and_a_malformed_one_is_refused(tmp_path: Path) -> None:
    from dagster_agentic.errors import GoalError
    from dagster_agentic.goals.loading import load_goal_file

    path = tmp_path / "goal.yaml"
    base = "name: churn\nobjective: predict churn\nwarehouse: w.duckdb\n"
    path.write_text(base + "telemetry:\n  otlp_endpoint: http://127.0.0.1:4318/v1/traces\n")
    goal = load_goal_file(path)
    assert goal.telemetry.otlp_endpoint == "http://127.0.0.1:4318/v1/traces"
    for bad, named in (
        ("telemetry: http://127.0.0.1:4318\n", "telemetry must be a mapping"),
        ('telemetry:\n  otlp_endpoint: "javascript:alert(1)"\n', "otlp_endpoint"),
        ("telemetry:\n  endpoint: http://127.0.0.1:4318\n", "endpoint"),
    ):
        path.write_text(base + bad)
        with pytest.raises(GoalError, match=named) as refused:
            load_goal_file(path)
        assert refused.value.fix
