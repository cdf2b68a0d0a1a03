"""The healing loop: failed checks -> evidence -> diagnosis -> repaired version -> gate.

:func:`heal` is plain Python. It is handed a function that materialises a plan version (the
headless runner's in-process execution, or the same inside a Dagster run), so the loop is the
same whoever reacts to the failure: the runner, or the healing sensor's run.

The gate (``healing.gate``): a candidate becomes the live version only if its run succeeds,
every data check of it passes, the goal metric is at most ``healing.metric_tolerance`` below the
last good version's and it loses no source table and no more than the set shares of the live
version's features and SHAP importance; a larger loss goes live, as "repaired_with_loss", only
where ``healing.allow_loss`` says so. Otherwise the live version stays, the goal is marked
degraded, and the report says what was tried and why it was refused. Raw tables are only ever
read.

The healing log (``healing.jsonl``) records every attempt with the id of the failed run it
answers, so a run is never healed twice (:func:`healed_runs`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dagster_agentic.errors import AgenticError
from dagster_agentic.expectations.models import ExpectationResult
from dagster_agentic.goals.spec import Goal
from dagster_agentic.healing.candidate import write_candidate
from dagster_agentic.healing.diagnosis import Diagnosis
from dagster_agentic.healing.gate import (
    GOAL_CHECK,
    GateCheck,
    GateContext,
    RunOutcome,
    failed_data_checks,
    judge,
)
from dagster_agentic.healing.health import last_good_value, write_health
from dagster_agentic.healing.report import render_report, summary_line
from dagster_agentic.kernel.protocol import (
    DiagnoseRequest,
    Kernel,
    RepairProposal,
    RepairRequest,
)
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.warehouse.connection import goal_warehouse

__all__ = [
    "GOAL_CHECK",
    "Attempt",
    "HealingOutcome",
    "RunOutcome",
    "failed_data_checks",
    "heal",
    "healed_runs",
    "needs_healing",
    "write_candidate",
]

LOG_FILE, REPORTS_DIR = "healing.jsonl", "reports"

Status = Literal["repaired", "repaired_with_loss", "degraded"]
ACCEPTED: frozenset[str] = frozenset({"repaired", "repaired_with_loss"})


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
    with_loss: bool = False
    """Accepted only because the healing policy allows the loss it measured."""
    loss: dict[str, Any] | None = None
    """What the candidate loses against the live version (``healing.loss.Loss.to_dict``)."""
    gate: tuple[dict[str, Any], ...] = ()
    """Every gate check's verdict with its evidence."""
    measured: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What was measured in the warehouse for the remedy, per diagnosis key."""


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
    trigger_run_id: str | None = None
    """The failed run this incident answers (recorded in every healing log entry)."""

    @property
    def accepted(self) -> bool:
        return self.status in ACCEPTED

    @property
    def loss(self) -> dict[str, Any] | None:
        """What the accepted repair lost, when it went live with a loss."""
        last = self.attempts[-1] if self.attempts else None
        return last.loss if last is not None and last.accepted and last.with_loss else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "status": self.status,
            "trigger_run_id": self.trigger_run_id,
            "loss": self.loss,
            "live_before": self.live_before,
            "live_after": self.live_after,
            "detected": list(self.detected),
            "diagnoses": [d.model_dump(mode="json") for d in self.diagnoses],
            "attempts": [{**a.__dict__, "gate": list(a.gate)} for a in self.attempts],
            "baseline": self.baseline,
            "report": str(self.report),
            "seconds": round(self.seconds, 3),
        }


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
    trigger_run_id: str | None = None,
    gate_checks: Sequence[GateCheck] | None = None,
) -> HealingOutcome:
    """Diagnose why ``trigger`` (a run of the live version) failed, write repaired versions and
    gate them (``gate_checks``, default ``healing.gate.DEFAULT_CHECKS``); the live version
    changes only if one passes. ``trigger_run_id`` names the failed run in the healing log.
    The episode is one ``invoke_agent healer`` span."""
    from dagster_agentic.observability.outcomes import record_healing
    from dagster_agentic.observability.spans import PREFIX, agent_span

    with agent_span(
        "healer", goal=goal, attributes={PREFIX + "trigger_run_id": trigger_run_id}
    ) as span:
        outcome = _heal(goal, trigger, materialise, kernel, trigger_run_id, gate_checks)
        record_healing(span, outcome)
        return outcome


def _heal(
    goal: Goal,
    trigger: RunOutcome,
    materialise: Materialise,
    kernel: Kernel | None,
    trigger_run_id: str | None,
    gate_checks: Sequence[GateCheck] | None,
) -> HealingOutcome:
    from dagster_agentic.agent.planner import default_kernel, trace_for
    from dagster_agentic.kernel.traced import TracedKernel

    started = time.perf_counter()
    store = PlanStore.of(goal)
    live = store.load_accepted()
    if live is None:
        raise AgenticError(
            f"goal {goal.name!r} has no accepted plan version to heal",
            fix="materialise the goal once before healing it",
        )
    kernel = TracedKernel(kernel or default_kernel(goal), trace_for(goal), goal.name)
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
            _log(store, live.version, None, attempts[-1], trigger_run_id)
            break
        proposal, measured = _propose(goal, base, kernel, diagnoses, store, live.version)
        if proposal.action == "refuse":
            attempts.append(
                Attempt(
                    "refuse",
                    proposal.rationale,
                    why="; ".join(proposal.rationale),
                    measured=measured,
                )
            )
            _log(store, live.version, proposal, attempts[-1], trigger_run_id)
            break
        try:
            candidate = write_candidate(
                goal, base, proposal, kernel=kernel, parent=live.version, seconds_left=left
            )
        except AgenticError as error:
            attempts.append(
                Attempt(
                    proposal.action,
                    proposal.rationale,
                    why=f"not written: {error}",
                    measured=measured,
                )
            )
            _log(store, live.version, proposal, attempts[-1], trigger_run_id)
            break
        try:
            run = materialise(candidate)
            context = GateContext(goal, proposal, live, candidate, run, baseline, store)
            attempt = _attempt(proposal, candidate, run, judge(context, gate_checks), measured)
        except BaseException:
            # The gate could not decide: the candidate is abandoned, never left half-judged.
            store.abandon(candidate.version, why="its gate failed")
            raise
        attempts.append(attempt)
        if not attempt.accepted:
            store.settle(candidate.version)  # refused: kept as history, its number stays used
        _log(store, live.version, proposal, attempt, trigger_run_id)
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
    status: Status = "degraded"
    if final is not None:
        status = "repaired_with_loss" if attempts[-1].with_loss else "repaired"
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
        trigger_run_id=trigger_run_id,
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
        repair=status,
        loss=_loss_summary(outcome),
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
) -> tuple[RepairProposal, dict[str, dict[str, Any]]]:
    """The kernel's proposal, and what was measured in the warehouse for it."""
    from dagster_agentic.healing.measure import measure

    if not diagnoses:
        return RepairProposal(
            action="refuse",
            rationale=("the failed checks are not explained by the raw data or the training run",),
        ), {}
    measured = measure(goal_warehouse(goal), base.plan, diagnoses, _parents(base))
    proposal = kernel.propose_repair(
        RepairRequest(
            goal=goal,
            plan=base.plan,
            diagnoses=diagnoses,
            measurements=measured,
            refused=refused_repairs(store, live),
        )
    )
    return proposal, measured


