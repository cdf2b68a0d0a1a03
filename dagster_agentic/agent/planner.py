"""From a goal to an accepted plan version: profile, interpret, propose, check, write.

Everything that can refuse (the kernel, the guardrails, the warehouse's dry run, dbt parse)
runs before the version becomes accepted; a refused goal writes no plan.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from dagster_agentic.errors import GuardrailError
from dagster_agentic.features.dbt_project import parse_dbt_project, render_dbt_project
from dagster_agentic.features.sql import (
    feature_group_sql,
    model_name,
    training_set_sql,
    warehouse_ref,
)
from dagster_agentic.goals.spec import Goal
from dagster_agentic.guardrails.sql_policy import check_select
from dagster_agentic.kernel.protocol import InterpretGoalRequest, Kernel, ProposePlanRequest
from dagster_agentic.kernel.traced import TracedKernel
from dagster_agentic.observability.trace import Trace
from dagster_agentic.plan.models import Plan, RawColumn, RawTable
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.footprint import table_memory_bytes
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse


def default_kernel() -> Kernel:
    from dagster_agentic.kernel.policy.kernel import PolicyKernel

    return PolicyKernel()


def goal_fingerprint(goal: Goal, kernel: Kernel) -> str:
    """Changes when anything the plan depends on in the declaration changes."""
    payload = {"goal": goal.model_dump(mode="json"), "kernel": kernel.name}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def is_current(bundle: PlanBundle, goal: Goal, kernel: Kernel) -> bool:
    """The bundle was planned from this very declaration (and kernel)."""
    return bundle.plan.goal_fingerprint == goal_fingerprint(goal, kernel)


def agent_schema(goal: Goal) -> str:
    return f"agentic_{goal.name}"


def trace_for(goal: Goal) -> Trace:
    return Trace(goal.resolved_state_dir / "trace.sqlite")


def ensure_plan(goal: Goal, *, kernel: Kernel | None = None) -> PlanBundle:
    """The accepted plan of ``goal``, planning a new version if the declaration changed."""
    kernel = kernel or default_kernel()
    store = PlanStore(goal.resolved_state_dir, goal.name)
    accepted = store.load_accepted()
    if accepted is not None and is_current(accepted, goal, kernel):
        return accepted
    return plan_goal(goal, kernel=kernel, reason="declared" if accepted is None else "goal changed")


def plan_goal(goal: Goal, *, kernel: Kernel | None = None, reason: str = "replan") -> PlanBundle:
    """Profile the warehouse, ask the kernel for a plan, check it, write and accept a version."""
    kernel = kernel or default_kernel()
    warehouse = Warehouse(goal.warehouse)
    warehouse.require_exists()
    profile = profile_warehouse(warehouse)
    plan = propose(goal, profile, kernel)
    store = PlanStore(goal.resolved_state_dir, goal.name)

    def render(path: Path) -> None:
        render_dbt_project(plan, goal.warehouse, path / "dbt")
        parse_dbt_project(path / "dbt")

    bundle = store.write_version(plan, render, parent=store.accepted_version(), reason=reason)
    store.accept(bundle.version)
    trace_for(goal).record(
        goal=goal.name,
        kind="action",
        name="accept_plan_version",
        actor="planner",
        inputs={"reason": reason, "parent": bundle.meta["parent"]},
        outputs={"version": bundle.version, "plan_fingerprint": bundle.meta["plan_fingerprint"]},
        duration_ms=0.0,
        plan_version=bundle.version,
    )
    return bundle


def propose(goal: Goal, profile: WarehouseProfile, kernel: Kernel) -> Plan:
    """The kernel's decisions as a checked ``Plan`` (nothing is written)."""
    traced = TracedKernel(kernel, trace_for(goal), goal.name)
    objective = traced.interpret_goal(InterpretGoalRequest(goal=goal, profile=profile))
    proposal = traced.propose_plan(
        ProposePlanRequest(goal=goal, objective=objective, profile=profile)
    )
    used = {objective.entity_table, objective.label_table}
    used |= {group.source_table for group in proposal.feature_groups}
    plan = Plan(
        goal=goal.name,
        goal_fingerprint=goal_fingerprint(goal, kernel),
        objective=objective,
        profile_fingerprint=profile.fingerprint,
        agent_schema=agent_schema(goal),
        raw_tables=tuple(
            RawTable(
                name=t.name,
                schema_name=t.schema_name,
                row_count=t.row_count,
                columns=tuple(RawColumn(name=c.name, data_type=c.data_type) for c in t.columns),
            )
            for t in profile.tables
            if t.name in used
        ),
        feature_groups=proposal.feature_groups,
        training_set=proposal.training_set,
        training=proposal.training,
        budget=goal.budget,
        kernel=kernel.name,
        rationale=(*objective.rationale, *proposal.rationale),
    )
    warehouse = Warehouse(goal.warehouse)
    check_plan_sql(plan, warehouse)
    with warehouse.connect(read_only=True) as conn:
        sized = tuple(
            raw.model_copy(update={"memory_bytes": table_memory_bytes(conn, table)})
            for raw in plan.raw_tables
            if (table := profile.table(raw.name)) is not None
        )
    return plan.model_copy(update={"raw_tables": sized})


def check_plan_sql(plan: Plan, warehouse: Warehouse) -> None:
    """Guardrails on every statement, then a dry run (EXPLAIN) of each feature query.

    The dry run binds every table and column in the warehouse itself, read-only, so a
    kernel that names a column that does not exist is refused before anything is written.
    """
    ref = warehouse_ref(plan.warehouse_schema, plan.agent_schema)
    raw = {f"{plan.warehouse_schema}.{t.name}".lower() for t in plan.raw_tables}
    models = {
        f"{plan.agent_schema}.{model_name(plan.goal, g.name)}".lower() for g in plan.feature_groups
    }
    with warehouse.connect(read_only=True) as conn:
        for group in plan.feature_groups:
            sql = feature_group_sql(plan.objective, group, ref)
            check_select(sql, allowed_tables=raw, label=f"feature group {group.name!r}")
            try:
                conn.execute(f"EXPLAIN {sql}")
            except Exception as error:  # duckdb raises several error types for binding
                raise GuardrailError(
                    f"feature group {group.name!r} does not run in the warehouse: {error}",
                    fix="refer only to tables and columns that exist, with matching types",
                ) from error
    check_select(training_set_sql(plan, ref), allowed_tables=raw | models, label="training set")
