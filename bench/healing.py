"""``make bench-healing``: the self-healing loop against every fault of the example warehouse.

One healthy goal run (plan + materialise) on a freshly generated example warehouse is
snapshotted, warehouse and plan state together. For each fault type and seed the snapshot is
restored at the same path (plan versions name their warehouse by absolute path), the fault is
applied and the goal runs as the headless runner runs it: the accepted plan version (or a new
one, when the warehouse grew), then, when a data check failed, diagnosis, repaired versions
and the gate. Per case: was the fault detected, did a repair go live (or was it refused, for
faults that must be refused), the diagnosed cause, the time to repair (first failed check to
the green re-materialisation of the goal), the goal metric before and after, and whether any
raw table changed. Writes ``bench/results/healing.json`` and the bench-healing section of
docs/benchmarks.md.

    .venv/bin/python -m bench.healing [--scale small] [--seeds 1,2,3] [--faults a,b]
        [--workdir DIR] [--output bench/results/healing.json] [--no-docs] [--docs-only]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The offline switches are set by the bench package (bench/__init__.py) before any import.
import dagster as dg
import duckdb

from bench import healing_report
from dagster_agentic.goals.spec import Goal

if TYPE_CHECKING:
    from dagster_agentic.healing.loop import HealingOutcome
    from dagster_agentic.runner import RunSummary

GOAL_NAME = "churn"
OBJECTIVE = "Optimise the churn prediction model for 95% precision on European cohorts"
WAREHOUSE_SEED = 7
DEFAULT_WORKDIR = healing_report.ROOT / "bench" / "data" / "healing"

from example_churn.faults import EXPECTED_CAUSES, MUST_REFUSE  # noqa: E402

GROWTH_REASON = "warehouse grew"


def say(message: str) -> None:
    print(f"[bench-healing {time.strftime('%H:%M:%S')}] {message}", flush=True)


def make_goal(warehouse: Path) -> Goal:
    return Goal(name=GOAL_NAME, objective=OBJECTIVE, warehouse=warehouse)


# --- raw data ------------------------------------------------------------------------------


def raw_checksums(warehouse: Path, *, wait_s: float = 120.0) -> dict[str, str]:
    """sha256 of every base table in schema ``main``, its rows ordered by all columns.

    Waits (up to ``wait_s``) while another process still holds the file's write lock.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return _checksums(warehouse)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(2.0)


def _checksums(warehouse: Path) -> dict[str, str]:
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("SET enable_progress_bar = false")
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
            ).fetchall()
        ]
        for name in names:
            digest = hashlib.sha256()
            columns = conn.execute(f'SELECT * FROM main."{name}" LIMIT 0').description or []
            digest.update(repr([c[0] for c in columns]).encode())
            conn.execute(f'SELECT * FROM main."{name}" ORDER BY ALL')
            while batch := conn.fetchmany(50_000):
                digest.update(repr(batch).encode())
            out[name] = digest.hexdigest()
    return out


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Tables whose rows changed, appeared or disappeared."""
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


# --- the goal, as the headless runner runs it ------------------------------------------------


@dataclass
class Flow:
    """One goal run with its healing, keeping what ``run_goal`` does not return: the trigger
    run (when its first data check failed) and the version the run started from."""

    bundle_version: int
    bundle_reason: str
    bundle_created_at: float
    trigger: RunSummary
    outcome: HealingOutcome | None
    plan_seconds: float
    run_seconds: float
    wall_seconds: float


def run_flow(goal: Goal, instance: dg.DagsterInstance) -> Flow:
    """The product's own flow (``runner.run_and_heal``), with the planning step timed apart."""
    from dagster_agentic.agent.planner import ensure_plan
    from dagster_agentic.runner import run_and_heal

    started = time.perf_counter()
    ensure_plan(goal)  # plans a grown warehouse now; run_and_heal then finds it accepted
    planned = time.perf_counter()
    bundle, trigger, outcome = run_and_heal(goal, instance, log_level="ERROR")
    ran = time.perf_counter()
    return Flow(
        bundle_version=bundle.version,
        bundle_reason=str(bundle.meta.get("reason", "")),
        bundle_created_at=float(bundle.meta.get("created_at", 0.0)),
        trigger=trigger,
        outcome=outcome,
        plan_seconds=planned - started,
        run_seconds=ran - planned,
        wall_seconds=ran - started,
    )


