"""The healing loop inside a Dagster deployment: a sensor, a job, and a definitions refresh.

* ``<goal>__healing`` (a sensor, RUNNING by default) watches every finished run that touched
  the goal's assets, whatever launched it. When one had a failed data check, or every model
  candidate diverged, it requests one run of the heal job for it. Each failure is handled
  once: the cursor starts when the sensor first ticks, runs the healing log already answered
  (by run id) are skipped, and the run id is the run key.
* ``<goal>__heal`` (a job) diagnoses that run, writes the repaired plan version and gates it by
  materialising it in-process against the same instance; its runs are tagged as candidates so
  the sensor never reacts to them.
* When a repair goes live the code location is refreshed through the webserver's GraphQL API
  (``refreshComponentState`` for a ``GoalComponent``, else ``reloadRepositoryLocation``), so the
  UI and later runs build the new version. Declarative automation (code versions from the SQL,
  the automation sensor RUNNING by default) re-materialises what a new version changed.
"""

# No `from __future__ import annotations`: Dagster inspects op context annotations.
import datetime as dt
import math
import os
import time
from collections.abc import Callable
from typing import Any

import dagster as dg

from dagster_agentic.errors import AgenticError
from dagster_agentic.goals.spec import Goal
from dagster_agentic.healing.loop import GOAL_CHECK

TRIGGER_TAG = "dagster-agentic/trigger"
CANDIDATE_TAG = "dagster-agentic/candidate"
VERSION_TAG = "dagster-agentic/plan_version"
WEBSERVER_ENV = "DAGSTER_AGENTIC_WEBSERVER"
"""URL of the webserver to refresh after a repair (default http://127.0.0.1:3000)."""
INTERVAL_ENV = "DAGSTER_AGENTIC_HEALING_INTERVAL"
DEFAULT_INTERVAL = 30
RUNS_PER_TICK = 100
"""Finished runs read per tick, oldest first; the cursor moves past them, the rest wait."""
PLANNED_EVENTS_READ = 10_000


def heal_job_name(goal: str) -> str:
    return f"{goal}__heal"


def sensor_interval() -> int:
    """Seconds between ticks of the healing sensor: ``$DAGSTER_AGENTIC_HEALING_INTERVAL``, else
    30 (read when the definitions are built, i.e. by the code server)."""
    raw = os.environ.get(INTERVAL_ENV, "").strip()
    try:
        return max(1, int(raw)) if raw else DEFAULT_INTERVAL
    except ValueError as error:
        raise AgenticError(
            f"{INTERVAL_ENV}={raw!r} is not a whole number of seconds",
            fix=f"set {INTERVAL_ENV} to e.g. 30, or unset it",
        ) from error


