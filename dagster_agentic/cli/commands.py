"""The commands: each reads its goal's state through the library and prints to ``out``."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from dagster_agentic.cli import render
from dagster_agentic.errors import GoalError

if TYPE_CHECKING:
    from dagster_agentic.cli.progress import Progress
    from dagster_agentic.goals.spec import Goal


@dataclass
class Context:
    """Where a command writes: ``out`` is the real stdout, kept clean for ``--json``."""

    out: TextIO
    as_json: bool
    verbose: bool
    progress: Progress

    def emit(self, data: Any) -> None:
        print(json.dumps(data, indent=2, default=str), file=self.out)

    def say(self, text: str) -> None:
        print(text, file=self.out)


def run(goal: Goal, args: argparse.Namespace, ctx: Context) -> int:
    from dagster_agentic.orchestration.instance import open_instance
    from dagster_agentic.runner import run_goal

    instance = open_instance()  # $DAGSTER_HOME's, set up safely; else an ephemeral one
    log_level = "INFO" if ctx.verbose else "WARNING"
    try:
        summary = run_goal(
            goal,
            instance=instance,
            log_level=log_level,
            heal=not args.no_heal,
            progress=ctx.progress,
        )
    finally:
        ctx.progress.close()
        if instance is not None:
            instance.dispose()
    code = 0 if summary.success and summary.status != "degraded" else 1
    if ctx.as_json:
        # Field by field: ``asdict`` would recurse into the healing outcome's own objects.
        data = {f.name: getattr(summary, f.name) for f in fields(summary) if f.name != "healing"}
        healing = summary.healing
        data["healing"] = (
            None
            if healing is None
            else {"status": healing.status, "accepted": healing.accepted, "report": healing.report}
        )
        ctx.emit(
            {
                **data,
                "failed_check_at": render.iso(summary.failed_check_at),
                "goal_at": render.iso(summary.goal_at),
            }
        )
    else:
        ctx.say(summary.render())
        if code and not ctx.verbose:
            ctx.say("(dbt's and Dagster's own log output: run again with --verbose)")
    return code


def plan(goal: Goal, args: argparse.Namespace, ctx: Context) -> int:
    from dagster_agentic.agent.planner import ensure_plan, plan_goal

    if args.top < 0:
        raise GoalError(f"--top {args.top} is negative", fix="pass --top 0 or more")
    ctx.progress("planning")
    bundle = plan_goal(goal, reason="requested") if args.new else ensure_plan(goal)
    ctx.progress.close()
    facts = render.plan_facts(bundle, args.top)
    if ctx.as_json:
        ctx.emit({**facts, "plan": bundle.plan.model_dump(mode="json")})
    else:
        ctx.say(render.render_plan(facts))
    return 0


def plan_diff(goal: Goal, args: argparse.Namespace, ctx: Context) -> int:
    from dagster_agentic.plan.diff import plan_diff as diff_plans
    from dagster_agentic.plan.store import PlanStore

    store = PlanStore.of(goal)
    if len(args.versions) not in (0, 2):
        raise GoalError(
            f"plan diff takes two versions or none, not {len(args.versions)}",
            fix="pass two versions, e.g. 'plan diff <goal> 1 2', or none for the live one"
            " against its parent",
        )
    if args.versions:
        old, new = args.versions
    else:
        live = store.load_accepted()
        if live is None:
            raise GoalError(f"goal {goal.name!r} has no plan yet", fix="run 'plan' first")
        earlier = [v for v in store.versions() if v < live.version]
        parent = live.meta.get("parent")
        previous = parent if isinstance(parent, int) else (earlier[-1] if earlier else None)
        if previous is None:
            raise GoalError(
                f"goal {goal.name!r} has one plan version only ({live.version})",
                fix="plan another with 'plan --new', or pass two versions",
            )
        old, new = previous, live.version
    diff = diff_plans(store.load(old).plan, store.load(new).plan)
    if ctx.as_json:
        ctx.emit({"old": old, "new": new, "empty": diff.empty, **asdict(diff)})
    else:
        ctx.say(render.render_diff(old, new, diff))
    return 0


def features(goal: Goal, args: argparse.Namespace, ctx: Context) -> int:
    from dagster_agentic.agent.planner import SCREENING_FILE, ensure_plan

    ctx.progress("planning")
    bundle = ensure_plan(goal)
    ctx.progress.close()
    screening = json.loads((bundle.path / SCREENING_FILE).read_text())
    scores = {s["column"]: s for s in screening["report"]["scores"]}
    task = screening["report"].get("task", "binary_classification")
    # The effect size each task has: a binned AUC for two classes, Cramer's V for several,
    # Spearman's rho for a number.
    effect, label = {
        "binary_classification": ("auc", "AUC"),
        "multiclass_classification": ("cramers_v", "V"),
        "regression": ("rank_correlation", "rho"),
    }[task]
    rows = [
        {
            "column": d["column"],
            "effect": effect,
            "value": scores[d["column"]]["all"].get(effect),
            "mutual_information": scores[d["column"]]["all"]["mutual_information"],
            "keep": d["keep"],
            "reason": d.get("reason"),
        }
        for d in screening["selection"]["decisions"]
    ]
    if ctx.as_json:
        ctx.emit({"version": bundle.version, "task": task, "features": rows})
        return 0
    ctx.say(f"# plan version {bundle.version}: {screening['selection']['rationale'][0]}")
    ctx.say(f"{'feature':<56} {label:>6} {'MI bits':>8}  decision")
    for row in rows:
        verdict = "kept" if row["keep"] else f"dropped: {row['reason']}"
        shown = "-" if row["value"] is None else f"{row['value']:.3f}"
        ctx.say(f"{row['column']:<56} {shown:>6} {row['mutual_information']:>8.4f}  {verdict}")
    return 0


def predict(goal: Goal, args: argparse.Namespace, ctx: Context) -> int:
    """Score as ``<goal>/predictions`` does; flags narrow or replace the goal's selection."""
    from pydantic import ValidationError

    from dagster_agentic.agent.predict import predict_goal

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
    ctx.progress("scoring")
    outcome = predict_goal(goal, selection=selection)
    ctx.progress.close()
    if ctx.as_json:
        ctx.emit(outcome.to_dict())
    else:
        ctx.say(outcome.render())
    return 0


