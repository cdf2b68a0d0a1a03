"""The cost guard: every resource-abuse statement of the corpus is refused before it runs or
interrupted within its wall-clock limit plus 10%, and the connection keeps working after."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dagster_agentic import Goal
from dagster_agentic.errors import GuardrailError
from dagster_agentic.guardrails.cost import QueryLimits, check_cost, estimated_rows
from dagster_agentic.guardrails.sql_policy import check_select
from dagster_agentic.plan.store import PlanBundle
from dagster_agentic.warehouse.connection import Warehouse
from tests.sql_corpus import UNSAFE_ALLOWED, CorpusStatement, load_corpus

LIMITS = QueryLimits(max_seconds=2.0, max_rows=1_000_000_000, memory_mb=1024, threads=2)
ABUSE = [s for s in load_corpus() if s.kind == "unsafe" and s.family == "resource_abuse"]


def run_as_the_agent_does(warehouse: Warehouse, sql: str) -> None:
    """The three layers every agent query passes: policy, cost estimate, watched execution."""
    check_select(sql, allowed_tables=UNSAFE_ALLOWED, label="agent query")
    with warehouse.connect() as conn:
        check_cost(conn, sql, warehouse.limits, label="agent query")
        conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def warehouse(pristine_warehouse: Path) -> Warehouse:
    return Warehouse(pristine_warehouse, limits=LIMITS)


def test_the_family_has_cases() -> None:
    assert len(ABUSE) >= 20


@pytest.mark.parametrize("statement", ABUSE, ids=lambda s: s.id)
def test_resource_abuse_is_refused_or_interrupted(
    warehouse: Warehouse, statement: CorpusStatement
) -> None:
    started = time.monotonic()
    with pytest.raises(GuardrailError) as refused:
        run_as_the_agent_does(warehouse, statement.sql)
    elapsed = time.monotonic() - started
    assert refused.value.rule in {
        "recursion",
        "function",
        "table_function",
        "cost",
        "timeout",
        "memory",
    }, refused.value
    if statement.expect:
        assert refused.value.rule == statement.expect
    assert elapsed <= LIMITS.max_seconds * 1.1, f"took {elapsed:.2f} s ({refused.value.rule})"
    with warehouse.connect() as conn:  # the warehouse is still usable
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] > 0


def test_a_cross_product_is_estimated_as_the_product_of_its_inputs(warehouse: Warehouse) -> None:
    with warehouse.connect() as conn:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        estimate = estimated_rows(conn, "SELECT count(*) FROM events AS a, events AS b")
    assert estimate >= 0.5 * events * events


def test_the_watchdog_interrupts_and_the_connection_survives(warehouse: Warehouse) -> None:
    slow = "SELECT count(*) FROM events AS a JOIN events AS b ON a.event_id % 7 < b.event_id % 5"
    limits = QueryLimits(max_seconds=0.5, max_rows=10**15)
    guarded = Warehouse(warehouse.path, limits=limits)
    with guarded.connect() as conn:
        started = time.monotonic()
        with pytest.raises(GuardrailError) as refused:
            conn.execute(slow).fetchall()
        elapsed = time.monotonic() - started
        assert refused.value.rule == "timeout"
        assert elapsed <= limits.max_seconds * 1.1 + 0.05
        assert conn.execute("SELECT 42").fetchone() == (42,)


def test_generated_queries_are_far_below_the_default_budget(
    session_goal: Goal, planned: PlanBundle
) -> None:
    """The default row budget leaves the product's own queries orders of magnitude of room."""
    from dagster_agentic.features.adapters import plan_ref
    from dagster_agentic.features.screening import inline_ref
    from dagster_agentic.features.sql import feature_group_sql, training_set_sql, warehouse_ref

    plan = planned.plan
    ref = plan_ref(plan, warehouse_ref(plan.warehouse_schema, plan.models_schema))
    sqls = [feature_group_sql(plan.objective, g, ref) for g in plan.feature_groups]
    sqls.append(training_set_sql(plan, inline_ref(plan, ref)))
    default = QueryLimits().max_rows
    with Warehouse(session_goal.warehouse).connect() as conn:
        for sql in sqls:
            assert 0 < estimated_rows(conn, sql) * 1000 < default
