"""``make bench-healing``: the self-healing loop against a suite of faults on several warehouses.

The example warehouse gets its own faults (``example_churn.faults``); two differently shaped
warehouses (``bench.healing_sites``) get the generic faults, whose targets are found by
structure (``bench.generic_faults``). Per warehouse, one healthy goal run (plan + materialise)
on the freshly generated warehouse is snapshotted, warehouse and plan state together. For each
fault type and seed the snapshot is restored at the same path (plan versions name their
warehouse by absolute path), the fault is applied and the goal runs as the headless runner runs
it: the accepted plan version (or a new one, when the warehouse grew), then, when a data check
failed, diagnosis, repaired versions and the gate. Per case: was the fault detected, did a
repair go live (or was it refused, for faults that must be refused), the diagnosed cause, the
time to repair (first failed check to the green re-materialisation of the goal), the goal
metric before and after, and whether any raw table changed; and, read from the plan store,
whether a benign change raised a false alarm, a repair lost sources or features without saying
so, or the live version leaks (``bench.healing_audit``). Writes ``bench/results/healing.json``
and the bench-healing section of docs/benchmarks.md.

    .venv/bin/python -m bench.healing [--scale small] [--warehouses example,shop,telco]
        [--seeds 1] [--generic-seeds 1] [--faults a,b] [--workdir DIR]
        [--output bench/results/healing.json] [--no-docs] [--docs-only]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The offline switches are set by the bench package (bench/__init__.py) before any import.
import dagster as dg

from bench import healing_audit, healing_report
from bench.generic_faults import NotApplicable
from bench.healing_io import captured, changed_tables, raw_checksums
from bench.healing_sites import SITES, Site
from dagster_agentic.goals.spec import Goal

if TYPE_CHECKING:
    from dagster_agentic.healing.loop import HealingOutcome
    from dagster_agentic.runner import RunSummary

DEFAULT_WORKDIR = healing_report.ROOT / "bench" / "data" / "healing"
GROWTH_REASON = "warehouse grew"


def say(message: str) -> None:
    print(f"[bench-healing {time.strftime('%H:%M:%S')}] {message}", flush=True)


def make_goal(site: Site, warehouse: Path) -> Goal:
    return Goal(name=site.goal_name, objective=site.objective, warehouse=warehouse)


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


# --- one case --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    site: Site
    work: Path
    snapshot: Path
    version: int
    value: float
    metric: str
    target: float
    cohort: str
    seconds: float
    objective: Any  # the accepted plan's resolved Objective: the generic faults' targets


def healthy_baseline(
    site: Site, workdir: Path, scale: str, log: Path | None
) -> tuple[Baseline, dict[str, Any]]:
    """Generate the warehouse, run the goal once green, snapshot warehouse and plan state."""
    from dagster_agentic.healing.loop import failed_data_checks
    from dagster_agentic.plan.store import PlanStore
    from dagster_agentic.runner import run_goal

    work, snapshot = workdir / site.key / "work", workdir / site.key / "snapshot"
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(snapshot, ignore_errors=True)
    warehouse = work / "warehouse.duckdb"
    started = time.perf_counter()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    rows = site.build(warehouse, scale)
    generated = time.perf_counter() - started
    say(f"generated the {site.key} warehouse in {generated:.1f} s: {rows}")
    goal = make_goal(site, warehouse)
    with captured(log), dg.instance_for_test() as instance:
        summary = run_goal(goal, instance=instance, log_level="ERROR")
    if not summary.success or failed_data_checks(summary) or summary.value is None:
        raise SystemExit(f"the healthy baseline run is not green:\n{summary.render()}")
    store = PlanStore(goal.resolved_state_dir, goal.name)
    shutil.copytree(work, snapshot)
    baseline = Baseline(
        site=site,
        work=work,
        snapshot=snapshot,
        version=summary.plan_version,
        value=float(summary.value),
        metric=summary.metric,
        target=summary.target,
        cohort=summary.cohort,
        seconds=summary.wall_seconds,
        objective=store.load(summary.plan_version).plan.objective,
    )
    say(
        f"{site.key} baseline: version {baseline.version}, {baseline.metric} {baseline.value:.3f} "
        f"(target {baseline.target:.3f}) on {baseline.cohort}, {baseline.seconds:.1f} s"
    )
    info = {
        "warehouse": site.key,
        "objective": site.objective,
        "leaks": healing_audit.leaks(store, baseline.version),
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
    expected = baseline.site.expectation(fault)
    return {
        "warehouse": baseline.site.key,
        "fault": fault,
        "seed": seed,
        "expected_cause": expected.first,
        "expected_causes": sorted(expected.causes),
        "must_refuse": expected.must_refuse,
        "benign": expected.benign,
        "not_applicable": None,
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
        "repaired_with_loss": False,
        "loss": None,
        "silent_loss": False,
        "leaks": [],
        "false_alarm": False,
        "false_alarm_why": [],
        "run_success": None,
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
    case["run_success"] = trigger.success
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
            case["repaired_with_loss"] = healing_audit.declared_loss(outcome)
            missing = set(case["expected_causes"]) - set(causes)
            case["false_repair"] = case["must_refuse"] or case["benign"] or bool(missing)
        else:
            case["refused"] = accepted_after == flow.bundle_version
    elif grew and trigger.success and not failed_data_checks(trigger):
        case["outcome"] = "replanned"
        case["repaired"] = accepted_after == flow.bundle_version
        case["metric_after"] = trigger.value
        end = trigger.goal_at
        case["false_repair"] = case["must_refuse"]
    elif trigger.success and not failed_data_checks(trigger):
        case["outcome"] = "green"  # nothing failed and nothing was replanned
        case["metric_after"] = trigger.value
    if case["repaired"] and start is not None and end is not None:
        case["mttr_s"] = end - start


def audit(case: dict[str, Any], goal: Goal, store: Any, outcome: Any, baseline: Baseline) -> None:
    """The plan-store verdicts: silent loss, leaks, false alarms (``bench.healing_audit``)."""
    after = case["live_version_after"]
    share = float(getattr(goal.healing, "max_feature_loss", healing_audit.FEATURE_LOSS_SHARE))
    lost = healing_audit.loss(store, baseline.version, after, share)
    case["loss"] = lost
    case["silent_loss"] = lost is not None and not healing_audit.declared_loss(outcome)
    case["leaks"] = healing_audit.leaks(store, after) if after != baseline.version else []
    if case["benign"]:
        case["false_alarm_why"] = healing_audit.false_alarm(case, goal.healing.metric_tolerance)
        case["false_alarm"] = bool(case["false_alarm_why"])


def run_case(fault: str, seed: int, baseline: Baseline, log: Path | None) -> dict[str, Any]:
    from dagster_agentic.plan.store import PlanStore

    case = empty_case(fault, seed, baseline)
    case["log"] = str(log) if log else None
    started = time.perf_counter()
    try:
        warehouse = restore(baseline)
        try:
            case["applied"] = baseline.site.apply(warehouse, fault, seed, baseline.objective)
        except NotApplicable as reason:
            case["not_applicable"] = str(reason)
            case["case_seconds"] = time.perf_counter() - started
            return case
        before = raw_checksums(warehouse)
        goal = make_goal(baseline.site, warehouse)
        with captured(log), dg.instance_for_test() as instance:
            flow = run_flow(goal, instance)
        store = PlanStore(goal.resolved_state_dir, goal.name)
        accepted = store.accepted_version()
        judge(case, flow, baseline, accepted)
        audit(case, goal, store, flow.outcome, baseline)
        changed = changed_tables(before, raw_checksums(warehouse))
        case["raw_tables_changed"] = changed
        case["raw_rows_changed"] = len(changed)
    except Exception as error:  # one crashed case must not stop the benchmark
        case["error"] = f"{type(error).__name__}: {error}"
        case["traceback"] = traceback.format_exc(limit=8)
    case["case_seconds"] = time.perf_counter() - started
    return case


def case_line(case: dict[str, Any], metric: str) -> str:
    head = f"{case['warehouse']}/{case['fault']} seed {case['seed']}:"
    if case["not_applicable"]:
        return f"{head} not applicable ({case['not_applicable']})"
    if case["error"]:
        return f"{head} ERROR {case['error'].splitlines()[0][:200]}"
    verdict = (
        "replanned"
        if case["outcome"] == "replanned"
        else "repaired"
        if case["repaired"]
        else "refused"
        if case["refused"]
        else "unchanged, green"
        if case["outcome"] == "green"
        else str(case["outcome"] or "not repaired")
    )
    parts = [
        head,
        "benign change" if case["benign"] else "detected" if case["detected"] else "NOT detected",
        f"{verdict} ({case['diagnosed_cause'] or case['plan_reason'] or 'no diagnosis'})",
    ]
    if case["mttr_s"] is not None and not case["benign"]:
        parts.append(f"MTTR {case['mttr_s']:.1f} s")
    after = case["metric_after"]
    parts.append(
        f"{metric} {case['metric_before']:.3f} -> {'n/a' if after is None else f'{after:.3f}'}"
    )
    if case["false_repair"]:
        parts.append("FALSE REPAIR")
    if case["repaired_with_loss"]:
        parts.append("repaired with loss")
    if case["silent_loss"]:
        parts.append(f"SILENT LOSS {case['loss']}")
    if case["leaks"]:
        parts.append(f"LEAK {'; '.join(case['leaks'])[:200]}")
    if case["false_alarm"]:
        parts.append(f"FALSE ALARM ({'; '.join(case['false_alarm_why'])})")
    changed = case["raw_rows_changed"]
    parts.append(f"raw tables changed {'n/a' if changed is None else changed}")
    parts.append(f"{case['case_seconds']:.0f} s")
    return " ".join(parts[:3]) + ", " + ", ".join(parts[3:])


# --- the command -----------------------------------------------------------------------------


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


DEFAULT_WAREHOUSES = "example,shop,telco"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", default="small", help="example warehouse scale (tiny, small)")
    parser.add_argument(
        "--warehouses", default=DEFAULT_WAREHOUSES, help=f"of {', '.join(SITES)}, comma-separated"
    )
    parser.add_argument("--seeds", default="1", help="fault seeds on the example warehouse")
    parser.add_argument("--generic-seeds", default="1", help="fault seeds on the other warehouses")
    parser.add_argument(
        "--faults", default=None, help="fault names, comma-separated (all that apply)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=DEFAULT_WORKDIR, help="warehouse, state and snapshot"
    )
    parser.add_argument(
        "--output", type=Path, default=healing_report.RESULTS, help="the results JSON"
    )
    parser.add_argument(
        "--show-logs",
        action="store_true",
        help="let dbt's and Dagster's output through (default: <workdir>/logs/<case>.log)",
    )
    parser.add_argument("--no-docs", action="store_true", help="write the JSON only")
    parser.add_argument(
        "--docs-only",
        action="store_true",
        help="rewrite the docs section from the JSON; run nothing",
    )
    args = parser.parse_args(argv)
    args.site_list = _csv(args.warehouses)
    unknown_sites = [w for w in args.site_list if w not in SITES]
    if unknown_sites or not args.site_list:
        parser.error(f"unknown warehouse(s) {unknown_sites}; valid: {', '.join(SITES)}")
    try:
        args.seed_list = [int(s) for s in _csv(args.seeds)]
        args.generic_seed_list = [int(s) for s in _csv(args.generic_seeds)]
    except ValueError:
        parser.error("--seeds and --generic-seeds must be integers")
    every = {f for w in args.site_list for f in SITES[w].faults()}
    args.fault_list = _csv(args.faults) if args.faults else None
    unknown = [f for f in args.fault_list or [] if f not in every]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; valid: {', '.join(sorted(every))}")
    seeds = args.seed_list + args.generic_seed_list
    if not args.seed_list or not args.generic_seed_list or any(s < 0 for s in seeds):
        parser.error("--seeds and --generic-seeds must be non-negative integers")
    return args


def plan_cases(args: argparse.Namespace) -> list[tuple[Site, list[tuple[str, int]]]]:
    """Per warehouse, the (fault, seed) cases to run; warehouses with none are left out."""
    out = []
    for key in args.site_list:
        site = SITES[key]
        names = [f for f in site.faults() if args.fault_list is None or f in args.fault_list]
        seeds = args.generic_seed_list if site.generic else args.seed_list
        cases = [(f, s) for f in names for s in seeds]
        if cases:
            out.append((site, cases))
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.docs_only:
        say(f"wrote {healing_report.write_docs(healing_report.read_json(args.output))}")
        return
    started = time.perf_counter()
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    planned = plan_cases(args)
    total = sum(len(c) for _, c in planned)
    say(f"{total} case(s) on {', '.join(s.key for s, _ in planned)}, work dir {workdir}")
    logs = None if args.show_logs else workdir / "logs"
    if logs is not None:
        shutil.rmtree(logs, ignore_errors=True)
    cases, baselines = [], {}
    for site, site_cases in planned:
        log = logs / f"{site.key}-baseline.log" if logs else None
        baseline, baselines[site.key] = healthy_baseline(site, workdir, args.scale, log)
        for fault, seed in site_cases:
            log = logs / f"{site.key}-{fault}-{seed}.log" if logs else None
            case = run_case(fault, seed, baseline, log)
            cases.append(case)
            say(f"{len(cases)}/{total} {case_line(case, baseline.metric)}")
    document = healing_report.build(
        cases,
        baselines,
        command=" ".join(["python -m bench.healing", *(sys.argv[1:] if argv is None else argv)]),
        scale=args.scale,
        seeds={"example": args.seed_list, "generic": args.generic_seed_list},
        warehouses=[s.key for s, _ in planned],
        seconds=time.perf_counter() - started,
    )
    path = healing_report.write_json(document, args.output)
    say(f"wrote {path}")
    if not args.no_docs:
        say(f"wrote {healing_report.write_docs(document)}")
    say(f"{healing_report.headline(document)}; done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
