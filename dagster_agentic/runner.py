"""The headless runner: plan -> build definitions -> materialise -> summarise, in-process.

It drives the same code path as a deployment (the same plan store, the same Definitions
factory, a real Dagster instance); it only stands in for the daemon and the webserver.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import dagster as dg

from dagster_agentic.goals.spec import Goal
from dagster_agentic.plan.locks import planning_lock
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.warehouse.locking import warehouse_lock


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
    failed_step: str | None = None
    failed_check_at: float | None = None
    """When the first data check failed (epoch seconds): where a repair's clock starts. After
    an accepted repair, the time of the failure in the run that triggered it."""
    goal_at: float | None = None
    """When the goal asset was materialised (epoch seconds)."""
    healing: Any = None
    """The ``HealingOutcome`` when this run triggered a repair."""
    model_spend: dict[str, Any] | None = None
    """What a model kernel spent in this run (calls, tokens, dollars); None for the policy."""

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
        if self.model_spend is not None:
            spend = self.model_spend
            tokens = spend["input_tokens"] + spend["output_tokens"]
            unpriced = spend.get("unpriced_calls", 0)
            lines.append(
                f"model kernel  {spend['model']}: {spend['calls']} calls, {tokens:,} tokens,"
                f" ${spend['usd']:.4f}" + (f" ({unpriced} calls unpriced)" if unpriced else "")
            )
        if self.healing is not None:
            lines.insert(3, f"healing       {self.healing.status}: {self._healing_line()}")
            lines.append(f"report        {self.healing.report}")
        return "\n".join(lines)

    def _healing_line(self) -> str:
        outcome = self.healing
        causes = ", ".join(sorted({f"{d.cause} on {d.table}" for d in outcome.diagnoses}))
        last = outcome.attempts[-1].why if outcome.attempts else ""
        return f"{causes or 'no cause found'}; {last}"


def run_goal(
    goal: Goal,
    *,
    instance: dg.DagsterInstance | None = None,
    kernel: Any = None,
    log_level: str = "INFO",
    heal: bool = True,
    progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Plan if needed, materialise every asset of the goal's accepted plan version, and, when a
    data check fails or training diverges, heal: diagnose, write a repaired version, gate it.

    ``log_level`` is the console log level of the runs (their events are stored either way).
    ``progress`` is told each phase as it starts: ``planning``, then for each run ``dbt
    build``, ``training``, ``evaluation``, and ``healing`` before a repair.
    """
    from dagster_agentic.agent.planner import default_kernel
    from dagster_agentic.observability.outcomes import record_summary
    from dagster_agentic.observability.spans import agent_span

    started = time.perf_counter()
    kernel = kernel or default_kernel(goal)
    owned = instance is None
    instance = instance or dg.DagsterInstance.ephemeral()
    # The run's root span: planning, healing, every step and tool call nest under it.
    with agent_span(goal.name, goal=goal, attributes=_goal_attributes(goal)) as span:
        try:
            _, summary, outcome = run_and_heal(
                goal, instance, kernel=kernel, log_level=log_level, heal=heal, progress=progress
            )
        finally:
            if owned:
                instance.dispose()
        summary = _final_summary(goal, summary, outcome, kernel, started)
        record_summary(span, summary)
    return summary


def _goal_attributes(goal: Goal) -> dict[str, Any]:
    return {
        "dagster_agentic.objective": goal.objective,
        "dagster_agentic.kernel": goal.kernel.model if goal.kernel is not None else "policy",
    }


def _final_summary(
    goal: Goal, summary: RunSummary, outcome: Any, kernel: Any, started: float
) -> RunSummary:
    if outcome is not None and outcome.accepted:
        # The repaired run, timed from the check that failed in the live version's run.
        summary = replace(outcome.final, healing=outcome, failed_check_at=summary.failed_check_at)
    elif outcome is not None:
        summary = replace(summary, status="degraded", why=_health_why(goal), healing=outcome)
    spend = getattr(kernel, "spend", None)
    if spend is not None:
        summary = replace(summary, model_spend={"model": kernel.spec.model, **spend.summary()})
    return replace(summary, wall_seconds=time.perf_counter() - started)


def run_and_heal(
    goal: Goal,
    instance: dg.DagsterInstance,
    *,
    kernel: Any = None,
    log_level: str = "INFO",
    heal: bool = True,
    progress: Callable[[str], None] | None = None,
) -> tuple[PlanBundle, RunSummary, Any]:
    """The accepted version (planned if needed), its run, and the healing outcome if the run
    needed one (a ``HealingOutcome``, else None). A refused repair is reported to Dagster as a
    degraded goal; a green run becomes the next gate's baseline."""
    from dagster_agentic.agent.planner import default_kernel, ensure_plan
    from dagster_agentic.healing import loop
    from dagster_agentic.healing.health import write_health

    # One kernel for the whole run: a model kernel's budgets are per goal run.
    kernel = kernel or default_kernel(goal)
    tell = progress or (lambda phase: None)
    tell("planning")
    bundle = ensure_plan(goal, kernel=kernel)

    def materialise(version: PlanBundle) -> RunSummary:
        return execute_version(
            goal, version, instance, log_level=log_level, candidate=True, progress=progress
        )

    summary = execute_version(goal, bundle, instance, log_level=log_level, progress=progress)
    outcome = None
    if heal and goal.healing.enabled and loop.needs_healing(goal, summary):
        with planning_lock(goal.resolved_state_dir, goal.name, purpose="healing"):
            # Another process may have repaired the goal while this run waited for the lock:
            # then its repair is run instead of writing a second one.
            live = PlanStore.of(goal).load_accepted()
            if live is not None and live.version != bundle.version:
                bundle = live
                summary = execute_version(
                    goal, live, instance, log_level=log_level, progress=progress
                )
            if loop.needs_healing(goal, summary):
                tell("healing")
                # The run id goes into the healing log: the sensor never heals this run again.
                outcome = loop.heal(
                    goal,
                    summary,
                    materialise=materialise,
                    kernel=kernel,
                    trigger_run_id=summary.run_id,
                )
                if not outcome.accepted:
                    report_degraded(goal, outcome, instance)
    if outcome is None and not loop.failed_data_checks(summary) and summary.success:
        write_health(
            goal,
            status="healthy",
            version=summary.plan_version,
            value=summary.value,
            why=summary.why,
        )
    return bundle, summary, outcome


def _health_why(goal: Goal) -> str:
    from dagster_agentic.healing.health import read_health

    return str(read_health(goal).get("why", "degraded"))


def execute_version(
    goal: Goal,
    bundle: PlanBundle,
    instance: dg.DagsterInstance,
    *,
    log_level: str = "INFO",
    candidate: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Materialise every asset (and check) of one plan version in-process; a ``candidate`` run
    (a repair being gated) is tagged so the healing sensor leaves it alone."""
    from dagster_agentic.observability.spans import tool_span

    started = time.perf_counter()
    with tool_span(
        "materialise",
        {"dagster_agentic.candidate": candidate},
        plan_version=bundle.version,
    ) as span:
        summary = _execute(
            goal, bundle, instance, log_level=log_level, candidate=candidate, progress=progress
        )
        span.set("dagster_agentic.run_id", summary.run_id)
        span.set("dagster_agentic.success", summary.success)
        span.set("dagster_agentic.status", summary.status)
    return replace(summary, wall_seconds=time.perf_counter() - started)


def _execute(
    goal: Goal,
    bundle: PlanBundle,
    instance: dg.DagsterInstance,
    *,
    log_level: str,
    candidate: bool,
    progress: Callable[[str], None] | None,
) -> RunSummary:
    from dagster_agentic.orchestration.definitions import build_definitions, goal_key, job_name
    from dagster_agentic.orchestration.healing import CANDIDATE_TAG, VERSION_TAG, run_outcome

    defs = build_definitions(goal, bundle)
    job = defs.resolve_job_def(job_name(goal.name))
    # The run reads the warehouse throughout (checks, training): it holds the warehouse lock
    # shared, and its dbt step takes it exclusively for the build (``dbt_writing``).
    purpose = f"goal {goal.name}: run of version {bundle.version}"
    run_id = str(uuid.uuid4())
    if progress is not None:
        instance.add_event_listener(run_id, _step_listener(goal.name, progress))
    with warehouse_lock(goal.warehouse, write=False, purpose=purpose):
        result = job.execute_in_process(
            run_id=run_id,
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            tags={
                VERSION_TAG: str(bundle.version),
                **({CANDIDATE_TAG: "gate"} if candidate else {}),
            },
        )
    materialised = [e.asset_key for e in result.get_asset_materialization_events() if e.asset_key]
    goal_meta = _metadata_of(result, goal_key(goal.name))
    plan = bundle.plan
    stored = run_outcome(goal, instance, result.run_id)  # checks, failures and their times
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
        checks=stored.checks,
        egress_bytes=int(goal_meta.get("egress_bytes", 0)),
        warehouse_bytes=plan.warehouse_bytes or sum(t.memory_bytes for t in plan.raw_tables),
        failed_step=stored.failed_step,
        failed_check_at=stored.failed_check_at,
        goal_at=stored.goal_at,
    )


_PHASES = {"dbt": "dbt build", "model": "training", "evaluation": "evaluation"}


def _step_listener(goal: str, progress: Callable[[str], None]) -> Callable[[Any], None]:
    """A run's event listener that tells ``progress`` the phase of each step as it starts."""

    def listen(entry: Any) -> None:
        event = entry.dagster_event
        if event is None or not event.is_step_start or not event.step_key:
            return
        step = event.step_key.removeprefix(f"{goal}__")
        if step in _PHASES:
            progress(_PHASES[step])

    return listen


def report_degraded(goal: Goal, outcome: Any, instance: dg.DagsterInstance) -> None:
    """Mark the goal asset degraded in Dagster: an observation with the diagnosis and report."""
    from dagster_agentic.orchestration.definitions import goal_key

    instance.report_runless_asset_event(
        dg.AssetObservation(
            asset_key=goal_key(goal.name),
            metadata={
                "status": "degraded",
                "live_plan_version": outcome.live_after,
                "diagnosis": dg.MetadataValue.md(
                    "\n".join(
                        f"- {d.cause} on {d.table}: {d.explanation}" for d in outcome.diagnoses
                    )
                    or "no cause found"
                ),
                "report": dg.MetadataValue.path(str(outcome.report)),
                "report_text": dg.MetadataValue.md(outcome.report.read_text()),
            },
        )
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