@contextmanager
def captured(log: Path | None) -> Iterator[None]:
    """Send everything written to stdout and stderr (dbt's output, Dagster's error logs, by
    this process and its children) to ``log``, so the progress lines stay readable."""
    if log is None:
        yield
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


# --- one case --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    work: Path
    snapshot: Path
    version: int
    value: float
    metric: str
    target: float
    cohort: str
    seconds: float


def healthy_baseline(
    workdir: Path, scale: str, log: Path | None
) -> tuple[Baseline, dict[str, Any]]:
    """Generate the warehouse, run the goal once green, snapshot warehouse and plan state."""
    from dagster_agentic.healing.loop import failed_data_checks
    from dagster_agentic.runner import run_goal
    from example_churn.warehouse import generate_warehouse

    work, snapshot = workdir / "work", workdir / "snapshot"
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(snapshot, ignore_errors=True)
    warehouse = work / "warehouse.duckdb"
    started = time.perf_counter()
    rows = generate_warehouse(warehouse, scale=scale, seed=WAREHOUSE_SEED)
    generated = time.perf_counter() - started
    say(f"generated the {scale} warehouse in {generated:.1f} s: {rows}")
    with captured(log), dg.instance_for_test() as instance:
        summary = run_goal(make_goal(warehouse), instance=instance, log_level="ERROR")
    if not summary.success or failed_data_checks(summary) or summary.value is None:
        raise SystemExit(f"the healthy baseline run is not green:\n{summary.render()}")
    shutil.copytree(work, snapshot)
    baseline = Baseline(
        work=work,
        snapshot=snapshot,
        version=summary.plan_version,
        value=float(summary.value),
        metric=summary.metric,
        target=summary.target,
        cohort=summary.cohort,
        seconds=summary.wall_seconds,
    )
    say(
        f"baseline: version {baseline.version}, {baseline.metric} {baseline.value:.3f} "
        f"(target {baseline.target:.3f}) on {baseline.cohort}, {baseline.seconds:.1f} s"
    )
    info = {
        "objective": OBJECTIVE,
        "warehouse_rows": rows,
        "generation_seconds": generated,
        "plan_version": baseline.version,
        "value": baseline.value,
        "metric": baseline.metric,
        "target": baseline.target,
        "cohort": baseline.cohort,
        "status": summary.status,
        "wall_seconds": baseline.seconds,
    }
    return baseline, info


def restore(baseline: Baseline) -> Path:
    shutil.rmtree(baseline.work, ignore_errors=True)
    shutil.copytree(baseline.snapshot, baseline.work)
    return baseline.work / "warehouse.duckdb"


def empty_case(fault: str, seed: int, baseline: Baseline) -> dict[str, Any]:
    return {
        "fault": fault,
        "seed": seed,
        "expected_cause": EXPECTED_CAUSES.get(fault),
        "must_refuse": fault in MUST_REFUSE,
        "applied": None,
        "detected": False,
        "failed_checks": [],
        "repaired": False,
        "refused": False,
        "outcome": None,
        "mttr_s": None,
        "metric_before": baseline.value,
        "metric_after": None,
        "diagnosed_cause": None,
        "diagnosed_causes": [],
        "false_repair": False,
        "raw_rows_changed": None,  # tables whose checksum changed; None when not measured
        "raw_tables_changed": [],
        "live_version_before": baseline.version,
        "live_version_after": None,
        "plan_reason": None,
        "attempts": [],
        "plan_seconds": None,
        "run_seconds": None,
        "heal_seconds": None,
        "wall_seconds": None,
        "error": None,
    }


