"""The Markdown report of one healing incident, and its one-line summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagster_agentic.goals.objective import UNBOUNDED_METRICS
from dagster_agentic.goals.spec import Goal

if TYPE_CHECKING:
    from dagster_agentic.healing.loop import HealingOutcome


def summary_line(outcome: HealingOutcome) -> str:
    """What happened, in one line: the goal's health says it."""
    causes = ", ".join(sorted({f"{d.cause} ({d.table})" for d in outcome.diagnoses})) or "unknown"
    last = outcome.attempts[-1] if outcome.attempts else None
    if outcome.accepted:
        verb = "repaired with loss" if outcome.status == "repaired_with_loss" else "repaired"
        return f"{verb} {causes}: version {outcome.live_after} is live; {last.why if last else ''}"
    return f"degraded: {causes}; version {outcome.live_before} stays live" + (
        f" ({last.why})" if last else ""
    )


def _last_good(outcome: HealingOutcome, goal: Goal) -> str:
    """The last good value and how far a repair may move it: a score by the tolerance itself,
    an error in the target's unit (RMSE, MAE) upwards by that fraction of it (as the gate)."""
    from dagster_agentic.healing.gate import in_unit

    tolerance = goal.healing.metric_tolerance
    metric = next(
        (
            g.get("evidence", {}).get("metric")
            for a in outcome.attempts
            for g in a.gate
            if g.get("check") == "metric"
        ),
        None,
    )
    if outcome.baseline is not None and metric in UNBOUNDED_METRICS:
        return (
            f"{metric} {in_unit(outcome.baseline)} (lower is better: a repair may raise it by at"
            f" most {tolerance:.0%} of it)"
        )
    value = "n/a" if outcome.baseline is None else f"{outcome.baseline:.3f}"
    return f"{value} (a repair may lose at most {tolerance:.3f})"


def render_report(outcome: HealingOutcome, goal: Goal) -> str:
    """A readable account of one incident: what failed, why, what was tried, what is live."""
    lines = [
        f"# Healing report: goal `{goal.name}`",
        "",
        f"- **Outcome:** {outcome.status.upper()}: version {outcome.live_after} is live"
        + (
            f" (was {outcome.live_before})"
            if outcome.live_after != outcome.live_before
            else " (unchanged)"
        ),
        f"- **Objective:** {goal.objective}",
        f"- **Last good metric:** {_last_good(outcome, goal)}",
        f"- **Time:** {outcome.seconds:.1f} s",
        *([f"- **Answers run:** `{outcome.trigger_run_id}`"] if outcome.trigger_run_id else []),
        *_loss_lines(outcome),
        "",
        "## What failed",
        "",
        *(f"- `{name}`" for name in outcome.detected),
        "",
        "## Diagnosis",
        "",
    ]
    for d in outcome.diagnoses:
        target = f"{d.table}.{d.column}" if d.column else d.table
        lines += [
            f"- **{d.cause}** on `{target}` (confidence {d.confidence:.2f}): {d.explanation}.",
            f"  Remedy: {d.remedy}.",
        ]
    if not outcome.diagnoses:
        lines.append("- No cause could be established from the evidence.")
    lines += ["", "## What was tried", ""]
    for number, attempt in enumerate(outcome.attempts, 1):
        version = f"version {attempt.version}" if attempt.version else "no version written"
        verdict = "ACCEPTED" if attempt.accepted else "REFUSED"
        if attempt.accepted and attempt.with_loss:
            verdict = "ACCEPTED WITH LOSS"
        lines.append(f"{number}. `{attempt.action}` ({version}): **{verdict}**: {attempt.why}")
        lines += [f"   - {r}" for r in attempt.rationale]
        lines += [
            f"   - measured `{key}`: {_facts(facts)}" for key, facts in attempt.measured.items()
        ]
        lines += [
            f"   - gate `{g['check']}`: {g['verdict']}: {g['why']}"
            for g in attempt.gate
            if (g["verdict"] != "pass" or g["check"] == "no_silent_loss")
            and g["why"] not in attempt.why
        ]
    lines += [
        "",
        "Raw tables were only read: every repair changes how a plan version reads them.",
        "",
    ]
    return "\n".join(lines)


def _loss_lines(outcome: HealingOutcome) -> list[str]:
    """What the live version lost, and what it cost, when a repair went live with a loss."""
    loss = outcome.loss
    if loss is None:
        return []
    value = outcome.final.value if outcome.final is not None else None
    before = "n/a" if outcome.baseline is None else f"{outcome.baseline:.3f}"
    after = "n/a" if value is None else f"{value:.3f}"
    importance = loss.get("importance")
    features = loss.get("features") or []
    return [
        "- **Lost:** source table(s) "
        + (", ".join(f"`{t}`" for t in loss.get("tables") or []) or "none")
        + f"; {len(features)} of {loss.get('live_features')} features"
        + f" ({float(loss.get('feature_share') or 0.0):.1%})"
        + (
            f"; {float(importance):.1%} of the live model's SHAP importance"
            if importance is not None
            else "; SHAP importance of the live model unknown"
        ),
        f"- **Cost:** goal metric {before} before, {after} after"
        f" (accepted only because the healing policy sets allow_loss)",
    ]


def _facts(facts: dict[str, Any]) -> str:
    """A measurement in one line; a key normalisation with its inclusion before and after."""
    if "key_steps" in facts:
        steps = " -> ".join(facts["key_steps"]) or "cast"
        after = float(facts.get("inclusion_after") or 0.0)
        before = float(facts.get("inclusion_before") or 0.0)
        return (
            f"key normalisation {steps} to {facts.get('key_type')} matches {after:.1%} of"
            f" {facts.get('keys')} distinct keys in {facts.get('parent')} (before: {before:.1%})"
        )
    return ", ".join(f"{k}={v}" for k, v in facts.items() if not isinstance(v, list | dict))
