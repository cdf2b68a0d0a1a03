"""The headless runner: plan -> build definitions -> materialise -> summarise, in-process.

It drives the same code path as a deployment (the same plan store, the same Definitions
factory, a real Dagster instance); it only stands in for the daemon and the webserver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from dagster_agentic.goals.spec import Goal


@dataclass(frozen=True)
class RunSummary:
    """What one goal run achieved, in a form a person (or a test) can read."""

    goal: str
    objective: str
    plan_version: int
    run_id: str
    success: bool
    status: str
    metric: str
    target: float
    value: float | None
    cohort: str
    why: str
    assets: tuple[str, ...]
    checks: dict[str, bool] = field(default_factory=dict)
    egress_bytes: int = 0
    warehouse_bytes: int = 0
    """What loading the warehouse's tables into pandas would move: the peer of egress."""
    wall_seconds: float = 0.0

    def render(self) -> str:
        value = "n/a" if self.value is None else f"{self.value:.3f}"
        failed = [name for name, passed in self.checks.items() if not passed]
        share = self.egress_bytes / self.warehouse_bytes if self.warehouse_bytes else 0.0
        lines = [
            f"goal          {self.goal}: {self.objective}",
            f"result        {self.metric} {value} against target {self.target:.3f} "
            f"on {self.cohort}: {self.status.upper()}",
            f"why           {self.why}",
            f"plan version  {self.plan_version} (run {self.run_id[:8]})",
            f"assets built  {len(self.assets)}: {', '.join(self.assets)}",
            f"checks        {len(self.checks) - len(failed)} passed, {len(failed)} failed"
            + (f" ({', '.join(failed)})" if failed else ""),
            f"data gravity  {self.egress_bytes:,} bytes left the warehouse "
            f"({share:.2%} of the {self.warehouse_bytes:,} that pulling the warehouse's tables into"
            " pandas would move)",
            f"wall time     {self.wall_seconds:.1f} s",
        ]
        return "\n".join(lines)


def run_goal(
    goal: Goal,
    *,
    instance: dg.DagsterInstance | None = None,
    kernel: Any = None,
    log_level: str = "INFO",
) -> RunSummary:
    """Plan if needed, then materialise every asset of the goal's accepted plan version.

    ``log_level`` is the console log level of the run (its events are stored either way).
    """
    from dagster_agentic.agent.planner import ensure_plan
    from dagster_agentic.orchestration.definitions import build_definitions, goal_key, job_name

    started = time.perf_counter()
    bundle = ensure_plan(goal, kernel=kernel)
    defs = build_definitions(goal, bundle)
    job = defs.resolve_job_def(job_name(goal.name))
    owned = instance is None
    instance = instance or dg.DagsterInstance.ephemeral()
    try:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
    finally:
        if owned:
            instance.dispose()
    materialised = [e.asset_key for e in result.get_asset_materialization_events() if e.asset_key]
    checks = {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed
        for e in result.get_asset_check_evaluations()
    }
    goal_meta = _metadata_of(result, goal_key(goal.name))
    plan = bundle.plan
    return RunSummary(
        goal=goal.name,
        objective=goal.objective,
        plan_version=bundle.version,
        run_id=result.run_id,
        success=result.success,
        status=str(goal_meta.get("status", "failed")),
        metric=plan.objective.metric,
        target=plan.objective.threshold,
        value=goal_meta.get("value"),
        cohort=plan.objective.cohort_description,
        why=str(goal_meta.get("why", _failure(result))),
        assets=tuple(k.to_user_string() for k in materialised),
        checks=checks,
        egress_bytes=int(goal_meta.get("egress_bytes", 0)),
        warehouse_bytes=plan.warehouse_bytes or sum(t.memory_bytes for t in plan.raw_tables),
        wall_seconds=time.perf_counter() - started,
    )


def _metadata_of(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> dict[str, Any]:
    for event in result.get_asset_materialization_events():
        if event.asset_key == key:
            materialization = event.step_materialization_data.materialization
            return {name: value.value for name, value in materialization.metadata.items()}
    return {}


def _failure(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    if not failures:
        return "the run did not reach the goal asset"
    event = failures[0]
    error = event.step_failure_data.error
    while error is not None and error.cause is not None:  # the root cause, not the wrapper
        error = error.cause
    message = error.message.strip() if error else "unknown error"
    return f"step {event.step_key} failed: {message}"
