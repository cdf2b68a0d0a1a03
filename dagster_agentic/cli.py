"""``dagster-agentic``: thin commands over the library."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dagster_agentic.errors import AgenticError

if TYPE_CHECKING:
    from dagster_agentic.goals.spec import Goal


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dagster-agentic", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="plan if needed, materialise the goal, print a summary")
    run.add_argument("goal_file", type=Path, help="defs.yaml of a GoalComponent, or a goal YAML")
    run.add_argument(
        "--no-heal", action="store_true", help="report failed checks without repairing them"
    )
    health = commands.add_parser(
        "health", help="the goal's health, its live version and the last healing report"
    )
    health.add_argument("goal_file", type=Path)
    plan = commands.add_parser("plan", help="print the goal's accepted plan (planning if needed)")
    plan.add_argument("goal_file", type=Path)
    plan.add_argument(
        "--new",
        action="store_true",
        help="plan a new version now (it learns from earlier versions, e.g. SHAP importance)",
    )
    features = commands.add_parser(
        "features", help="the accepted plan's candidate features: scores, decisions, reasons"
    )
    features.add_argument("goal_file", type=Path)
    predict = commands.add_parser(
        "predict",
        help="score the goal's entities with its live model into <agent schema>.predictions",
    )
    predict.add_argument("goal_file", type=Path)
    predict.add_argument(
        "--entities",
        choices=("all", "unlabelled"),
        default=None,
        help="which entities (default: the goal's predictions.entities, else all)",
    )
    predict.add_argument(
        "--where", default=None, help="a SQL predicate over the entity table's columns"
    )
    predict.add_argument(
        "--as-of", default=None, help="prediction time, ISO 8601 (default: now, UTC)"
    )
    predict.add_argument("--json", action="store_true", help="print the outcome as JSON")
    replay = commands.add_parser(
        "replay",
        help="plan the goal again from a recorded trace with no model: the same decisions and"
        " the same plan, or where they diverge",
    )
    replay.add_argument("goal_file", type=Path)
    replay.add_argument(
        "--trace", type=Path, required=True, help="trace.sqlite of the run to replay"
    )
    replay.add_argument(
        "--into", type=Path, required=True, help="an empty directory for the replay's state"
    )
    trace = commands.add_parser("trace", help="print the goal's trace as JSON lines")
    trace.add_argument("goal_file", type=Path)
    trace.add_argument("--kind", default=None, help="only records of this kind, e.g. decision")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from dagster_agentic.goals.loading import load_goal_file

    try:
        goal = load_goal_file(args.goal_file)
        if args.command == "run":
            return _run(goal, heal=not args.no_heal)
        if args.command == "health":
            return _health(goal)
        if args.command == "plan":
            from dagster_agentic.agent.planner import ensure_plan, plan_goal

            bundle = plan_goal(goal, reason="requested") if args.new else ensure_plan(goal)
            print(f"# plan version {bundle.version} ({bundle.path})")
            print(bundle.plan.model_dump_json(indent=2))
            return 0
        if args.command == "features":
            return _features(goal)
        if args.command == "predict":
            return _predict(goal, args)
        if args.command == "replay":
            return _replay(goal, args.trace, args.into)
        from dagster_agentic.agent.planner import trace_for

        for record in trace_for(goal).records(goal=goal.name, kind=args.kind):
            print(json.dumps(record.__dict__, default=str))
        return 0
    except AgenticError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _features(goal: Goal) -> int:
    from dagster_agentic.agent.planner import SCREENING_FILE, ensure_plan

    bundle = ensure_plan(goal)
    screening = json.loads((bundle.path / SCREENING_FILE).read_text())
    scores = {s["column"]: s for s in screening["report"]["scores"]}
    print(f"# plan version {bundle.version}: {screening['selection']['rationale'][0]}")
    task = screening["report"].get("task", "binary_classification")
    # The effect size each task has: a binned AUC for two classes, Cramer's V for several,
    # Spearman's rho for a number.
    effect, label = {
        "binary_classification": ("auc", "AUC"),
        "multiclass_classification": ("cramers_v", "V"),
        "regression": ("rank_correlation", "rho"),
    }[task]
    print(f"{'feature':<56} {label:>6} {'MI bits':>8}  decision")
    for decision in screening["selection"]["decisions"]:
        score = scores[decision["column"]]["all"]
        verdict = "kept" if decision["keep"] else f"dropped: {decision['reason']}"
        value = score.get(effect)
        shown = "-" if value is None else f"{value:.3f}"
        print(f"{decision['column']:<56} {shown:>6} {score['mutual_information']:>8.4f}  {verdict}")
    return 0


def _predict(goal: Goal, args: argparse.Namespace) -> int:
    """Score as ``<goal>/predictions`` does; flags narrow or replace the goal's selection."""
    from pydantic import ValidationError

    from dagster_agentic.agent.predict import predict_goal
    from dagster_agentic.errors import GoalError

    flags = {"entities": args.entities, "where": args.where, "as_of": args.as_of}
    try:
        selection = goal.predictions.model_validate(
            {**goal.predictions.model_dump(), **{k: v for k, v in flags.items() if v is not None}}
        )
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise GoalError(
            f"invalid predictions selection: {problems}",
            fix="--entities all|unlabelled, --as-of an ISO 8601 time",
        ) from error
    outcome = predict_goal(goal, selection=selection)
    print(json.dumps(outcome.to_dict(), indent=2) if args.json else outcome.render())
    return 0


