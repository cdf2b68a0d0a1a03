"""The healing gate's leakage check and the growth check, on real plan versions.

A candidate that reads rows recorded after the prediction time is refused at the gate whatever
its metric; a metric that jumped is refused when a feature alone is too good to be true; a
re-plan for a grown warehouse that would stop reading a source is declined, remembered, and
accepted only where the goal's healing policy allows a loss.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_agentic import Goal
from dagster_agentic.agent.growth import DECLINED_FILE, declined, judge_growth
from dagster_agentic.agent.planner import (
    LEAKAGE_FILE,
    SCREENING_FILE,
    ensure_plan,
    plan_goal,
)
from dagster_agentic.features.dbt_project import render_dbt_project
from dagster_agentic.goals.spec import Healing
from dagster_agentic.healing.gate import GateContext, judge, no_leakage
from dagster_agentic.kernel.protocol import RepairProposal
from dagster_agentic.plan.models import FeatureGroup, Plan
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.profile import catalog_triples, triples_fingerprint

from .conftest import EXAMPLE_OBJECTIVE
from .shop_warehouse import OBJECTIVE, build_shop_warehouse
from .snapshots import with_retention_calls


@dataclass(frozen=True)
class Run:
    """A candidate's run as the gate reads it (a finished, green materialisation)."""

    plan_version: int
    value: float | None
    success: bool = True
    checks: dict[str, bool] = field(default_factory=dict)
    failed_step: str | None = None


def _write(goal: Goal, base: PlanBundle, plan: Plan, reason: str) -> PlanBundle:
    """A candidate version of ``plan``, written as the healing loop writes one."""
    store = PlanStore(goal.resolved_state_dir, goal.name)

    def render(path: Path, written: Plan) -> None:
        render_dbt_project(written, goal.warehouse, path / "dbt")
        shutil.copy(base.path / SCREENING_FILE, path / SCREENING_FILE)

    return store.write_version(plan, render, parent=base.version, reason=reason, provisional=True)


def _context(
    goal: Goal, live: PlanBundle, candidate: PlanBundle, value: float, baseline: float
) -> GateContext:
    return GateContext(
        goal=goal,
        proposal=RepairProposal(action="replan", rationale=("test",)),
        live=live,
        candidate=candidate,
        run=Run(plan_version=candidate.version, value=value),
        baseline=baseline,
        store=PlanStore(goal.resolved_state_dir, goal.name),
    )


def test_a_candidate_that_reads_the_future_is_refused_whatever_its_metric(
    tmp_path: Path,
) -> None:
    warehouse = build_shop_warehouse(tmp_path / "shop.duckdb", members=600)
    goal = Goal(name="lapse", objective=OBJECTIVE, warehouse=warehouse, state_dir=tmp_path / "s")
    live = plan_goal(goal)
    aggregated = next(g for g in live.plan.feature_groups if g.time_column is not None)
    groups = tuple(
        g.model_copy(update={"time_column": None}) if g.name == aggregated.name else g
        for g in live.plan.feature_groups
    )
    leaky = _write(goal, live, live.plan.model_copy(update={"feature_groups": groups}), "leaky")
    verdict = no_leakage(_context(goal, live, leaky, value=0.99, baseline=0.80))
    assert verdict.verdict == "refuse", verdict
    assert "after the prediction time" in verdict.why
    assert verdict.evidence["leaks"] and all(
        c.startswith(f"{aggregated.name}__") for c in verdict.evidence["leaks"]
    )
    artifacts = PlanStore(goal.resolved_state_dir, goal.name).artifacts_dir(leaky.version)
    assert json.loads((artifacts / LEAKAGE_FILE).read_text())["passed"] is False
    decision = judge(_context(goal, live, leaky, value=0.99, baseline=0.80))
    assert not decision.accepted and "after the prediction time" in decision.why

    # A metric that fell by more than the tolerance is refused by the metric check.
    fell = judge(_context(goal, live, leaky, value=0.70, baseline=0.80))
    metric_verdict = next(v for v in fell.verdicts if v.check == "metric")
    assert metric_verdict.verdict == "refuse"
    assert "fell from 0.800 to 0.700, more than the tolerance of 0.050" in metric_verdict.why

    # The agent's own plan, written again as a candidate, passes: the check can pass too.
    same = _write(goal, live, live.plan, "same")
    verdict = no_leakage(_context(goal, live, same, value=0.81, baseline=0.80))
    assert verdict.verdict == "pass", verdict.why
    assert not verdict.evidence["metric_jump"]


