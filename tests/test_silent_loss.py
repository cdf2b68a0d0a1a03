"""No silent loss: a repair that gives up a source table, or much of the live version's features or
SHAP importance, is refused, or goes live as "repaired_with_loss" only where the goal allows it.

The fault: the helpdesk starts writing hashed customer ids into ``support_tickets``. No key
normalisation relates a hash to an id, so the only repair left is a re-plan from the warehouse as
it is now, and that re-plan can no longer relate the tickets to customers: it drops the table.
The gate measures the loss from the live and candidate versions and the live model's SHAP
importance artifact (all real: the example warehouse planned, trained and healed).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dagster_agentic.goals.spec import Goal, Healing
from dagster_agentic.healing.gate import (
    DEFAULT_CHECKS,
    GateContext,
    judge,
    no_leakage,
    no_silent_loss,
)
from dagster_agentic.healing.health import health_metadata, read_health
from dagster_agentic.healing.loop import LOG_FILE, failed_data_checks, heal, healed_runs
from dagster_agentic.healing.loss import live_importance, measure_loss
from dagster_agentic.kernel.protocol import RepairProposal
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.runner import execute_version, run_goal

from .conftest import loop_instance
from .conftest import make_goal as _make_goal
from .snapshots import Healthy, green_snapshot, restore

TOLERANCE = 0.3
"""As in the healing loop's tests: the tiny warehouse's precision moves in steps of ~0.1."""
HASHED_KEYS = (
    "ALTER TABLE support_tickets ALTER customer_id TYPE VARCHAR USING md5(customer_id::VARCHAR)"
)


def make_goal(warehouse: Path, **healing: object) -> Goal:
    return _make_goal(warehouse, healing=Healing(metric_tolerance=TOLERANCE, **healing))


@pytest.fixture(scope="module")
def healthy(pristine_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Healthy:
    return green_snapshot(pristine_warehouse, tmp_path_factory.mktemp("silent_loss"), make_goal)


@pytest.fixture
def restored(healthy: Healthy) -> Iterator[Path]:
    yield restore(healthy)


def _hash_the_keys(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(HASHED_KEYS)


def test_a_repair_that_drops_a_source_is_refused_by_default(
    healthy: Healthy, restored: Path
) -> None:
    goal = make_goal(restored)
    _hash_the_keys(restored)
    with loop_instance() as instance:
        summary = run_goal(goal, instance=instance, log_level="ERROR")
    outcome = summary.healing
    assert outcome is not None and outcome.status == "degraded" and not outcome.accepted
    attempt = next(a for a in outcome.attempts if a.version is not None)
    assert not attempt.accepted and attempt.loss is not None
    # The broken source is lost; a re-plan on the tiny warehouse may also lose a source whose
    # one marginal feature is no longer selected: every lost table is named either way.
    assert "support_tickets" in attempt.loss["tables"]
    assert attempt.loss["importance"] is not None and attempt.loss["importance"] > 0
    named = ", ".join(attempt.loss["tables"])
    assert f"no longer reads the source table(s) {named}" in attempt.why
    assert "allow_loss" in attempt.why
    store = PlanStore(goal.resolved_state_dir, goal.name)
    assert store.accepted_version() == healthy.version
    health = read_health(goal)
    assert health["status"] == "degraded" and health["repair"] == "degraded"
    assert "loss" not in health
    report = outcome.report.read_text()
    assert "DEGRADED" in report and "REFUSED" in report and "support_tickets" in report
    # The failed run is answered: the sensor must not heal it again.
    assert summary.healing is not None
    assert outcome.trigger_run_id and outcome.trigger_run_id in healed_runs(store)


def test_with_allow_loss_the_repair_goes_live_with_the_loss_reported(
    healthy: Healthy, restored: Path
) -> None:
    goal = make_goal(restored)
    lenient = make_goal(restored, allow_loss=True)
    _hash_the_keys(restored)
    with loop_instance() as instance:
        trigger = run_goal(goal, instance=instance, heal=False, log_level="ERROR")
        assert failed_data_checks(trigger)
        outcome = heal(
            lenient,
            trigger,
            materialise=lambda b: execute_version(
                lenient, b, instance, log_level="ERROR", candidate=True
            ),
            trigger_run_id=trigger.run_id,
        )
    assert outcome.status == "repaired_with_loss" and outcome.accepted
    assert outcome.final is not None and outcome.final.value is not None
    loss = outcome.loss
    assert loss is not None and "support_tickets" in loss["tables"]
    lost_tables = ", ".join(f"`{t}`" for t in loss["tables"])
    assert (
        loss["live_version"] == healthy.version and loss["candidate_version"] == outcome.live_after
    )
    # The importance lost is the live model's SHAP importance on the dropped features.
    store = PlanStore(goal.resolved_state_dir, goal.name)
    shares, _ = live_importance(store, healthy.version)
    assert shares is not None
    lost = sum(shares.get(c, 0.0) for c in loss["features"])
    assert loss["importance"] == pytest.approx(lost, abs=1e-5)
    assert store.accepted_version() == outcome.live_after > healthy.version
    report = outcome.report.read_text()
    assert "REPAIRED_WITH_LOSS" in report and "ACCEPTED WITH LOSS" in report
    assert f"**Lost:** source table(s) {lost_tables}" in report
    assert f"goal metric {healthy.value:.3f} before, {outcome.final.value:.3f} after" in report
    health = read_health(lenient)
    assert health["status"] == "healthy" and health["repair"] == "repaired_with_loss"
    assert health["loss"]["tables"] == loss["tables"]
    assert health["loss"]["metric_before"] == pytest.approx(healthy.value)
    assert health["loss"]["metric_after"] == pytest.approx(outcome.final.value)
    metadata = health_metadata(lenient)
    assert metadata["repair_lost_tables"] == ", ".join(loss["tables"])
    assert metadata["last_repair"] == "repaired_with_loss"
    # Every healing log entry names the run it answers.
    entries = [json.loads(line) for line in (store.root / LOG_FILE).read_text().splitlines()]
    assert entries and all(e["trigger_run_id"] == trigger.run_id for e in entries)
    assert healed_runs(store) == frozenset({trigger.run_id})


@dataclass(frozen=True)
class _Run:
    """A candidate's run as the gate reads it (the loop's tests exercise real runs)."""

    plan_version: int
    success: bool = True
    value: float | None = 0.6
    checks: dict[str, bool] = dataclasses.field(default_factory=dict)
    failed_step: str | None = None


def test_the_gate_judges_the_share_of_features_and_importance(
    healthy: Healthy, tmp_path: Path
) -> None:
    """Dropping features of a kept table: a small share passes; beyond the limits it is refused,
    or accepted with the loss under allow_loss. Importance is read from the live artifact."""
    store = PlanStore(healthy.snapshot / ".agentic", "churn")
    live = store.load(healthy.version)
    shares, _ = live_importance(store, healthy.version)
    assert shares is not None and abs(sum(shares.values()) - 1.0) < 1e-6
    ranked = sorted(shares, key=lambda c: -shares[c])

    def without(columns: set[str]) -> PlanBundle:
        groups = []
        for group in live.plan.feature_groups:
            kept = tuple(f for f in group.features if group.column_name(f) not in columns)
            groups.append(group.model_copy(update={"features": kept}))
        plan = live.plan.model_copy(update={"feature_groups": tuple(groups)})
        return dataclasses.replace(live, version=live.version + 1, plan=plan)

    def verdict(candidate: PlanBundle, **healing: object) -> str:
        goal = make_goal(tmp_path / "w.duckdb", **healing)
        context = GateContext(
            goal,
            RepairProposal(action="adapt", rationale=("test",)),
            live,
            candidate,
            _Run(candidate.version),
            0.6,
            store,
        )
        return no_silent_loss(context).verdict

    least = without({ranked[-1]})
    assert measure_loss(live, least, store).tables == ()
    assert verdict(least) == "pass"
    top = without({ranked[0]})
    top_loss = measure_loss(live, top, store)
    assert top_loss.importance is not None
    assert top_loss.importance == pytest.approx(shares[ranked[0]])
    half = top_loss.importance / 2
    assert verdict(top, max_importance_loss=half) == "refuse"
    assert verdict(top, max_importance_loss=half, allow_loss=True) == "accept_with_loss"
    many = without(set(ranked[len(ranked) // 2 :]))
    assert measure_loss(live, many, store).feature_share >= 0.5
    assert verdict(many, max_importance_loss=1.0) == "refuse"
    # A refusal by any check refuses the candidate; a loss is accepted only when nothing refuses.
    goal = make_goal(tmp_path / "w.duckdb", allow_loss=True, max_importance_loss=0.0)
    failed_run = _Run(top.version, success=False, failed_step="churn__model")
    context = GateContext(goal, RepairProposal(action="adapt"), live, top, failed_run, 0.6, store)
    # The leakage audit needs the candidate's warehouse: tests/test_gate_trust.py judges it.
    checks = tuple(c for c in DEFAULT_CHECKS if c is not no_leakage)
    decision = judge(context, checks)
    assert not decision.accepted and not decision.with_loss
    names = [v.check for v in decision.verdicts]
    assert names == ["run_succeeded", "data_checks", "metric", "no_silent_loss"]
    ok = judge(dataclasses.replace(context, run=_Run(top.version)), checks)
    assert ok.accepted and ok.with_loss and ok.loss is not None
