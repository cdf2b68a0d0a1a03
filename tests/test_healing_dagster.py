"""The healing loop as a deployment runs it: the sensor sees a failed run, the heal job repairs
and gates, and declarative automation has nothing left to redo (or, after a refused repair,
the goal asset is observed degraded)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_agentic.agent.planner import ensure_plan
from dagster_agentic.orchestration.definitions import build_definitions, goal_key
from dagster_agentic.orchestration.healing import CANDIDATE_TAG, TRIGGER_TAG, refresh_definitions
from dagster_agentic.plan.store import PlanStore
from dagster_agentic.runner import execute_version
from example_churn.faults import apply_fault

from .conftest import make_goal


class _Daemon:
    """Evaluates the healing sensor tick after tick, keeping its cursor as the daemon does."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
        self.sensor = defs.resolve_sensor_def("churn__healing")
        self.instance = instance
        self.cursor: str | None = None

    def tick(self) -> list[dg.RunRequest]:
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor)
        result = self.sensor.evaluate_tick(context)
        self.cursor = result.cursor
        return list(result.run_requests or [])


def test_the_sensor_launches_the_heal_job_which_repairs_and_gates(warehouse_copy: Path) -> None:
    goal = make_goal(warehouse_copy)
    bundle = ensure_plan(goal)
    defs = build_definitions(goal, bundle)
    assert defs.resolve_sensor_def("churn__healing").default_status == (
        dg.DefaultSensorStatus.RUNNING
    )
    assert defs.resolve_sensor_def("churn__automation").default_status == (
        dg.DefaultSensorStatus.RUNNING
    )
    with dg.instance_for_test() as instance:
        daemon = _Daemon(defs, instance)
        healthy = execute_version(goal, bundle, instance, log_level="ERROR")
        assert healthy.success
        assert daemon.tick() == []  # a green run needs nothing

        apply_fault(warehouse_copy, "rename_column")
        failed = execute_version(goal, bundle, instance, log_level="ERROR")
        assert not failed.success and failed.failed_check_at is not None
        requests = daemon.tick()
        assert [r.run_key for r in requests] == [failed.run_id]
        assert requests[0].tags[TRIGGER_TAG] == failed.run_id

        heal = defs.resolve_job_def("churn__heal").execute_in_process(
            instance=instance, tags=dict(requests[0].tags)
        )
        assert heal.success
        assert heal.output_for_node("churn__heal_op") == "repaired"
        store = PlanStore(goal.resolved_state_dir, goal.name)
        repaired = store.load_accepted()
        assert repaired is not None and repaired.version == bundle.version + 1
        assert repaired.plan.sources[0].columns[0].source == "amount_eur"

        # The gate's run is a candidate: the sensor never reacts to it.
        candidates = instance.get_runs(dg.RunsFilter(tags={CANDIDATE_TAG: "gate"}))
        assert len(candidates) == 1 and candidates[0].status == dg.DagsterRunStatus.SUCCESS
        assert daemon.tick() == []

        # The repaired version changed the SQL of the payments features only, and its gate run
        # already materialised everything: automation has nothing left to request.
        new_defs = build_definitions(goal, repaired)
        old_graph, new_graph = defs.resolve_asset_graph(), new_defs.resolve_asset_graph()
        payments = dg.AssetKey(["features", "churn__payments"])
        events = dg.AssetKey(["features", "churn__events"])
        assert old_graph.get(payments).code_version != new_graph.get(payments).code_version
        assert old_graph.get(events).code_version == new_graph.get(events).code_version
        automation = dg.evaluate_automation_conditions(defs=new_defs, instance=instance)
        assert automation.total_requested == 0


def test_a_refused_repair_marks_the_goal_degraded(warehouse_copy: Path) -> None:
    goal = make_goal(warehouse_copy)
    bundle = ensure_plan(goal)
    defs = build_definitions(goal, bundle)
    with dg.instance_for_test() as instance:
        assert execute_version(goal, bundle, instance, log_level="ERROR").success
        daemon = _Daemon(defs, instance)
        daemon.tick()  # the first tick only starts the cursor: older runs are never healed
        apply_fault(warehouse_copy, "volume_drop")
        failed = execute_version(goal, bundle, instance, log_level="ERROR")
        (request,) = daemon.tick()
        heal = defs.resolve_job_def("churn__heal").execute_in_process(
            instance=instance, tags=dict(request.tags)
        )
        assert heal.output_for_node("churn__heal_op") == "degraded"
        assert PlanStore(goal.resolved_state_dir, goal.name).accepted_version() == bundle.version
        (observation,) = instance.fetch_observations(goal_key("churn"), limit=1).records
        metadata = observation.asset_observation.metadata  # type: ignore[union-attr]
        assert metadata["status"].value == "degraded"
        assert "partial_load" in str(metadata["diagnosis"].value)
        assert failed.run_id


def test_refreshing_without_a_webserver_is_not_an_error(warehouse_copy: Path) -> None:
    goal = make_goal(warehouse_copy)
    assert "in-process" in refresh_definitions(goal, None)
    answer = refresh_definitions(goal, "example", url="http://127.0.0.1:9")
    assert "not reachable" in answer
