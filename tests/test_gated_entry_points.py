"""Every entry point is gated: any selection of a goal's assets validates the raw tables first,
and the healing sensor reacts to a failed run of any job that touched the goal, once."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_agentic import Goal, goal_definitions
from dagster_agentic.agent.planner import ensure_plan
from dagster_agentic.orchestration.definitions import build_definitions
from dagster_agentic.orchestration.gate import source_check_name, sources_key
from dagster_agentic.orchestration.healing import TRIGGER_TAG
from dagster_agentic.runner import execute_version, run_goal
from example_churn.faults import apply_fault

from .conftest import add_survey_table, make_goal
from .shop_warehouse import OBJECTIVE, build_shop_warehouse

K = dg.AssetKey


@pytest.fixture
def shop_goal(tmp_path: Path) -> Goal:
    warehouse = build_shop_warehouse(tmp_path / "shop.duckdb", members=600, leak=False)
    return Goal(name="lapse", objective=OBJECTIVE, warehouse=warehouse, state_dir=tmp_path / "st")


def _failed_checks(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.event_specific_data.check_name  # type: ignore[union-attr]
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and not e.event_specific_data.passed  # type: ignore[union-attr]
    }


def _tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, name: str, cursor: str | None
) -> tuple[list[dg.RunRequest], str | None]:
    sensor = defs.resolve_sensor_def(f"{name}__healing")
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    return list(result.run_requests or []), result.cursor


def test_every_selection_of_the_features_runs_the_raw_expectations_first(
    shop_goal: Goal,
) -> None:
    """On a warehouse with other names: "Materialize all" (the implicit asset job), ``*``, the
    goal's group and its job all include the gate and its checks; every dbt model that reads a
    raw table depends on the gate."""
    bundle = ensure_plan(shop_goal)
    defs = build_definitions(shop_goal, bundle)
    graph = defs.resolve_asset_graph()
    gate = sources_key("lapse")
    gate_checks = {c for c in graph.asset_check_keys if c.asset_key == gate}
    assert len(gate_checks) >= len(bundle.plan.raw_tables)  # at least one per table read
    assert not {c for c in graph.asset_check_keys if c.asset_key.path[0] == "raw"}
    features = {k for k in graph.get_all_asset_keys() if k.path[0] == "features"}
    assert features
    for key in features:
        assert gate in graph.get(key).parent_keys, key
    for selection in (
        dg.AssetSelection.all(),
        dg.AssetSelection.from_string("*"),
        dg.AssetSelection.groups("lapse"),
        dg.AssetSelection.assets(*features).upstream(),
    ):
        assert gate in selection.resolve(graph)
        assert gate_checks <= selection.resolve_checks(graph)
    assert gate in defs.resolve_job_def("lapse__goal").asset_layer.selected_asset_keys

    # A column the plan reads disappears: "Materialize all" stops at the gate, on its checks.
    with duckdb.connect(str(shop_goal.warehouse)) as conn:
        conn.execute("ALTER TABLE purchases RENAME COLUMN price TO unit_price")
    with dg.instance_for_test() as instance:
        everything = defs.resolve_implicit_global_asset_job_def()
        result = everything.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        assert source_check_name("purchases", "price__column_exists") in _failed_checks(result)
        assert [e.step_key for e in result.all_events if e.is_step_failure] == ["lapse__sources"]
        assert result.get_asset_materialization_events() == []  # nothing built on bad data


def test_automation_requests_the_gate_with_every_feature_it_rebuilds(warehouse_copy: Path) -> None:
    """Declarative automation rebuilds what a new version changed; the gate's code version
    covers the plan, its expectations and all of its SQL, so it is requested in the same run."""
    goal = make_goal(warehouse_copy)
    with dg.instance_for_test() as instance:
        # Version 1 was materialised and the daemon's previous tick saw it.
        bundle = ensure_plan(goal)
        assert execute_version(goal, bundle, instance, log_level="ERROR").success
        first = build_definitions(goal, bundle)
        before = dg.evaluate_automation_conditions(defs=first, instance=instance)
        add_survey_table(warehouse_copy)  # the warehouse grows: the next version reads it
        requested = dg.evaluate_automation_conditions(
            defs=goal_definitions(goal), instance=instance, cursor=before.cursor
        )
    # One tick's requests are launched together: the gate runs before the features it feeds.
    assert requested.get_num_requested(K(["features", "churn__payments"])) == 1
    assert requested.get_num_requested(K(["churn", "training_set"])) == 1
    assert requested.get_num_requested(sources_key("churn")) == 1


def test_the_sensor_heals_a_failed_materialize_all_run_and_no_run_twice(
    warehouse_copy: Path,
) -> None:
    """First tick: the cursor is set to now, so earlier runs are history. A failed run of the
    implicit asset job is then requested once; a run the runner healed in-process (its id is
    in the healing log) is never requested, even with a cursor from before it."""
    goal = make_goal(warehouse_copy)
    bundle = ensure_plan(goal)
    defs = build_definitions(goal, bundle)
    with dg.instance_for_test() as instance:
        apply_fault(warehouse_copy, "rename_column")
        everything = defs.resolve_implicit_global_asset_job_def()
        before = everything.execute_in_process(instance=instance, raise_on_error=False)
        assert not before.success
        requests, cursor = _tick(defs, instance, "churn", None)
        assert requests == [] and cursor is not None  # history, not an incident

        failed = everything.execute_in_process(instance=instance, raise_on_error=False)
        assert not failed.success
        requests, cursor = _tick(defs, instance, "churn", cursor)
        assert [r.run_key for r in requests] == [failed.run_id]
        assert requests[0].tags[TRIGGER_TAG] == failed.run_id
        assert _tick(defs, instance, "churn", cursor)[0] == []  # the cursor moved past it

        # The headless runner heals in-process; the sensor, even with an old cursor, leaves
        # both the run it answered and its gate's candidate runs alone.
        old_cursor = cursor
        summary = run_goal(goal, instance=instance, log_level="CRITICAL")
        assert summary.healing is not None and summary.healing.accepted
        requests, _ = _tick(defs, instance, "churn", old_cursor)
        assert requests == []
