"""Human-readable text for plans, plan diffs and health; ISO 8601 UTC times throughout."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagster_agentic.plan.diff import PlanDiff
    from dagster_agentic.plan.store import PlanBundle


def iso(epoch: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC, e.g. ``2026-07-01T09:30:00Z``."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def feature_ranking(bundle: PlanBundle) -> list[tuple[str, float | None]]:
    """The plan's features, the most informative first when screening scored them (mutual
    information, in bits); in plan order otherwise."""
    from dagster_agentic.agent.planner import SCREENING_FILE

    path = bundle.path / SCREENING_FILE
    scores: dict[str, float] = {}
    if path.exists():
        report = json.loads(path.read_text()).get("report", {})
        for score in report.get("scores", []):
            value = (score.get("all") or {}).get("mutual_information")
            if isinstance(value, int | float):
                scores[score["column"]] = float(value)
    ranked = [(column, scores.get(column)) for column in bundle.plan.feature_columns]
    return sorted(ranked, key=lambda item: -(item[1] if item[1] is not None else -1.0))


def plan_facts(bundle: PlanBundle, top: int) -> dict[str, Any]:
    """What a person asks of a plan first, as data (the ``--json`` form of the summary)."""
    from dagster_agentic.plan.diff import expectations_of, models_of

    plan, objective = bundle.plan, bundle.plan.objective
    ranking = feature_ranking(bundle)
    return {
        "goal": plan.goal,
        "version": bundle.version,
        "path": str(bundle.path),
        "fingerprint": bundle.meta.get("plan_fingerprint") or plan.fingerprint(),
        "reason": bundle.meta.get("reason"),
        "objective": {
            "task": objective.task,
            "target": f"{objective.label_table}.{objective.target_column}",
            "metric": objective.metric,
            "threshold": objective.threshold,
            "cohort": objective.cohort_description,
            "cohort_sql": objective.cohort_sql,
        },
        "entity": f"{objective.entity_table}.{objective.entity_key}",
        "features": len(plan.feature_columns),
        "top_features": [{"column": c, "mutual_information": mi} for c, mi in ranking[:top]],
        "models": list(models_of(plan)),
        "expectations": len(expectations_of(plan)),
        "kernel": plan.kernel,
    }


def render_plan(facts: dict[str, Any]) -> str:
    from dagster_agentic.goals.objective import LOWER_IS_BETTER

    objective = facts["objective"]
    lines = [
        f"goal          {facts['goal']}",
        f"plan version  {facts['version']} ({facts['path']})",
        f"fingerprint   {facts['fingerprint']}",
        f"task          {objective['task']}",
        f"target        {objective['target']}",
        f"metric        {objective['metric']}"
        f" {'<=' if objective['metric'] in LOWER_IS_BETTER else '>='} {objective['threshold']:g}",
        f"cohort        {objective['cohort']}"
        + (f"  [{objective['cohort_sql']}]" if objective["cohort_sql"] else ""),
        f"entity        {facts['entity']}",
        f"features      {facts['features']}"
        + (f", the top {len(facts['top_features'])}:" if facts["top_features"] else ""),
    ]
    for feature in facts["top_features"]:
        mi = feature["mutual_information"]
        shown = "" if mi is None else f"  {mi:.4f} bits"
        lines.append(f"  {feature['column']}{shown}")
    lines += [
        f"models        {', '.join(facts['models'])}",
        f"expectations  {facts['expectations']}",
        f"kernel        {facts['kernel']}",
    ]
    return "\n".join(lines)


def _value(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def render_diff(old: int, new: int, diff: PlanDiff) -> str:
    lines = [f"plan version {old} -> {new}"]
    if diff.empty:
        return lines[0] + ": no change"

    def listed(title: str, sign: str, items: tuple[str, ...]) -> None:
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines.extend(f"  {sign} {item}" for item in items)

    listed("features added", "+", diff.features_added)
    listed("features removed", "-", diff.features_removed)
    listed("tables added", "+", diff.tables_added)
    listed("tables removed", "-", diff.tables_removed)
    if diff.objective:
        lines.append("objective:")
        lines += [f"  {c.field}: {_value(c.old)} -> {_value(c.new)}" for c in diff.objective]
    listed("models added", "+", diff.models_added)
    listed("models removed", "-", diff.models_removed)
    listed("expectations added", "+", diff.expectations_added)
    listed("expectations removed", "-", diff.expectations_removed)
    listed("source repairs changed", "~", diff.sources_changed)
    if diff.other:
        lines.append("other fields:")
        lines += [f"  {c.field}: {_value(c.old)} -> {_value(c.new)}" for c in diff.other]
    return "\n".join(lines)


def health_facts(health: dict[str, Any]) -> dict[str, Any]:
    """The health record with its times in ISO 8601 UTC."""
    facts = dict(health)
    facts["updated_at"] = iso(health.get("updated_at"))
    if isinstance(health.get("last_good"), dict):
        facts["last_good"] = {**health["last_good"], "at": iso(health["last_good"].get("at"))}
    return facts


def render_health(goal: str, facts: dict[str, Any]) -> str:
    lines = [
        f"goal          {goal}",
        f"status        {str(facts.get('status')).upper()}",
        f"live version  {facts.get('live_version')}",
        f"why           {facts.get('why')}",
        f"updated       {facts.get('updated_at')}",
    ]
    last_good = facts.get("last_good")
    if last_good:
        lines.append(
            f"last good     version {last_good.get('version')}, value"
            f" {last_good.get('value'):.3f} at {last_good.get('at')}"
            if isinstance(last_good.get("value"), int | float)
            else f"last good     version {last_good.get('version')} at {last_good.get('at')}"
        )
    if facts.get("repair"):
        lines.append(f"last repair   {facts['repair']}")
    for key, value in (facts.get("loss") or {}).items():
        lines.append(f"loss          {key}: {_value(value)}")
    report = facts.get("report")
    if report:
        lines.append(f"report        {report}")
        if Path(report).is_file():
            lines += ["", Path(report).read_text().rstrip()]
    return "\n".join(lines)
