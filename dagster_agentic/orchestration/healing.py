"""The healing loop inside a Dagster deployment: a sensor, a job, and a definitions refresh.

* ``<goal>__healing`` (a sensor, RUNNING by default) watches finished runs of the goal's job.
  When one had a failed data check, or every model candidate diverged, it requests one run of
  the heal job for it (the run id is the run key, so each failure is handled once).
* ``<goal>__heal`` (a job) diagnoses that run, writes the repaired plan version and gates it by
  materialising it in-process against the same instance; its runs are tagged as candidates so
  the sensor never reacts to them.
* When a repair goes live the code location is refreshed through the webserver's GraphQL API
  (``refreshComponentState`` for a ``GoalComponent``, else ``reloadRepositoryLocation``), so the
  UI and later runs build the new version. Declarative automation (code versions from the SQL,
  the automation sensor RUNNING by default) re-materialises what a new version changed.
"""

# No `from __future__ import annotations`: Dagster inspects op context annotations.
import json
import math
import os
import urllib.request
from collections.abc import Callable
from typing import Any

import dagster as dg

from dagster_agentic.goals.spec import Goal
from dagster_agentic.healing.loop import GOAL_CHECK

TRIGGER_TAG = "dagster-agentic/trigger"
CANDIDATE_TAG = "dagster-agentic/candidate"
VERSION_TAG = "dagster-agentic/plan_version"
WEBSERVER_ENV = "DAGSTER_AGENTIC_WEBSERVER"
"""URL of the webserver to refresh after a repair (default http://127.0.0.1:3000)."""


def heal_job_name(goal: str) -> str:
    return f"{goal}__heal"


