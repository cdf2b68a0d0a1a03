"""What the UI says about a goal's run, as Markdown and text: the verdict with its interval,
metrics per split and population, feature importance, plots and the reasoning timeline.

Plain Python over the artifacts of a plan version (``agent.steps``) and the trace; the
orchestration layer wraps the results in Dagster metadata.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dagster_agentic.observability.markdown import Markup, bullets, md_text, number, table
from dagster_agentic.observability.trace import TraceRecord

ACCEPTED = "accept_plan_version"
"""The trace action that closes a plan version's decisions."""


def interval_text(cohort: dict[str, Any]) -> str:
    """``0.929 [0.901, 0.951] (95% Wilson, n=62)``: the value, its interval and its support."""
    level = cohort.get("level")
    method = str(cohort.get("interval_method") or "").replace("wilson", "Wilson")
    share = f"{float(level):.0%}" if level is not None else "?"
    support = cohort.get("support")
    n = f", n={int(support):,}" if support is not None else ""
    return (
        f"{number(cohort.get('value'))} [{number(cohort.get('interval_low'))},"
        f" {number(cohort.get('interval_high'))}] ({share} {method}{n})".replace("  ", " ")
    )


def verdict_description(metric: str, target: float, cohort: dict[str, Any]) -> str:
    """One sentence for the verdict check: what was measured against what, and the verdict."""
    verdict = {"met": "met", "not_met": "not met"}.get(str(cohort["verdict"]), "inconclusive")
    supported = f" on {cohort['support_name']}" if cohort.get("support_name") else ""
    return (
        f"{verdict}: {metric} {interval_text(cohort)}{supported}, target {number(target)}."
        f" {cohort.get('explanation', '')}"
    ).strip()


_BINARY_EXTRAS = ("precision", "recall", "f1", "roc_auc", "accuracy")


def _others(part: dict[str, Any]) -> str:
    scores = part.get("metrics") or {k: part.get(k) for k in _BINARY_EXTRAS if k in part}
    return ", ".join(f"{k} {number(v)}" for k, v in scores.items() if v is not None) or "n/a"


def metrics_markdown(evaluation: dict[str, Any], training: dict[str, Any]) -> str:
    """The goal's metric per split (validation, test) and population (cohort, all rows), and
    the other scores of each, rounded."""
    cohort, everyone = evaluation["cohort_test"], evaluation["all_test"]
    metric = cohort["metric"]
    measured = "test (out-of-fold)" if evaluation.get("method") == "cross_validation" else "test"
    rows: list[Sequence[Any]] = [
        (measured, "cohort", cohort["value"], interval_text(cohort), _others(cohort)),
        (measured, "all rows", everyone["value"], interval_text(everyone), _others(everyone)),
    ]
    threshold = evaluation.get("threshold")
    if threshold is not None and threshold.get("validation_value") is not None:
        seen = {
            "value": threshold["validation_value"],
            "interval_low": threshold.get("validation_low"),
            "interval_high": threshold.get("validation_high"),
            "level": threshold.get("level"),
            "interval_method": cohort.get("interval_method"),
            "support": threshold.get("n_predicted_positive"),
        }
        rows.append(
            ("validation", "cohort", seen["value"], interval_text(seen), "threshold chosen here")
        )
    validation = {
        k: v for k, v in (training.get("validation") or {}).items() if v is not None and v == v
    }
    if validation:
        selection = ", ".join(f"{k} {number(v)}" for k, v in validation.items())
        rows.append(("validation", "all rows", None, "", f"model selection: {selection}"))
    header = ("split", "rows", metric, "interval", "other scores")
    cells = ([s, p, "" if v is None else v, Markup(i), Markup(o)] for s, p, v, i, o in rows)
    return table(header, cells)


def importance_rows(ranked: Sequence[Sequence[Any]], *, top: int = 25) -> list[tuple[str, float]]:
    """Features by share of mean |SHAP|, strongest first (ties by name)."""
    pairs = [(str(name), float(share)) for name, share in ranked]
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))[:top]


def importance_markdown(importance: dict[str, Any], *, top: int = 25) -> str:
    """The strongest features as a table, and those without value."""
    rows = importance_rows(importance["ranked_shares"], top=top)
    text = (
        f"SHAP ({md_text(importance['method'])}, {importance['rows']:,} test rows):"
        " share of mean |SHAP|\n\n"
        + table(
            ("rank", "feature", "share"), ((i, c, f"{s:.1%}") for i, (c, s) in enumerate(rows, 1))
        )
    )
    valueless = importance.get("valueless") or []
    if valueless:
        text += (
            f"\n\n{len(valueless)} feature(s) without value, left out of the next plan version: "
            + ", ".join(md_text(v) for v in valueless)
        )
    return text


def shap_markdown(plot: Path, importance: dict[str, Any]) -> str:
    """The SHAP summary plot inline, above the importance table."""
    from dagster_agentic.observability.images import png_markdown

    return (
        png_markdown(plot.read_bytes(), "SHAP summary") + "\n\n" + importance_markdown(importance)
    )


def learning_curve_markdown(training: dict[str, Any]) -> str:
    """The candidates' loss curves inline, or why there is none."""
    from dagster_agentic.observability.images import learning_curve_png, png_markdown

    reports = training.get("reports") or []
    png = learning_curve_png(reports)
    if png is None:
        families = ", ".join(sorted({str(r.get("family")) for r in reports})) or "none"
        return f"No learning curve: no candidate records a loss per iteration ({families})."
    flat = sorted({str(r.get("family")) for r in reports if not r.get("valid_curve")})
    note = f"\n\nNo curve recorded for: {', '.join(flat)}." if flat else ""
    return png_markdown(png, "learning curves") + note


def version_decisions(records: Sequence[TraceRecord], version: int) -> list[TraceRecord]:
    """The trace of the decisions behind plan ``version``: every record after the previous
    version's acceptance up to and with this one's. Empty when the version was never accepted
    through the planner."""
    end = next(
        (
            i
            for i, r in enumerate(records)
            if r.kind == "action" and r.name == ACCEPTED and r.plan_version == version
        ),
        None,
    )
    if end is None:
        return []
    start = end
    while start > 0 and not (
        records[start - 1].kind == "action" and records[start - 1].name == ACCEPTED
    ):
        start -= 1
    return list(records[start : end + 1])


def _summary(outputs: dict[str, Any], *, limit: int = 4) -> str:
    parts = []
    for key, value in outputs.items():
        if isinstance(value, list | tuple):
            parts.append(f"{key}: {len(value)}")
        elif isinstance(value, dict):
            parts.append(f"{key}: {len(value)} entries")
        elif value is not None and value != "":
            parts.append(f"{key}={str(value)[:60]}")
        if len(parts) == limit:
            break
    return "; ".join(parts)


def timeline_markdown(records: Sequence[TraceRecord]) -> str:
    """The decisions as a Markdown list: when, what, who decided, and what came out."""
    if not records:
        return "No recorded decisions for this plan version."
    lines = []
    for r in records:
        when = dt.datetime.fromtimestamp(r.recorded_at, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(
            f"{when} UTC **{md_text(r.name)}** by {md_text(r.actor)}"
            f" ({r.duration_ms:,.0f} ms): {md_text(_summary(r.outputs))}"
        )
    return bullets(lines)
