"""The egress budget binds: it counts what is fetched, batch by batch, and a plan whose training
matrix cannot fit is refused before dbt builds anything."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic import Goal
from dagster_agentic.agent.steps import load_training_set, matrix_bytes
from dagster_agentic.errors import GuardrailError
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.runner import RunSummary
from dagster_agentic.warehouse.connection import FETCH_BATCH_ROWS, EgressLedger, Warehouse
from tests.conftest import make_goal


def test_a_fetch_stops_at_the_budget(pristine_warehouse: Path) -> None:
    warehouse, ledger = Warehouse(pristine_warehouse), EgressLedger()
    whole = warehouse.fetch_df("SELECT * FROM events", purpose="all", ledger=EgressLedger())
    assert len(whole) > 2 * FETCH_BATCH_ROWS  # the budget falls between batches
    budget = int(whole.memory_usage(deep=True).sum()) // 2
    with pytest.raises(GuardrailError) as refused:
        warehouse.fetch_df(
            "SELECT * FROM events", purpose="events", ledger=ledger, max_bytes=budget
        )
    assert refused.value.rule == "budget.egress"
    assert 0 < ledger.total_bytes <= budget
    assert ledger.total_rows < len(whole)


def test_the_training_fetch_counts_what_it_fetches(
    session_goal: Goal, planned: PlanBundle, goal_run: RunSummary
) -> None:
    """A budget the estimate fits but the real matrix does not: refused, within the budget."""
    warehouse = Warehouse(session_goal.warehouse)
    fetched = EgressLedger()
    frame = load_training_set(planned.plan, warehouse, fetched)
    least = matrix_bytes(planned.plan, len(frame))
    assert least < fetched.total_bytes  # the estimate is a lower bound
    budget = (least + fetched.total_bytes) // 2
    plan = planned.plan.model_copy(
        update={"budget": planned.plan.budget.model_copy(update={"max_egress_bytes": budget})}
    )
    ledger = EgressLedger()
    with pytest.raises(GuardrailError) as refused:
        load_training_set(plan, warehouse, ledger)
    assert refused.value.rule == "budget.egress"
    assert ledger.total_bytes <= budget


def test_a_matrix_that_cannot_fit_is_refused_before_dbt(warehouse_copy: Path) -> None:
    from dagster_agentic.agent.planner import ensure_plan

    goal = make_goal(warehouse_copy, budget={"max_egress_bytes": 10_000})
    with pytest.raises(GuardrailError) as refused:
        ensure_plan(goal)
    assert refused.value.rule == "budget.egress"
    assert "max_egress_bytes" in str(refused.value)
    assert PlanStore(goal.resolved_state_dir, goal.name).versions() == []
    with duckdb.connect(str(warehouse_copy), read_only=True) as conn:
        schemas = conn.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'agentic%'"
        ).fetchall()
    assert schemas == []