def healing_definitions(goal: Goal, goal_job: str) -> tuple[dg.JobDefinition, dg.SensorDefinition]:
    """The heal job and the sensor that launches it for failed runs of ``goal_job``."""
    job = _heal_job(goal)

    @dg.sensor(
        name=f"{goal.name}__healing",
        job=job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Heals goal {goal.name!r} when a run of {goal_job} fails a data check.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> Any:
        after = float(context.cursor or 0.0)
        records = context.instance.get_run_records(
            filters=dg.RunsFilter(
                job_name=goal_job,
                statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
            ),
            limit=20,
        )
        newest = after
        for record in sorted(records, key=lambda r: r.create_timestamp.timestamp()):
            created = record.create_timestamp.timestamp()
            if created <= after:
                continue
            newest = max(newest, created)
            run = record.dagster_run
            if CANDIDATE_TAG in run.tags:
                continue
            if needs_healing_run(goal, context.instance, run.run_id):
                yield dg.RunRequest(run_key=run.run_id, tags={TRIGGER_TAG: run.run_id})
        context.update_cursor(str(newest))

    return job, _sensor


def needs_healing_run(goal: Goal, instance: dg.DagsterInstance, run_id: str) -> bool:
    from dagster_agentic.healing.loop import needs_healing

    return needs_healing(goal, run_outcome(goal, instance, run_id))


def _heal_job(goal: Goal) -> dg.JobDefinition:
    @dg.op(name=f"{goal.name}__heal_op", tags={"kind": "agent"})
    def _heal(context: dg.OpExecutionContext) -> dg.Output[str]:
        from dagster_agentic.healing.loop import heal
        from dagster_agentic.plan.store import PlanBundle
        from dagster_agentic.runner import execute_version, report_degraded

        trigger_id = context.run.tags.get(TRIGGER_TAG)
        if not trigger_id:
            raise dg.Failure(
                description=f"the heal job needs the {TRIGGER_TAG} tag: the id of a failed run",
                metadata={"fix": "launch it from the healing sensor, or add the tag"},
            )
        instance = context.instance

        def materialise(bundle: PlanBundle) -> Any:
            return execute_version(goal, bundle, instance, candidate=True, log_level="WARNING")

        outcome = heal(goal, run_outcome(goal, instance, trigger_id), materialise=materialise)
        if outcome.accepted:
            refreshed = refresh_definitions(goal, _location_name(context))
            context.log.info(f"version {outcome.live_after} is live; definitions: {refreshed}")
        else:
            report_degraded(goal, outcome, instance)
        return dg.Output(
            outcome.status,
            metadata={
                "status": outcome.status,
                "live_version": outcome.live_after,
                "report": dg.MetadataValue.md(outcome.report.read_text()),
                "outcome": dg.MetadataValue.json(outcome.to_dict()),
            },
        )

    @dg.job(
        name=heal_job_name(goal.name),
        description=f"Diagnose and repair goal {goal.name!r} after a failed run; gate the repair.",
        tags={CANDIDATE_TAG: "heal"},
    )
    def _job() -> None:
        _heal()

    return _job


class _StoredRun:
    """A finished run of the goal job, read back from the instance's event log."""

    def __init__(self, goal: Goal, instance: dg.DagsterInstance, run_id: str) -> None:
        from dagster_agentic.orchestration.definitions import goal_key

        run = instance.get_run_by_id(run_id)
        if run is None:
            raise dg.DagsterInvariantViolationError(f"run {run_id} is not in this instance")
        self.run_id = run_id
        self.success = run.status == dg.DagsterRunStatus.SUCCESS
        self.plan_version = int(run.tags.get(VERSION_TAG, "0") or 0)
        self.checks: dict[str, bool] = {}
        self.failed_step: str | None = None
        self.value: float | None = None
        self.failed_check_at: float | None = None
        """When the first data check failed (epoch seconds)."""
        self.goal_at: float | None = None
        """When the goal asset was materialised (epoch seconds)."""
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                data = event.event_specific_data
                key = f"{data.asset_key.to_user_string()}:{data.check_name}"  # type: ignore[union-attr]
                self.checks[key] = bool(data.passed)  # type: ignore[union-attr]
                if not data.passed and data.check_name != GOAL_CHECK:  # type: ignore[union-attr]
                    self.failed_check_at = min(self.failed_check_at or math.inf, entry.timestamp)
            elif event.event_type == dg.DagsterEventType.STEP_FAILURE and not self.failed_step:
                self.failed_step = event.step_key
            elif (
                event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
                and event.asset_key == goal_key(goal.name)
            ):
                metadata = event.step_materialization_data.materialization.metadata
                value = metadata.get("value")
                self.value = None if value is None else float(value.value)  # type: ignore[arg-type]
                self.goal_at = entry.timestamp


def run_outcome(goal: Goal, instance: dg.DagsterInstance, run_id: str) -> _StoredRun:
    """What the healing loop needs to know about a stored run (see ``healing.loop.RunOutcome``)."""
    return _StoredRun(goal, instance, run_id)


def _location_name(context: dg.OpExecutionContext) -> str | None:
    origin = context.run.remote_job_origin
    if origin is None:
        return os.environ.get("DAGSTER_AGENTIC_LOCATION")
    return str(origin.repository_origin.code_location_origin.location_name)


def refresh_definitions(
    goal: Goal,
    location: str | None,
    url: str | None = None,
    *,
    execute: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
) -> str:
    """Ask the webserver to rebuild ``location``'s definitions from the accepted version.

    Tries ``refreshComponentState`` for the goal's component first (it re-pins the version the
    component serves), then ``reloadRepositoryLocation``. Returns what happened; a deployment
    without a webserver is not an error (the daemon re-reads its workspace on its own).
    ``execute`` sends a query another way (e.g. to an in-process workspace) instead of HTTP.
    """
    if not location:
        return "no code location to refresh (in-process)"
    url = (url or os.environ.get(WEBSERVER_ENV) or "http://127.0.0.1:3000").rstrip("/")
    attempts = [
        (
            "refreshComponentState",
            "mutation($l: String!, $k: String!) { refreshComponentState(locationName: $l,"
            " defsStateKey: $k) { __typename } }",
            {"l": location, "k": f"GoalComponent[{goal.name}]"},
        ),
        (
            "reloadRepositoryLocation",
            "mutation($l: String!) { reloadRepositoryLocation(repositoryLocationName: $l)"
            " { __typename } }",
            {"l": location},
        ),
    ]
    problems = []
    for name, query, variables in attempts:
        try:
            answer = (execute or (lambda q, v: _graphql(url, q, v)))(query, variables)
        except OSError as error:
            return f"webserver at {url} not reachable ({error}); the daemon reloads on its own"
        typename = ((answer.get("data") or {}).get(name) or {}).get("__typename", "")
        if typename and not typename.endswith("Error") and "NotFound" not in typename:
            return f"{name}: {typename}"
        problems.append(f"{name}: {typename or answer.get('errors')}")
    return "; ".join(problems)


def _graphql(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer
