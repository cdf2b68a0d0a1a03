"""The healing loop: failed checks -> evidence -> diagnosis -> repaired version -> gate.

:func:`heal` is plain Python. It is handed a function that materialises a plan version (the
headless runner's in-process execution, or the same inside a Dagster run), so the loop is the
same whoever reacts to the failure: the runner, or the healing sensor's run.

The gate: a candidate becomes the live version only if its run succeeds, every data check of
it passes (raw-table expectations on what the version reads, dbt tests, training-set checks)
and the goal metric is at most ``healing.metric_tolerance`` below the last good version's.
Otherwise the live version stays, the goal is marked degraded, and the report says what was
tried and why it was refused. Raw tables are only ever read.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from dagster_agentic.errors import AgenticError
from dagster_agentic.expectations.models import ExpectationResult, ExpectationSuite
from dagster_agentic.goals.spec import Budget, Goal
from dagster_agentic.healing.diagnosis import Diagnosis
from dagster_agentic.healing.health import last_good_value, write_health
from dagster_agentic.healing.report import render_report, summary_line
from dagster_agentic.kernel.protocol import (
    DiagnoseRequest,
    Kernel,
    RepairProposal,
    RepairRequest,
)
from dagster_agentic.plan.models import FeatureGroup, Plan, RawColumn, RawTable, SourceAdapter
from dagster_agentic.plan.store import PlanBundle, PlanStore, write_json_atomic
from dagster_agentic.warehouse.connection import Warehouse, goal_warehouse, table_columns

LOG_FILE, REPORTS_DIR = "healing.jsonl", "reports"
GOAL_CHECK = "goal_met"
"""The goal's own check: judged by the metric tolerance, not as a data check."""

Status = Literal["repaired", "degraded"]


class RunOutcome(Protocol):
    """What the gate needs to know about one materialisation of a plan version."""

    @property
    def plan_version(self) -> int: ...
    @property
    def success(self) -> bool: ...
    @property
    def value(self) -> float | None: ...
    @property
    def checks(self) -> dict[str, bool]: ...
    @property
    def failed_step(self) -> str | None: ...


Materialise = Callable[[PlanBundle], RunOutcome]


@dataclass(frozen=True)
class Attempt:
    """One repair tried: the proposal, the candidate version and what the gate saw."""

    action: str
    rationale: tuple[str, ...]
    version: int | None = None
    failed_checks: tuple[str, ...] = ()
    value: float | None = None
    accepted: bool = False
    why: str = ""


@dataclass(frozen=True)
class HealingOutcome:
    goal: str
    status: Status
    live_before: int
    live_after: int
    detected: tuple[str, ...]
    diagnoses: tuple[Diagnosis, ...]
    attempts: tuple[Attempt, ...]
    baseline: float | None
    report: Path
    seconds: float
    final: Any = field(default=None, compare=False)
    """The accepted candidate's run (a ``RunOutcome``), when the repair went live."""

    @property
    def accepted(self) -> bool:
        return self.status == "repaired"

    def to_dict(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "status": self.status,
            "live_before": self.live_before,
            "live_after": self.live_after,
            "detected": list(self.detected),
            "diagnoses": [d.model_dump(mode="json") for d in self.diagnoses],
            "attempts": [a.__dict__ for a in self.attempts],
            "baseline": self.baseline,
            "report": str(self.report),
            "seconds": round(self.seconds, 3),
        }


def failed_data_checks(outcome: RunOutcome) -> list[str]:
    """Every failed check of a run except the goal's own."""
    return sorted(
        name for name, passed in outcome.checks.items() if not passed and not _is_goal(name)
    )


def needs_healing(goal: Goal, outcome: RunOutcome) -> bool:
    """A data check failed, or the model step failed because every candidate diverged."""
    if failed_data_checks(outcome):
        return True
    return (
        outcome.failed_step == f"{goal.name}__model"
        and _divergence(goal, outcome.plan_version) is not None
    )


def heal(
    goal: Goal,
    trigger: RunOutcome,
    *,
    materialise: Materialise,
    kernel: Kernel | None = None,
) -> HealingOutcome:
    """Diagnose why ``trigger`` (a run of the live version) failed, write repaired versions and
    gate them; the live version changes only if one passes."""
    from dagster_agentic.agent.planner import default_kernel, trace_for
    from dagster_agentic.kernel.traced import TracedKernel

    started = time.perf_counter()
    store = PlanStore(goal.resolved_state_dir, goal.name)
    live = store.load_accepted()
    if live is None:
        raise AgenticError(
            f"goal {goal.name!r} has no accepted plan version to heal",
            fix="materialise the goal once before healing it",
        )
    kernel = TracedKernel(kernel or default_kernel(), trace_for(goal), goal.name)
    baseline = last_good_value(goal, live.version)
    detected = tuple(failed_data_checks(trigger)) or (f"step {trigger.failed_step} failed",)
    base, attempts = live, []
    diagnoses = _diagnose(goal, base, kernel, training=_divergence(goal, trigger.plan_version))
    all_diagnoses = list(diagnoses)
    final = None
    deadline = time.monotonic() + goal.healing.max_seconds
    for number in range(goal.healing.max_attempts):
        left = deadline - time.monotonic()
        if left <= 0:
            attempts.append(_out_of_time(goal, number))
            break
        proposal = _propose(goal, base, kernel, diagnoses, store, live.version)
        if proposal.action == "refuse":
            attempts.append(
                Attempt("refuse", proposal.rationale, why="; ".join(proposal.rationale))
            )
            break
        try:
            candidate = write_candidate(
                goal, base, proposal, kernel=kernel, parent=live.version, seconds_left=left
            )
        except AgenticError as error:
            attempts.append(
                Attempt(proposal.action, proposal.rationale, why=f"not written: {error}")
            )
            break
        try:
            run = materialise(candidate)
            attempt = _judge(goal, proposal, candidate, run, baseline)
        except BaseException:
            # The gate could not decide: the candidate is abandoned, never left half-judged.
            store.abandon(candidate.version, why="its gate failed")
            raise
        attempts.append(attempt)
        if not attempt.accepted:
            store.settle(candidate.version)  # refused: kept as history, its number stays used
        _log(store, live.version, proposal, attempt)
        if attempt.accepted:
            store.accept(candidate.version)
            final = run
            break
        if not attempt.failed_checks or number + 1 >= goal.healing.max_attempts:
            break
        # The candidate's own checks found another cause: diagnose it on top of the candidate.
        base = candidate
        diagnoses = _diagnose(goal, base, kernel, training=_divergence(goal, candidate.version))
        all_diagnoses += diagnoses
    status: Status = "repaired" if final is not None else "degraded"
    outcome = HealingOutcome(
        goal=goal.name,
        status=status,
        live_before=live.version,
        live_after=store.accepted_version() or live.version,
        detected=detected,
        diagnoses=tuple(all_diagnoses),
        attempts=tuple(attempts),
        baseline=baseline,
        report=store.root / REPORTS_DIR / f"{_stamp()}-v{live.version:04d}.md",
        seconds=time.perf_counter() - started,
        final=final,
    )
    outcome.report.parent.mkdir(parents=True, exist_ok=True)
    outcome.report.write_text(render_report(outcome, goal))
    write_health(
        goal,
        status="healthy" if final is not None else "degraded",
        version=outcome.live_after,
        value=final.value if final is not None else None,
        why=summary_line(outcome),
        report=outcome.report,
    )
    return outcome


# --- steps ------------------------------------------------------------------------------------


def _diagnose(
    goal: Goal, bundle: PlanBundle, kernel: Kernel, *, training: dict[str, Any] | None
) -> tuple[Diagnosis, ...]:
    from dagster_agentic.agent.planner import PROFILE_FILE, load_suite
    from dagster_agentic.expectations.validate import validate_suite
    from dagster_agentic.features.adapters import adapted_sources
    from dagster_agentic.healing.evidence import collect_evidence
    from dagster_agentic.warehouse.models import WarehouseProfile

    warehouse = goal_warehouse(goal)
    results: Sequence[ExpectationResult] = validate_suite(
        warehouse, load_suite(bundle), relations=adapted_sources(bundle.plan)
    )
    reference = WarehouseProfile.model_validate_json((bundle.path / PROFILE_FILE).read_text())
    evidence = collect_evidence(warehouse, reference, results, training=training)
    return kernel.diagnose(DiagnoseRequest(goal=goal, evidence=evidence)).diagnoses