def replay(goal: Goal, args: argparse.Namespace, ctx: Context) -> int:
    """Plan ``goal`` into ``--into`` with every model call answered from ``--trace``; compare
    the plan with the recorded run's first version."""
    from dagster_agentic.agent.planner import plan_goal, trace_for
    from dagster_agentic.kernel.llm.kernel import LLMKernel
    from dagster_agentic.observability.trace import Trace

    recorded, into = Path(args.trace), Path(args.into)
    if goal.kernel is None:
        raise GoalError(
            f"goal {goal.name!r} names no model kernel, so it has no model calls to replay",
            fix="replay a goal whose declaration has a 'kernel:' field",
        )
    if not recorded.is_file():
        raise GoalError(f"no trace at {recorded}", fix="pass --trace <state dir>/trace.sqlite")
    if into.exists() and not into.is_dir():
        raise GoalError(f"{into} is not a directory", fix="pass --into a new or empty directory")
    if into.exists() and any(into.iterdir()):
        raise GoalError(f"{into} is not empty", fix="pass --into a new or empty directory")
    replayed = goal.model_copy(update={"state_dir": into})
    kernel = LLMKernel.replaying(
        goal.kernel, recorded=Trace(recorded), trace=trace_for(replayed), goal=goal.name
    )
    ctx.progress("replaying the planning")
    bundle = plan_goal(replayed, kernel=kernel, reason="replay")
    ctx.progress.close()
    original = recorded.parent / goal.name / "versions" / f"{bundle.version:04d}" / "plan.json"
    same = original.is_file() and original.read_bytes() == (bundle.path / "plan.json").read_bytes()
    if ctx.as_json:
        compared = str(original) if original.is_file() else None
        ctx.emit(
            {
                "version": bundle.version,
                "path": str(bundle.path),
                "original": compared,
                "identical": same,
            }
        )
        return 0 if same or not original.is_file() else 1
    ctx.say(f"# replayed plan version {bundle.version} ({bundle.path})")
    if not original.is_file():
        ctx.say(f"the recorded run has no version {bundle.version} to compare with")
        return 0
    ctx.say(f"plan.json {'identical to' if same else 'DIFFERS from'} {original}")
    return 0 if same else 1


def health(goal: Goal, args: argparse.Namespace, ctx: Context) -> int:
    from dagster_agentic.healing.health import read_health

    record = read_health(goal)
    if not record:
        if ctx.as_json:
            ctx.emit({"goal": goal.name, "status": None})
        else:
            ctx.say(f"goal {goal.name!r} has not run yet")
        return 0
    facts = render.health_facts(record)
    if ctx.as_json:
        ctx.emit({"goal": goal.name, **facts})
    else:
        ctx.say(render.render_health(goal.name, facts))
    return 0 if record["status"] == "healthy" else 1