def judge(case: dict[str, Any], flow: Flow, baseline: Baseline, accepted_after: int | None) -> None:
    """Fill the case's verdicts from one flow."""
    from dagster_agentic.healing.loop import failed_data_checks

    trigger, outcome = flow.trigger, flow.outcome
    grew = flow.bundle_version != baseline.version and flow.bundle_reason.startswith(GROWTH_REASON)
    case["plan_reason"] = flow.bundle_reason if flow.bundle_version != baseline.version else None
    case["failed_checks"] = failed_data_checks(trigger)
    case["live_version_after"] = accepted_after
    case["plan_seconds"] = flow.plan_seconds
    case["run_seconds"] = flow.run_seconds
    case["wall_seconds"] = flow.wall_seconds
    case["detected"] = outcome is not None or grew
    start = flow.bundle_created_at if grew else trigger.failed_check_at
    end = None
    if outcome is not None:
        causes = [d.cause for d in outcome.diagnoses]
        case["diagnosed_causes"] = causes
        case["diagnosed_cause"] = causes[0] if causes else None
        case["outcome"] = outcome.status
        case["heal_seconds"] = outcome.seconds
        case["gate_baseline"] = outcome.baseline
        case["attempts"] = [
            {
                "action": a.action,
                "version": a.version,
                "accepted": a.accepted,
                "value": a.value,
                "why": a.why,
            }
            for a in outcome.attempts
        ]
        if outcome.accepted and outcome.final is not None:
            case["repaired"] = True
            case["metric_after"] = outcome.final.value
            end = outcome.final.goal_at
            expected = case["expected_cause"]
            case["false_repair"] = case["must_refuse"] or expected not in causes
        else:
            case["refused"] = accepted_after == flow.bundle_version
    elif grew and trigger.success and not failed_data_checks(trigger):
        case["outcome"] = "replanned"
        case["repaired"] = accepted_after == flow.bundle_version
        case["metric_after"] = trigger.value
        end = trigger.goal_at
        case["false_repair"] = case["must_refuse"]
    if case["repaired"] and start is not None and end is not None:
        case["mttr_s"] = end - start


def run_case(fault: str, seed: int, baseline: Baseline, log: Path | None) -> dict[str, Any]:
    from dagster_agentic.plan.store import PlanStore
    from example_churn.faults import apply_fault

    case = empty_case(fault, seed, baseline)
    case["log"] = str(log) if log else None
    started = time.perf_counter()
    try:
        warehouse = restore(baseline)
        applied = apply_fault(warehouse, fault, seed=seed)
        case["applied"] = {"rows_affected": applied.rows_affected, "details": applied.details}
        before = raw_checksums(warehouse)
        goal = make_goal(warehouse)
        with captured(log), dg.instance_for_test() as instance:
            flow = run_flow(goal, instance)
        accepted = PlanStore(goal.resolved_state_dir, goal.name).accepted_version()
        judge(case, flow, baseline, accepted)
        changed = changed_tables(before, raw_checksums(warehouse))
        case["raw_tables_changed"] = changed
        case["raw_rows_changed"] = len(changed)
    except Exception as error:  # one crashed case must not stop the benchmark
        case["error"] = f"{type(error).__name__}: {error}"
        case["traceback"] = traceback.format_exc(limit=8)
    case["case_seconds"] = time.perf_counter() - started
    return case


def case_line(case: dict[str, Any], metric: str) -> str:
    head = f"{case['fault']} seed {case['seed']}:"
    if case["error"]:
        return f"{head} ERROR {case['error'].splitlines()[0][:200]}"
    verdict = (
        "repaired"
        if case["repaired"]
        else "refused"
        if case["refused"]
        else "degraded"
        if case["outcome"] == "degraded"
        else "not repaired"
    )
    parts = [
        head,
        "detected" if case["detected"] else "NOT detected",
        f"{verdict} ({case['diagnosed_cause'] or case['plan_reason'] or 'no diagnosis'})",
    ]
    if case["mttr_s"] is not None:
        parts.append(f"MTTR {case['mttr_s']:.1f} s")
    after = case["metric_after"]
    parts.append(
        f"{metric} {case['metric_before']:.3f} -> {'n/a' if after is None else f'{after:.3f}'}"
    )
    if case["false_repair"]:
        parts.append("FALSE REPAIR")
    changed = case["raw_rows_changed"]
    parts.append(f"raw tables changed {'n/a' if changed is None else changed}")
    parts.append(f"{case['case_seconds']:.0f} s")
    return " ".join(parts[:3]) + ", " + ", ".join(parts[3:])


