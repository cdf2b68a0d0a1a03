"""How a goal's assets read in the Dagster UI: the verdict as a check of the goal asset, the
model's kinds, and the Markdown metadata (metrics, importance, plots, reasoning, plan diff).

The words and tables come from :mod:`dagster_agentic.observability.goal_report`; this module
only wraps them as Dagster metadata. No metadata value holds a local path: the UI runs
elsewhere than the artifacts, and a path tells a reader of the UI nothing.
"""

from pathlib import Path
from typing import Any

import dagster as dg

from dagster_agentic.healing.gate import GOAL_CHECK
from dagster_agentic.plan.store import PlanBundle, PlanStore

FAMILY_KINDS = {"lightgbm": "lightgbm", "torch_mlp": "torch", "logistic": "scikitlearn"}
"""The Dagster kind (its icon in the UI) of each model family."""


def trained_family(artifacts: Path) -> str | None:
    """The family of the model this version's artifacts hold, if one was trained."""
    import json

    from dagster_agentic.agent.steps import TRAINING_FILE

    path = artifacts / TRAINING_FILE
    try:
        family = json.loads(path.read_text())["family"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(family)


def _members(family: str, params: dict[str, Any]) -> list[str]:
    if family != "ensemble":
        return [family]
    from dagster_agentic.training.spec import ENSEMBLE_DEFAULTS

    members = str({**ENSEMBLE_DEFAULTS, **params}.get("members", ""))
    return [m.strip() for m in members.split(",") if m.strip()]


def model_kinds(bundle: PlanBundle, artifacts: Path) -> set[str]:
    """Kinds of the model asset: the trained family's when the version has trained one, else
    every candidate family of the plan (kinds are fixed when the definitions are built)."""
    candidates = bundle.plan.training.candidates
    trained = trained_family(artifacts)
    chosen = [c for c in candidates if c.family == trained] if trained else list(candidates)
    if trained and not chosen:  # a family the plan no longer lists: name it as trained
        return {"python", *(FAMILY_KINDS.get(f, f) for f in _members(trained, {}))}
    families = {f for c in chosen for f in _members(c.family, dict(c.params))}
    return {"python", *(FAMILY_KINDS.get(f, f) for f in families)}


def verdict_check_spec(key: dg.AssetKey, bundle: PlanBundle) -> dg.AssetCheckSpec:
    objective = bundle.plan.objective
    return dg.AssetCheckSpec(
        GOAL_CHECK,
        asset=key,
        blocking=False,
        description=f"The goal's verdict: {objective.metric} on {objective.cohort_description}"
        f" (test rows) against the target {objective.threshold:g}. Passes only when the"
        " confidence interval lies on the right side of the target; not met fails as an error,"
        " inconclusive as a warning.",
    )


def verdict_check_result(bundle: PlanBundle, evaluation: dict[str, Any]) -> dg.AssetCheckResult:
    """Passed when met; not met is an error, inconclusive a warning. Never blocking: the
    scores downstream carry their own check of the live verdict."""
    from dagster_agentic.observability.goal_report import interval_text, verdict_description

    cohort = evaluation["cohort_test"]
    objective = bundle.plan.objective
    verdict = str(cohort["verdict"])
    return dg.AssetCheckResult(
        check_name=GOAL_CHECK,
        passed=verdict == "met",
        severity=dg.AssetCheckSeverity.WARN
        if verdict == "inconclusive"
        else dg.AssetCheckSeverity.ERROR,
        description=verdict_description(objective.metric, objective.threshold, cohort),
        metadata={
            "verdict": verdict,
            "metric": objective.metric,
            "value": _rounded(cohort["value"]),
            "target": objective.threshold,
            "result": interval_text(cohort),
            "cohort": objective.cohort_description,
            "trivial": cohort.get("trivial_reason") or "no",
            "plan_version": bundle.version,
        },
    )


def _rounded(value: Any) -> Any:
    return None if value is None else round(float(value), 4)


def importance_json(ranked: Any, *, top: int) -> dg.MetadataValue:
    """Strongest first, as a list (a JSON object would be shown with its keys sorted)."""
    from dagster_agentic.observability.goal_report import importance_rows

    rows = importance_rows(ranked, top=top)
    return dg.MetadataValue.json([{"feature": c, "share": round(s, 4)} for c, s in rows])


def evaluation_story(artifacts: Path, evaluation: dict[str, Any]) -> dict[str, Any]:
    """Metrics per split and population, SHAP (plot and table) and the importance list."""
    from dagster_agentic.agent.steps import (
        IMPORTANCE_FILE,
        SHAP_PLOT_FILE,
        TRAINING_FILE,
        read_artifact,
    )
    from dagster_agentic.observability.goal_report import metrics_markdown, shap_markdown

    importance = read_artifact(artifacts, IMPORTANCE_FILE)
    training = read_artifact(artifacts, TRAINING_FILE)
    return {
        "scores": dg.MetadataValue.md(metrics_markdown(evaluation, training)),
        "shap_summary": dg.MetadataValue.md(shap_markdown(artifacts / SHAP_PLOT_FILE, importance)),
        "feature_importance": importance_json(importance["ranked_shares"], top=25),
        "valueless_features": dg.MetadataValue.json(list(importance["valueless"])),
    }


def model_story(outcome: Any) -> dict[str, Any]:
    """The candidates as a table, the learning curves and the strongest features."""
    from dagster_agentic.observability.goal_report import learning_curve_markdown
    from dagster_agentic.observability.markdown import table

    rows = [
        (
            r.get("family", "?"),
            r.get("best_iteration", 0),
            r.get("epochs", 0),
            r.get("valid_average_precision"),
            r.get("valid_roc_auc"),
            r.get("fit_seconds"),
            r.get("error") or r.get("stop_reason") or "",
        )
        for r in outcome.reports
    ]
    header = ("family", "best iteration", "iterations", "valid AP", "valid ROC AUC", "seconds")
    kept = f"Kept: {outcome.family}.\n\n"
    return {
        "candidates": dg.MetadataValue.md(
            kept
            + table((*header, "stop"), ([*r[:3], *(_cell(v) for v in r[3:6]), r[6]] for r in rows))
        ),
        "learning_curve": dg.MetadataValue.md(
            learning_curve_markdown({"reports": outcome.reports})
        ),
        "top_features": importance_json(outcome.importance, top=10),
    }


def _cell(value: Any) -> Any:
    """A score cell: NaN (a task without that score) and None read as n/a."""
    if value is None:
        return "n/a"
    number = float(value)
    return number if number == number else "n/a"


def goal_story(goal: Any, bundle: PlanBundle) -> dict[str, Any]:
    """The reasoning timeline of this plan version and what it changed of its parent."""
    from dagster_agentic.agent.planner import trace_for
    from dagster_agentic.observability.goal_report import timeline_markdown, version_decisions
    from dagster_agentic.plan.diff import plan_diff

    records = trace_for(goal).records(goal=bundle.plan.goal)
    metadata: dict[str, Any] = {
        "reasoning": dg.MetadataValue.md(
            timeline_markdown(version_decisions(records, bundle.version))
        )
    }
    parent = bundle.meta.get("parent")
    store = PlanStore.of(goal)
    if isinstance(parent, int) and parent in store.versions():
        diff = plan_diff(store.load(parent).plan, bundle.plan)
        text = f"Version {bundle.version} against version {parent}:\n\n{diff.markdown()}"
    else:
        text = f"Version {bundle.version} is the goal's first plan."
    metadata["plan_diff"] = dg.MetadataValue.md(text)
    return metadata