def _parents(bundle: PlanBundle) -> dict[tuple[str, str], str]:
    """(table, column) -> the parent its foreign-key expectation names, in the version's suite."""
    from dagster_agentic.agent.planner import load_suite

    return {
        (e.table, e.column): e.parent
        for e in load_suite(bundle).expectations
        if e.kind == "foreign_key_inclusion" and e.column and e.parent
    }


def _out_of_time(goal: Goal, tried: int) -> Attempt:
    budget = goal.healing.max_seconds
    return Attempt(
        "stop",
        (f"healing.max_seconds of {budget:g} s is spent after {tried} attempt(s)",),
        why=f"the incident's budget of {budget:g} s is spent; no further repair was started",
    )


def _attempt(
    proposal: RepairProposal,
    candidate: PlanBundle,
    run: RunOutcome,
    decision: Any,
    measured: dict[str, dict[str, Any]],
) -> Attempt:
    """The gate's decision (``healing.gate.GateDecision``) on one candidate, as an attempt."""
    return Attempt(
        action=proposal.action,
        rationale=proposal.rationale,
        version=candidate.version,
        failed_checks=tuple(failed_data_checks(run)),
        value=run.value,
        accepted=decision.accepted,
        why=decision.why,
        with_loss=decision.with_loss,
        loss=decision.loss,
        gate=tuple(v.to_dict() for v in decision.verdicts),
        measured=measured,
    )


def _loss_summary(outcome: HealingOutcome) -> dict[str, Any] | None:
    """What the live version lost in this incident and what it cost, for the goal's health."""
    if outcome.loss is None:
        return None
    value = outcome.final.value if outcome.final is not None else None
    return {**outcome.loss, "metric_before": outcome.baseline, "metric_after": value}


# --- memory, health and the report -----------------------------------------------------------


def _log(
    store: PlanStore,
    live: int,
    proposal: RepairProposal | None,
    attempt: Attempt,
    trigger_run_id: str | None,
) -> None:
    entry = {
        "at": time.time(),
        "trigger_run_id": trigger_run_id,
        "live_version": live,
        "candidate": attempt.version,
        "action": attempt.action,
        "fingerprint": proposal.fingerprint() if proposal is not None else None,
        "accepted": attempt.accepted,
        "with_loss": attempt.with_loss,
        "loss": attempt.loss,
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
        if entry["live_version"] == live and not entry["accepted"] and entry.get("candidate"):
            found.append(str(entry["fingerprint"]))
    return tuple(dict.fromkeys(found))


def healed_runs(store: PlanStore) -> frozenset[str]:
    """Ids of the failed runs the healing log has answered (repaired, refused or given up)."""
    path = store.root / LOG_FILE
    if not path.exists():
        return frozenset()
    found = set()
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        run_id = json.loads(line).get("trigger_run_id")
        if isinstance(run_id, str) and run_id:
            found.add(run_id)
    return frozenset(found)


def _divergence(goal: Goal, version: int) -> dict[str, Any] | None:
    from dagster_agentic.agent.steps import DIVERGENCE_FILE

    path = PlanStore.of(goal).artifacts_dir(version) / DIVERGENCE_FILE
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