def _propose(
    goal: Goal,
    base: PlanBundle,
    kernel: Kernel,
    diagnoses: tuple[Diagnosis, ...],
    store: PlanStore,
    live: int,
) -> RepairProposal:
    from dagster_agentic.healing.measure import measure

    if not diagnoses:
        return RepairProposal(
            action="refuse",
            rationale=("the failed checks are not explained by the raw data or the training run",),
        )
    return kernel.propose_repair(
        RepairRequest(
            goal=goal,
            plan=base.plan,
            diagnoses=diagnoses,
            measurements=measure(goal_warehouse(goal), base.plan, diagnoses),
            refused=refused_repairs(store, live),
        )
    )


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

    store = PlanStore(goal.resolved_state_dir, goal.name)
    # Provisional: leased to this process until the gate accepts or refuses it, so a run
    # killed before the verdict leaves an abandoned candidate that the next run reclaims.
    return store.write_version(plan, render, parent=parent, reason=reason, provisional=True)


def _out_of_time(goal: Goal, tried: int) -> Attempt:
    budget = goal.healing.max_seconds
    return Attempt(
        "stop",
        (f"healing.max_seconds of {budget:g} s is spent after {tried} attempt(s)",),
        why=f"the incident's budget of {budget:g} s is spent; no further repair was started",
    )


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


def _judge(
    goal: Goal,
    proposal: RepairProposal,
    candidate: PlanBundle,
    run: RunOutcome,
    baseline: float | None,
) -> Attempt:
    failed = tuple(failed_data_checks(run))
    tolerance = goal.healing.metric_tolerance
    reasons = []
    if not run.success:
        reasons.append(f"the run failed (step {run.failed_step})")
    if failed:
        reasons.append(f"{len(failed)} check(s) failed: {', '.join(failed[:5])}")
    if run.value is None:
        reasons.append("the goal metric was not computed")
    elif baseline is not None and run.value < baseline - tolerance:
        reasons.append(
            f"the goal metric fell from {baseline:.3f} to {run.value:.3f}, more than the"
            f" tolerance of {tolerance:.3f}"
        )
    accepted = not reasons
    why = (
        f"every check passed and the goal metric is {run.value:.3f}"
        + (
            f" (last good {baseline:.3f}, tolerance {tolerance:.3f})"
            if baseline is not None
            else ""
        )
        if accepted and run.value is not None
        else "; ".join(reasons)
    )
    return Attempt(
        action=proposal.action,
        rationale=proposal.rationale,
        version=candidate.version,
        failed_checks=failed,
        value=run.value,
        accepted=accepted,
        why=why,
    )


# --- memory, health and the report -----------------------------------------------------------


def _log(store: PlanStore, live: int, proposal: RepairProposal, attempt: Attempt) -> None:
    entry = {
        "at": time.time(),
        "live_version": live,
        "candidate": attempt.version,
        "action": proposal.action,
        "fingerprint": proposal.fingerprint(),
        "accepted": attempt.accepted,
        "why": attempt.why,
    }
    store.root.mkdir(parents=True, exist_ok=True)
    with (store.root / LOG_FILE).open("a") as handle:
        handle.write(json.dumps(entry) + "\n")


def refused_repairs(store: PlanStore, live: int) -> tuple[str, ...]:
    """Fingerprints of repairs the gate refused on top of version ``live``: never retried."""
    path = store.root / LOG_FILE
    if not path.exists():
        return ()
    found = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        if entry["live_version"] == live and not entry["accepted"]:
            found.append(str(entry["fingerprint"]))
    return tuple(dict.fromkeys(found))


def _divergence(goal: Goal, version: int) -> dict[str, Any] | None:
    from dagster_agentic.agent.steps import DIVERGENCE_FILE

    path = PlanStore(goal.resolved_state_dir, goal.name).artifacts_dir(version) / DIVERGENCE_FILE
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _is_goal(check: str) -> bool:
    return check.rsplit(":", 1)[-1] == GOAL_CHECK


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