def healing_definitions(
    goal: Goal, watched: frozenset[dg.AssetKey], *, kernel: bool = False
) -> tuple[dg.JobDefinition, dg.SensorDefinition]:
    """The heal job and the sensor that launches it for failed runs touching ``watched``.

    The sensor reacts to a run of any job (the goal job, ``__ASSET_JOB`` from "Materialize
    all" or ``dg launch``, declarative automation, a schedule) whose planned materialisations
    include one of the goal's assets. Its cursor is the update time of the last finished run
    it looked at; with no cursor yet (a new deployment, or the first ``dagster dev`` after a
    headless ``dagster-agentic run``) its first tick only records the present, so runs that
    finished before the sensor existed are history, not incidents. A run the healing log
    already answers (the headless runner heals in-process and logs the run id) is skipped, and
    the run id is the run key, so Dagster itself never launches two heals for one run.
    """
    job = _heal_job(goal, kernel)

    @dg.sensor(
        name=f"{goal.name}__healing",
        job=job,
        minimum_interval_seconds=sensor_interval(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Heals goal {goal.name!r} when a finished run that touched its assets"
        " failed a data check or every model candidate diverged.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> Any:
        if not context.cursor:
            context.update_cursor(str(time.time()))
            return dg.SkipReason("first tick: watching runs that finish from now on")
        after = float(context.cursor)
        records = context.instance.get_run_records(
            filters=dg.RunsFilter(
                statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
                updated_after=dt.datetime.fromtimestamp(after, tz=dt.UTC),
            ),
            limit=RUNS_PER_TICK,
            order_by="update_timestamp",
            ascending=True,
        )
        newest, answered, requests = after, healed_run_ids(goal), []
        for record in records:
            updated = record.update_timestamp.timestamp()
            if updated <= after:
                continue
            newest = max(newest, updated)
            run = record.dagster_run
            if CANDIDATE_TAG in run.tags or run.run_id in answered:
                continue
            if not touches(context.instance, run, watched):
                continue
            if needs_healing_run(goal, context.instance, run.run_id):
                requests.append(dg.RunRequest(run_key=run.run_id, tags={TRIGGER_TAG: run.run_id}))
        context.update_cursor(str(newest))
        return requests or dg.SkipReason(f"no failed run touched goal {goal.name!r}")

    return job, _sensor


def healed_run_ids(goal: Goal) -> frozenset[str]:
    """Runs the healing log has answered (by the sensor's heal job or the headless runner)."""
    from dagster_agentic.healing.loop import healed_runs
    from dagster_agentic.plan.store import PlanStore

    return frozenset(healed_runs(PlanStore.of(goal)))


def touches(
    instance: dg.DagsterInstance, run: dg.DagsterRun, watched: frozenset[dg.AssetKey]
) -> bool:
    """Whether ``run`` planned to materialise or check one of ``watched``, whatever its job."""
    selected = set(run.asset_selection or ()) | {
        c.asset_key for c in run.asset_check_selection or ()
    }
    if selected & watched:
        return True
    planned = instance.get_records_for_run(
        run.run_id,
        of_type={
            dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
            dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
        },
        limit=PLANNED_EVENTS_READ,
    ).records
    for record in planned:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        data = event.event_specific_data
        key = getattr(data, "asset_key", None) or event.asset_key
        if key in watched:
            return True
    return False


def needs_healing_run(goal: Goal, instance: dg.DagsterInstance, run_id: str) -> bool:
    from dagster_agentic.healing.loop import needs_healing

    return needs_healing(goal, run_outcome(goal, instance, run_id))


def _heal_job(goal: Goal, kernel: bool = False) -> dg.JobDefinition:
    """``kernel``: the job takes its kernel from the ``agentic_kernel`` resource."""

    @dg.op(
        name=f"{goal.name}__heal_op",
        tags={"kind": "agent"},
        required_resource_keys={"agentic_kernel"} if kernel else set(),
    )
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

        outcome = heal(
            goal,
            run_outcome(goal, instance, trigger_id),
            materialise=materialise,
            trigger_run_id=trigger_id,
            kernel=context.resources.agentic_kernel.kernel(goal) if kernel else None,
        )
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
    """A finished run that touched the goal's assets, read back from the instance's event log."""

    def __init__(self, goal: Goal, instance: dg.DagsterInstance, run_id: str) -> None:
        from dagster_agentic.orchestration.keys import goal_key

        run = instance.get_run_by_id(run_id)
        if run is None:
            raise dg.DagsterInvariantViolationError(f"run {run_id} is not in this instance")
        self.run_id = run_id
        self.success = run.status == dg.DagsterRunStatus.SUCCESS
        tagged = run.tags.get(VERSION_TAG)
        self.plan_version = int(tagged) if tagged else 0
        """The version the run built: the goal job's tag, else (a run of another job, e.g.
        "Materialize all") the ``plan_version`` its assets and checks record."""
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
                self._recorded_version(data.metadata)  # type: ignore[union-attr]
                if not data.passed and data.check_name != GOAL_CHECK:  # type: ignore[union-attr]
                    self.failed_check_at = min(self.failed_check_at or math.inf, entry.timestamp)
            elif event.event_type == dg.DagsterEventType.STEP_FAILURE and not self.failed_step:
                self.failed_step = event.step_key
            elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                metadata = event.step_materialization_data.materialization.metadata
                self._recorded_version(metadata)
                if event.asset_key != goal_key(goal.name):
                    continue
                value = metadata.get("value")
                self.value = None if value is None else float(value.value)  # type: ignore[arg-type]
                self.goal_at = entry.timestamp

    def _recorded_version(self, metadata: Any) -> None:
        value = (metadata or {}).get("plan_version")
        if not self.plan_version and value is not None:
            self.plan_version = int(value.value)


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
    ``execute`` sends a query another way (e.g. to an in-process workspace) instead of HTTP;
    it returns GraphQL's answer (``{"data": ..., "errors": ...}``).
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
    send = execute or webserver_client(url)
    problems = []
    for name, query, variables in attempts:
        try:
            answer = send(query, variables)
        except OSError as error:
            return f"webserver at {url} not reachable ({error}); the daemon reloads on its own"
        typename = ((answer.get("data") or {}).get(name) or {}).get("__typename", "")
        if typename and not typename.endswith("Error") and "NotFound" not in typename:
            return f"{name}: {typename}"
        problems.append(f"{name}: {typename or answer.get('errors')}")
    return "; ".join(problems)


def webserver_client(
    url: str, *, timeout: int = 120
) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """Raw GraphQL through ``dagster_graphql.DagsterGraphQLClient`` for the webserver at ``url``
    (``http[s]://host[:port][/prefix]``). The client has no method for
    ``refreshComponentState``, so the mutation goes through its generic ``_execute``. A
    webserver that cannot be reached raises ``OSError``; GraphQL errors come back as
    ``{"errors": [...]}``, like an answer over plain HTTP."""
    from urllib.parse import urlsplit

    import requests
    from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError
    from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError

    parts = urlsplit(url if "://" in url else f"http://{url}")
    client = DagsterGraphQLClient(
        parts.hostname or "127.0.0.1",
        port_number=parts.port,
        use_https=parts.scheme == "https",
        timeout=timeout,
        path_prefix=parts.path.rstrip("/"),
    )

    def execute(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            data: dict[str, Any] = client._execute(query, variables)
        except DagsterGraphQLClientError as error:
            causes = _causes(error)
            query_error = next((c for c in causes if isinstance(c, TransportQueryError)), None)
            if query_error is not None:
                return {"data": query_error.data, "errors": query_error.errors}
            unreachable = (TransportConnectionFailed, requests.ConnectionError, requests.Timeout)
            down = next((c for c in causes if isinstance(c, unreachable)), None)
            if down is not None:
                raise OSError(str(down)) from error
            return {"data": None, "errors": [str(causes[-1])]}
        return {"data": data}

    return execute


def _causes(error: BaseException) -> list[BaseException]:
    """``error`` and what it was raised from, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
