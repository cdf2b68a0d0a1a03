"""A multiclass and a regression goal end to end on warehouses of their own.

Each goal runs through the real pipeline once (module fixture): the goal is read from its
words, dbt builds the features with their checks, Dagster materialises the assets, the
training frame is validated with Great Expectations, the learners are fitted and evaluated
with an interval, SHAP explains the kept model, the verdict is recorded on the goal asset and
the predictions stream scores every entity. Then one fault per task is healed through the
loop and its gate.

Thresholds were chosen from measured runs of this configuration (2,000 entities each,
``max_train_seconds=3``, ``max_trials=2``): macro-F1 0.76 on the 330 test rows with a 95%
interval of [0.71, 0.81], so "at least 60%" is met by the lower bound with room to spare
(the majority class gives 0.11); RMSE 13,400 dollars on 304 test rows, interval [12,200,
14,600] (the price's noise alone has a standard deviation of 12,000), so "below 25,000" is met
by the upper bound, and predicting the mean gives 80,600. The repairs came back at 0.77 and
13,400. The gate's tolerance is 0.1: absolute for macro-F1, 10% of the last good RMSE.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import pytest

from dagster_agentic.agent.predict import live_model, model_frame, predict_goal
from dagster_agentic.agent.prediction_sql import scoring_sql
from dagster_agentic.features.sql import warehouse_ref
from dagster_agentic.goals.spec import Budget, Goal, Healing
from dagster_agentic.healing.loop import HealingOutcome, failed_data_checks
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.runner import RunSummary, run_and_heal, run_goal
from dagster_agentic.warehouse.connection import goal_warehouse, literal

from .task_warehouses import (
    FREIGHT_CUTOFF,
    HOUSING_CUTOFF,
    TIERS,
    build_freight_warehouse,
    build_housing_warehouse,
)

SHIPPING_GOAL = "Classify each order's shipping tier with at least 60% macro-F1"
PRICE_GOAL = "Predict the sale price of each house with an RMSE below 25,000"
BUDGET = Budget(max_train_seconds=3.0, max_trials=2)
_CI = re.compile(r"95% CI \[([\d.,]+), ([\d.,]+)\]")


@dataclass(frozen=True)
class Trained:
    goal: Goal
    summary: RunSummary
    bundle: PlanBundle
    instance: dg.DagsterInstance
    artifacts: Path
    now: datetime

    def metadata(self, *key: str) -> dict[str, Any]:
        event = self.instance.get_latest_materialization_event(dg.AssetKey(list(key)))
        assert event is not None and event.asset_materialization is not None
        return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def _train(root: Path, name: str, objective: str, warehouse: Path, now: str) -> Iterator[Trained]:
    goal = Goal(
        name=name,
        objective=objective,
        warehouse=warehouse,
        budget=BUDGET,
        healing=Healing(metric_tolerance=0.1),
        state_dir=root / "state",
    )
    home = root / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        summary = run_goal(goal, instance=instance, log_level="ERROR")
        assert summary.success and not failed_data_checks(summary), summary.render()
        store = PlanStore(goal.resolved_state_dir, name)
        bundle = store.load_accepted()
        assert bundle is not None
        yield Trained(
            goal, summary, bundle, instance, store.artifacts_dir(bundle.version), _at(now)
        )


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day) if "T" in day else datetime.fromisoformat(f"{day}T12:00")


@pytest.fixture(scope="module")
def freight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    root = tmp_path_factory.mktemp("freight")
    warehouse = build_freight_warehouse(root / "freight.duckdb")
    yield from _train(root, "shipping", SHIPPING_GOAL, warehouse, str(FREIGHT_CUTOFF))


@pytest.fixture(scope="module")
def housing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    root = tmp_path_factory.mktemp("housing")
    warehouse = build_housing_warehouse(root / "housing.duckdb")
    yield from _train(root, "prices", PRICE_GOAL, warehouse, str(HOUSING_CUTOFF))


def _interval(summary: RunSummary) -> tuple[float, float]:
    found = _CI.search(summary.why)
    assert found, summary.why
    low, high = (float(v.replace(",", "")) for v in found.groups())
    return low, high


@pytest.mark.parametrize(
    ("text", "metric", "threshold"),
    [
        ("Classify each order's shipping tier with at least 60% macro-F1", "macro_f1", 0.6),
        ("Find churn for customers older than 60 with at least 90 percent recall", "recall", 0.9),
        ("Estimate loans above $20k with at least 0.8 R²", "r2", 0.8),
    ],
)
def test_a_comparison_before_a_score_is_its_threshold_not_a_cohort(
    text: str, metric: str, threshold: float
) -> None:
    """'at least 60%' and 'at least 0.8 R²' say how good the model must be; a cohort's own
    range in the same sentence ('older than 60', 'above $20k') is still read as one."""
    from dagster_agentic.goals.spec import GoalOverrides
    from dagster_agentic.kernel.policy.conditions import find_conditions
    from dagster_agentic.kernel.policy.metric import metric_spans, read_metric

    conditions = find_conditions(text, metric_spans(text))
    assert all(c.op != ">=" for c in conditions), conditions
    assert len(conditions) == (0 if "shipping" in text else 1)
    reading = read_metric(text, GoalOverrides(), [(c.start, c.end) for c in conditions])
    assert (reading.metric, reading.threshold) == (metric, threshold)


def test_the_shipping_tier_goal_is_read_as_a_four_class_goal(freight: Trained) -> None:
    objective = freight.bundle.plan.objective
    assert objective.task == "multiclass_classification"
    assert (objective.label_table, objective.target_column) == ("tier_decisions", "shipping_tier")
    assert objective.classes == tuple(sorted(TIERS))
    assert objective.entity_table == "orders" and objective.entity_key == "order_ref"
    assert objective.cutoff_column == "snapshot_day"
    assert (objective.metric, objective.threshold) == ("macro_f1", 0.6)


def test_the_price_goal_is_read_as_a_regression_in_dollars(housing: Trained) -> None:
    objective = housing.bundle.plan.objective
    assert objective.task == "regression" and objective.classes == ()
    assert (objective.label_table, objective.target_column) == ("sales", "sale_price")
    assert objective.entity_table == "houses" and objective.entity_key == "parcel_code"
    assert (objective.metric, objective.threshold) == ("rmse", 25_000.0)


@pytest.mark.parametrize("task", ["freight", "housing"])
def test_the_verdict_is_met_on_its_interval_and_every_check_passed(
    task: str, request: pytest.FixtureRequest
) -> None:
    run: Trained = request.getfixturevalue(task)
    summary = run.summary
    assert summary.status == "met", summary.render()
    assert summary.value is not None
    low, high = _interval(summary)
    assert low <= round(summary.value, 3 if task == "freight" else 0) <= high
    if task == "freight":  # a score: the lower bound clears the target
        assert low > 0.6 and high <= 1.0
    else:  # an error in dollars: the upper bound stays under the ceiling
        assert high < 25_000 and low > 5_000  # the price's noise alone is 12,000
    assert all(summary.checks.values()), summary.render()
    # The goal asset carries the same verdict and interval.
    goal = run.metadata(run.goal.name)
    assert goal["verdict"] == "met" and goal["value"] == summary.value
    interval = goal["interval"]
    assert isinstance(interval, dict) and interval["level"] == 0.95
    assert np.isclose(interval["low"], low, rtol=1e-3) and np.isclose(
        interval["high"], high, rtol=1e-3
    )


def test_the_training_frame_checks_of_each_task_ran_and_passed(
    freight: Trained, housing: Trained
) -> None:
    expected = (
        (freight, {"label_in_classes", "train_has_every_class", "class_shares"}),
        (housing, {"label_finite", "target_not_constant", "label_distribution"}),
    )
    for run, names in expected:
        frame = {
            n.split(":training_set__")[1]: passed
            for n, passed in run.summary.checks.items()
            if ":training_set__" in n
        }
        assert names <= set(frame), sorted(frame)
        assert all(frame.values()), frame
        # Binary label checks are not run on other tasks.
        assert not {"label_in_0_1", "train_has_both_classes", "label_rate"} & set(frame)
    dbt = [n for n in freight.summary.checks if n.startswith("shipping/training_set:")]
    assert "shipping/training_set:label__accepted_values" in dbt, dbt


def test_the_evaluation_records_metric_interval_and_baseline(
    freight: Trained, housing: Trained
) -> None:
    tier = freight.metadata(freight.goal.name, "evaluation")
    assert tier["task"] == "multiclass_classification" and tier["metric"] == "macro_f1"
    assert set(tier["metrics"]) >= {"macro_f1", "accuracy"}
    # The baseline names the majority class by its value, as the user knows it.
    assert re.search(r"majority class '(" + "|".join(TIERS) + r")'", str(tier["baseline"]))
    price = housing.metadata(housing.goal.name, "evaluation")
    assert price["task"] == "regression" and price["metric"] == "rmse"
    assert set(price["metrics"]) >= {"rmse", "mae", "r2"}
    assert "predicting the mean" in str(price["baseline"])
    for metadata, run in ((tier, freight), (price, housing)):
        interval = metadata["interval"]
        assert isinstance(interval, dict)
        assert interval["low"] <= metadata["value"] <= interval["high"]
        assert metadata["value"] == run.summary.value and metadata["verdict"] == "met"
    # The model beats the trivial baseline by far, each in its own direction.
    baseline_f1 = float(str(tier["baseline"]).rsplit(": ", 1)[1])
    assert tier["value"] > baseline_f1 + 0.3
    baseline_rmse = float(str(price["baseline"]).rsplit(": ", 1)[1].replace(",", ""))
    assert price["value"] < baseline_rmse / 3


def test_shap_shares_explain_the_real_signal(freight: Trained, housing: Trained) -> None:
    import json

    for run, signal in (
        (freight, {"orders__declared_value", "orders__destination_zone"}),
        (housing, {"houses__floor_area_sqft", "houses__neighbourhood"}),
    ):
        importance = json.loads((run.artifacts / "importance.json").read_text())
        shares = importance["shares"]
        assert set(shares) == set(run.bundle.plan.feature_columns)
        assert abs(sum(shares.values()) - 1.0) < 1e-6
        top = sorted(shares, key=shares.get, reverse=True)[:4]
        assert signal <= set(top), top
        assert (run.artifacts / "shap_summary.png").read_bytes()[:4] == b"\x89PNG"


def _model_output(run: Trained, table: str) -> tuple[np.ndarray, np.ndarray]:
    """The live model's own output on the entities' features as of ``run.now``, by id."""
    plan = run.bundle.plan
    objective = plan.objective
    ref = warehouse_ref(plan.warehouse_schema, plan.models_schema)
    spine = (
        f"s AS (SELECT {objective.entity_key} AS entity_id,"
        f" TIMESTAMP {literal(run.now.isoformat(sep=' '))} AS cutoff_at"
        f" FROM main.{table})"
    )
    matrix = goal_warehouse(run.goal).fetch_df(scoring_sql(plan, spine, ref), purpose="test")
    learner = live_model(run.goal).learner
    frame = model_frame(matrix, plan)
    if objective.task == "regression":
        return matrix["entity_id"].to_numpy(), learner.predict(frame)
    proba = learner.predict_proba(frame)
    return matrix["entity_id"].to_numpy(), np.asarray(objective.classes)[proba.argmax(axis=1)]


@pytest.mark.parametrize("task", ["freight", "housing"])
def test_predictions_hold_the_models_class_or_value_for_every_entity(
    task: str, request: pytest.FixtureRequest
) -> None:
    run: Trained = request.getfixturevalue(task)
    entities = "orders" if task == "freight" else "houses"
    outcome = predict_goal(run.goal, now=run.now)
    assert all(c.passed for c in outcome.checks), outcome.render()
    assert outcome.task == run.bundle.plan.objective.task
    with duckdb.connect(str(run.goal.warehouse), read_only=True) as conn:
        table = conn.execute(f"SELECT * FROM {outcome.table} ORDER BY entity_id").df()
        count = conn.execute(f"SELECT count(*) FROM main.{entities}").fetchone()
    assert count is not None and len(table) == count[0] == outcome.rows
    ids, expected = _model_output(run, entities)
    mine = table.set_index("entity_id").loc[ids]
    if task == "freight":
        assert set(mine["predicted"]) <= set(TIERS) and len(set(mine["predicted"])) == 4
        assert (mine["predicted"].to_numpy() == expected).mean() > 0.99
        assert mine["score"].between(0.25, 1.0).all()  # the top class's probability
    else:
        predicted = mine["predicted"].to_numpy(dtype="float64")
        assert np.allclose(predicted, expected, rtol=1e-5, atol=1.0)
        assert np.allclose(mine["score"].to_numpy(dtype="float64"), predicted)
        assert 100_000 < predicted.mean() < 700_000  # dollars, as the target


def _heal(run: Trained, fault: str) -> tuple[RunSummary, HealingOutcome]:
    with duckdb.connect(str(run.goal.warehouse)) as conn:
        conn.execute(fault)
    with dg.instance_for_test() as instance:
        bundle, summary, outcome = run_and_heal(run.goal, instance, log_level="ERROR")
    assert bundle.version == run.bundle.version  # the trigger ran on the live version
    assert failed_data_checks(summary), summary.render()
    assert outcome is not None, summary.render()
    return summary, outcome


def test_a_renamed_measure_of_the_shipments_is_healed_and_gated(freight: Trained) -> None:
    """Runs after the tests above: it changes the warehouse and the live version."""
    _, outcome = _heal(freight, "ALTER TABLE shipments RENAME COLUMN weight_kg TO weight_kilos")
    assert "renamed_column" in {d.cause for d in outcome.diagnoses}, outcome.diagnoses
    assert outcome.accepted, outcome.report.read_text()
    final = outcome.final
    assert final.status == "met" and not failed_data_checks(final), final.render()
    store = PlanStore(freight.goal.resolved_state_dir, freight.goal.name)
    assert store.accepted_version() == final.plan_version > freight.bundle.version
    assert final.value is not None and freight.summary.value is not None
    assert final.value >= freight.summary.value - 0.1


def test_a_respelled_neighbourhood_is_healed_and_gated_on_rmse(housing: Trained) -> None:
    """Every neighbourhood is written in capitals from one release on: relabelled categories,
    mapped back; the gate judges RMSE downwards (a rise beyond 10% would be refused)."""
    _, outcome = _heal(housing, "UPDATE houses SET neighbourhood = upper(neighbourhood)")
    causes = {d.cause for d in outcome.diagnoses}
    assert "relabelled_categories" in causes, outcome.diagnoses
    report = outcome.report.read_text()
    assert outcome.accepted, report
    assert "rmse" in report and "lower is better" in report  # the tolerance, as the gate reads it
    final = outcome.final
    assert final.status == "met" and not failed_data_checks(final), final.render()
    store = PlanStore(housing.goal.resolved_state_dir, housing.goal.name)
    assert store.accepted_version() == final.plan_version > housing.bundle.version
    assert final.value is not None and housing.summary.value is not None
    assert final.value <= housing.summary.value * 1.1
