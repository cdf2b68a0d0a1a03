"""The Markdown report of one healing incident, and its one-line summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster_agentic.goals.spec import Goal

if TYPE_CHECKING:
    from dagster_agentic.healing.loop import HealingOutcome


def summary_line(outcome: HealingOutcome) -> str:
    """What happened, in one line: the goal's health says it."""
    causes = ", ".join(sorted({f"{d.cause} ({d.table})" for d in outcome.diagnoses})) or "unknown"
    last = outcome.attempts[-1] if outcome.attempts else None
    if outcome.accepted:
        return (
            f"repaired {causes}: version {outcome.live_after} is live; {last.why if last else ''}"
        )
    return f"degraded: {causes}; version {outcome.live_before} stays live" + (
        f" ({last.why})" if last else ""
    )


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
        "- **Last good metric:** "
        + ("n/a" if outcome.baseline is None else f"{outcome.baseline:.3f}")
        + f" (a repair may lose at most {goal.healing.metric_tolerance:.3f})",
        f"- **Time:** {outcome.seconds:.1f} s",
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
        lines.append(f"{number}. `{attempt.action}` ({version}): **{verdict}**: {attempt.why}")
        lines += [f"   - {r}" for r in attempt.rationale]
    lines += [
        "",
        "Raw tables were only read: every repair changes how a plan version reads them.",
        "",
    ]
    return "\n".join(lines)
