"""A repaired plan version, written as a provisional candidate for the gate to judge.

A re-plan plans the goal anew from the warehouse as it is now; an adaptation keeps the base
version's features and changes how it reads its sources (adapters), what it drops (features of a
removed column and their expectations) or how it trains. Either way the candidate is checked
like any plan (its SQL against the warehouse, its dbt project parsed) before it is materialised.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from dagster_agentic.expectations.models import ExpectationSuite
from dagster_agentic.goals.spec import Budget, Goal
from dagster_agentic.kernel.protocol import Kernel, RepairProposal
from dagster_agentic.plan.models import FeatureGroup, Plan, RawColumn, RawTable, SourceAdapter
from dagster_agentic.plan.store import PlanBundle, PlanStore, write_json_atomic
from dagster_agentic.warehouse.connection import Warehouse, goal_warehouse, table_columns


def write_candidate(
    goal: Goal,
    base: PlanBundle,
    proposal: RepairProposal,
    *,
    kernel: Kernel,
    parent: int,
    seconds_left: float | None = None,
) -> PlanBundle:
    """The repaired plan as a new, not yet accepted version (checked like any plan); its
    training gets at most ``seconds_left`` (what remains of the incident's budget)."""
    from dagster_agentic.agent.planner import (
        PROFILE_FILE,
        SCREENING_FILE,
        SEMANTICS_FILE,
        SUITE_FILE,
        check_plan_sql,
        load_suite,
        plan_goal,
    )
    from dagster_agentic.features.dbt_project import parse_dbt_project, render_dbt_project

    reason = "repair: " + "; ".join(proposal.rationale)
    if proposal.action == "replan":
        inner = getattr(kernel, "inner", kernel)
        return plan_goal(goal, kernel=inner, reason=reason, accept=False)
    warehouse = goal_warehouse(goal)
    plan = base.plan.model_copy(
        update={
            "feature_groups": _without(base.plan, proposal.drop_features),
            "sources": proposal.sources,
            "training": proposal.training or base.plan.training,
            "raw_tables": _raw_tables(base.plan, proposal.sources, warehouse),
            "rationale": (*base.plan.rationale, *proposal.rationale),
            "budget": _bounded(base.plan, seconds_left),
        }
    )
    check_plan_sql(plan, warehouse)
    suite = _amended(load_suite(base), proposal.sources)
    gone = {tuple(item.split(".", 1)) for item in proposal.drop_expectations}
    suite = suite.model_copy(
        update={
            "expectations": tuple(
                e for e in suite.expectations if (e.table, e.column or "") not in gone
            )
        }
    )

    def render(path: Path, written: Plan) -> None:
        render_dbt_project(written, goal.warehouse, path / "dbt")
        parse_dbt_project(path / "dbt")
        for name in (PROFILE_FILE, SEMANTICS_FILE, SCREENING_FILE):
            if (base.path / name).exists():
                shutil.copy(base.path / name, path / name)
        write_json_atomic(path / SUITE_FILE, suite.model_dump(mode="json"))

    store = PlanStore.of(goal)
    # Provisional: leased to this process until the gate accepts or refuses it, so a run
    # killed before the verdict leaves an abandoned candidate that the next run reclaims.
    return store.write_version(plan, render, parent=parent, reason=reason, provisional=True)


def _bounded(plan: Plan, seconds_left: float | None) -> Budget:
    """The plan's budget with training capped at what is left of the incident's."""
    if seconds_left is None or seconds_left >= plan.budget.max_train_seconds:
        return plan.budget
    return plan.budget.model_copy(update={"max_train_seconds": max(seconds_left, 1.0)})


def _without(plan: Plan, columns: Sequence[str]) -> tuple[FeatureGroup, ...]:
    """The plan's feature groups less ``columns`` (and their expectations); empty groups go."""
    dropped = set(columns)
    groups = []
    for group in plan.feature_groups:
        features = tuple(f for f in group.features if group.column_name(f) not in dropped)
        if not features:
            continue
        expectations = tuple(e for e in group.expectations if e.column not in dropped)
        groups.append(group.model_copy(update={"features": features, "expectations": expectations}))
    return tuple(groups)


def _raw_tables(
    plan: Plan, sources: tuple[SourceAdapter, ...], warehouse: Warehouse
) -> tuple[RawTable, ...]:
    """The tables the repaired version reads: a renamed table's new name replaces the old."""
    renamed = {a.table: a.physical for a in sources if a.read_from}
    out = []
    with warehouse.connect(read_only=True) as conn:
        for raw in plan.raw_tables:
            physical = renamed.get(raw.name, raw.name)
            if physical == raw.name:
                out.append(raw)
                continue
            _, columns, rows = table_columns(conn, physical, raw.schema_name)
            out.append(
                RawTable(
                    name=physical,
                    schema_name=raw.schema_name,
                    row_count=rows,
                    columns=tuple(RawColumn(name=n, data_type=t) for n, t in columns),
                    memory_bytes=raw.memory_bytes,
                )
            )
    return tuple(out)


def _amended(suite: ExpectationSuite, sources: tuple[SourceAdapter, ...]) -> ExpectationSuite:
    """The suite with the new category levels a repair accepted."""
    accepted: dict[tuple[str, str | None], tuple[str, ...]] = {
        (a.table, column): values for a in sources for column, values in a.accepted_values
    }
    if not accepted:
        return suite
    expectations = tuple(
        e.model_copy(
            update={"values": tuple(dict.fromkeys((*e.values, *accepted[(e.table, e.column)])))}
        )
        if e.kind == "accepted_values" and (e.table, e.column) in accepted
        else e
        for e in suite.expectations
    )
    return suite.model_copy(update={"expectations": expectations})