def _replay(goal: Goal, recorded: Path, into: Path) -> int:
    """Plan ``goal`` into ``into`` with every model call answered from ``recorded``; compare
    the plan with the recorded run's first version."""
    from dagster_agentic.agent.planner import plan_goal, trace_for
    from dagster_agentic.errors import GoalError
    from dagster_agentic.kernel.llm.kernel import LLMKernel
    from dagster_agentic.observability.trace import Trace

    if goal.kernel is None:
        raise GoalError(
            f"goal {goal.name!r} names no model kernel, so it has no model calls to replay",
            fix="replay a goal whose declaration has a 'kernel:' field",
        )
    if not recorded.is_file():
        raise GoalError(f"no trace at {recorded}", fix="pass --trace <state dir>/trace.sqlite")
    if into.exists() and any(into.iterdir()):
        raise GoalError(f"{into} is not empty", fix="pass --into a new or empty directory")
    replayed = goal.model_copy(update={"state_dir": into})
    kernel = LLMKernel.replaying(
        goal.kernel, recorded=Trace(recorded), trace=trace_for(replayed), goal=goal.name
    )
    bundle = plan_goal(replayed, kernel=kernel, reason="replay")
    print(f"# replayed plan version {bundle.version} ({bundle.path})")
    original = recorded.parent / goal.name / "versions" / f"{bundle.version:04d}" / "plan.json"
    if not original.is_file():
        print(f"the recorded run has no version {bundle.version} to compare with")
        return 0
    same = original.read_bytes() == (bundle.path / "plan.json").read_bytes()
    print(f"plan.json {'identical to' if same else 'DIFFERS from'} {original}")
    return 0 if same else 1


def _health(goal: Goal) -> int:
    from dagster_agentic.healing.health import read_health

    health = read_health(goal)
    if not health:
        print(f"goal {goal.name!r} has not run yet")
        return 0
    print(json.dumps(health, indent=2))
    if health.get("report"):
        print(Path(health["report"]).read_text())
    return 0 if health["status"] == "healthy" else 1


def _run(goal: Goal, *, heal: bool = True) -> int:
    from dagster_agentic.orchestration.instance import open_instance
    from dagster_agentic.runner import run_goal

    instance = open_instance()  # $DAGSTER_HOME's, set up safely; else an ephemeral one
    print(f"running goal {goal.name!r}: plan, dbt build, train, evaluate ...", flush=True)
    try:
        summary = run_goal(goal, instance=instance, log_level="WARNING", heal=heal)
    finally:
        if instance is not None:
            instance.dispose()
    print(summary.render())
    return 0 if summary.success and summary.status != "degraded" else 1


if __name__ == "__main__":
    sys.exit(main())