def test_a_metric_that_jumps_is_refused_when_one_feature_is_too_good(
    pristine_warehouse: Path, tmp_path: Path
) -> None:
    path = with_retention_calls(pristine_warehouse, tmp_path / "warehouse.duckdb")
    goal = Goal(name="churn", objective=EXAMPLE_OBJECTIVE, warehouse=path, state_dir=tmp_path / "s")
    live = plan_goal(goal)
    screened = json.loads((live.path / SCREENING_FILE).read_text())
    calls = next(
        FeatureGroup.model_validate(g)
        for g in screened["candidates"]
        if g["source_table"] == "retention_calls"
    )
    raw = live.plan.raw_tables[0].model_copy(update={"name": "retention_calls"})
    greedy = live.plan.model_copy(
        update={
            "feature_groups": (*live.plan.feature_groups, calls),
            "raw_tables": (*live.plan.raw_tables, raw),
        }
    )
    candidate = _write(goal, live, greedy, "greedy")
    jumped = no_leakage(_context(goal, live, candidate, value=0.99, baseline=0.60))
    assert jumped.verdict == "refuse", jumped.why
    assert "rose from 0.600 to 0.990" in jumped.why and "retention_calls__" in jumped.why
    # The same candidate with a metric within the tolerance is not suspect on that ground.
    steady = no_leakage(_context(goal, live, candidate, value=0.62, baseline=0.60))
    assert steady.verdict == "pass", steady.why


def test_a_grown_warehouse_whose_replan_loses_a_source_is_declined_and_remembered(
    tmp_path: Path,
) -> None:
    warehouse = build_shop_warehouse(tmp_path / "shop.duckdb", members=600, leak=False)
    goal = Goal(name="lapse", objective=OBJECTIVE, warehouse=warehouse, state_dir=tmp_path / "s")
    live = ensure_plan(goal)
    store = PlanStore(goal.resolved_state_dir, goal.name)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("ALTER TABLE members ADD COLUMN newsletter BOOLEAN DEFAULT TRUE")
    schema = triples_fingerprint(catalog_triples(Warehouse(warehouse)))
    # A re-plan of the grown warehouse that no longer reads one of the live version's sources.
    lost, thinner = next(
        (g, p)
        for g in live.plan.feature_groups
        if g.kind != "entity_attributes"
        and g.source_table
        not in (
            p := live.plan.model_copy(
                update={"feature_groups": tuple(o for o in live.plan.feature_groups if o != g)}
            )
        ).tables
    )
    candidate = _write(goal, live, thinner, "warehouse grew: column members.newsletter")
    kept = judge_growth(goal, store, live, candidate, schema)
    assert kept.version == live.version and store.accepted_version() == live.version
    memo = json.loads((store.root / DECLINED_FILE).read_text())
    assert lost.source_table in memo["why"] and memo["candidate"] == candidate.version
    assert declined(store, schema)
    # Every later load keeps the live version instead of planning the same loss again.
    assert ensure_plan(goal).version == live.version
    assert store.accepted_version() == live.version

    # Where the healing policy allows a loss, the grown version goes live and the memo goes.
    lenient = goal.model_copy(update={"healing": Healing(allow_loss=True)})
    again = _write(lenient, live, thinner, "warehouse grew: column members.newsletter")
    accepted = judge_growth(lenient, store, live, again, schema)
    assert accepted.version == again.version == store.accepted_version()
    assert not (store.root / DECLINED_FILE).exists()


def test_a_grown_warehouse_that_keeps_its_sources_gets_a_new_version(tmp_path: Path) -> None:
    warehouse = build_shop_warehouse(tmp_path / "shop.duckdb", members=600, leak=False)
    goal = Goal(name="lapse", objective=OBJECTIVE, warehouse=warehouse, state_dir=tmp_path / "s")
    live = ensure_plan(goal)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE campaigns AS SELECT 1 AS campaign_id, 'spring' AS name")
    grown = ensure_plan(goal)
    assert grown.version > live.version
    assert set(live.plan.tables) <= set(grown.plan.tables)
    assert "warehouse grew: table campaigns" in grown.meta["reason"]