# --- the command -----------------------------------------------------------------------------


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", default="small", help="example warehouse scale (tiny, small)")
    parser.add_argument("--seeds", default="1,2,3", help="fault seeds, comma-separated")
    parser.add_argument("--faults", default=None, help="fault types, comma-separated (all)")
    parser.add_argument(
        "--workdir", type=Path, default=DEFAULT_WORKDIR, help="warehouse, state and snapshot"
    )
    parser.add_argument(
        "--output", type=Path, default=healing_report.RESULTS, help="the results JSON"
    )
    parser.add_argument(
        "--show-logs",
        action="store_true",
        help="let dbt's and Dagster's output through (default: <workdir>/logs/<fault>-<seed>.log)",
    )
    parser.add_argument("--no-docs", action="store_true", help="write the JSON only")
    parser.add_argument(
        "--docs-only",
        action="store_true",
        help="rewrite the docs section from the JSON; run nothing",
    )
    args = parser.parse_args(argv)
    from example_churn.faults import FAULTS

    args.seed_list = [int(s) for s in _csv(args.seeds)]
    args.fault_list = _csv(args.faults) if args.faults else list(FAULTS)
    unknown = [f for f in args.fault_list if f not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; valid: {', '.join(FAULTS)}")
    missing = [f for f in args.fault_list if f not in EXPECTED_CAUSES]
    if missing:
        parser.error(f"no expected cause for fault(s) {', '.join(missing)}")
    if not args.seed_list or any(s < 0 for s in args.seed_list):
        parser.error("--seeds must be non-negative integers")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.docs_only:
        say(f"wrote {healing_report.write_docs(healing_report.read_json(args.output))}")
        return
    started = time.perf_counter()
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    say(
        f"scale {args.scale}, {len(args.fault_list)} fault type(s) × seeds {args.seed_list}, "
        f"work dir {workdir}"
    )
    logs = None if args.show_logs else workdir / "logs"
    if logs is not None:
        shutil.rmtree(logs, ignore_errors=True)
    baseline, baseline_info = healthy_baseline(
        workdir, args.scale, logs / "baseline.log" if logs else None
    )
    cases = []
    total = len(args.fault_list) * len(args.seed_list)
    for fault in args.fault_list:
        for seed in args.seed_list:
            log = logs / f"{fault}-{seed}.log" if logs else None
            case = run_case(fault, seed, baseline, log)
            cases.append(case)
            say(f"{len(cases)}/{total} {case_line(case, baseline.metric)}")
    document = healing_report.build(
        cases,
        baseline_info,
        command=" ".join(["python -m bench.healing", *(sys.argv[1:] if argv is None else argv)]),
        scale=args.scale,
        seeds=args.seed_list,
        faults=args.fault_list,
        expected=EXPECTED_CAUSES,
        must_refuse=sorted(MUST_REFUSE),
        seconds=time.perf_counter() - started,
    )
    path = healing_report.write_json(document, args.output)
    say(f"wrote {path}")
    if not args.no_docs:
        say(f"wrote {healing_report.write_docs(document)}")
    summary = document["summary"]
    say(
        f"detected {summary['detected']['share']:.0%}, repaired "
        f"{summary['repaired_repairable']['share']:.0%} of the repairable, false repairs "
        f"{summary['false_repairs']}, raw tables changed {summary['raw_tables_changed']}, "
        f"median MTTR {healing_report.fmt_s(summary['mttr_s']['median'])} s; "
        f"done in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
