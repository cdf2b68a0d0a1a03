"""The gate a repaired plan version passes before it goes live: named checks, each with evidence.

Each :data:`GateCheck` looks at one :class:`GateContext` (the goal, the repair proposed, the
live and the candidate versions, the candidate's run and the last good metric) and returns a
:class:`GateVerdict`: ``pass``, ``refuse``, or ``accept_with_loss`` (acceptable only because the
goal's healing policy allows a loss, and reported as such). The candidate goes live when no
check refuses; as "repaired with loss" when one accepted it with a loss.

:data:`DEFAULT_CHECKS`, in order:

* ``run_succeeded``: the candidate's run finished;
* ``data_checks``: every data check of it passed (raw-table expectations on what the version
  reads, dbt tests, training-set checks);
* ``metric``: the goal metric was computed and is at most ``healing.metric_tolerance`` worse
  than the last good version's: below it for scores, above it for errors (RMSE, MAE, whose
  tolerance is a fraction of the last good value);
* ``no_silent_loss``: the candidate reads every source table of the live version and keeps
  enough of its features and SHAP importance (``healing.loss``); beyond that it is refused,
  or accepted with the loss where ``healing.allow_loss`` says so.
* ``no_leakage``: the candidate's features, recomputed on a sample with every row at or after
  the cutoff removed (``features.leakage``), equal the features as built, and every table
  aggregated has a time the audit could read. A goal metric that *rose* by more than the
  tolerance is suspect until explained: such a candidate is also refused when a feature's
  single-feature signal is suspiciously strong. The audit is kept with the candidate's
  artifacts (``leakage.json``).

Further checks (an audit of the candidate, say) are plain functions of the context, passed to
:func:`judge` with the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from dagster_agentic.goals.objective import UNBOUNDED_METRICS, higher_is_better
from dagster_agentic.goals.spec import Goal
from dagster_agentic.kernel.protocol import RepairProposal
from dagster_agentic.plan.store import PlanBundle, PlanStore

GOAL_CHECK = "goal_met"
"""The goal's own check: judged by the metric tolerance, not as a data check."""

Verdict = Literal["pass", "refuse", "accept_with_loss"]


class RunOutcome(Protocol):
    """What the gate needs to know about one materialisation of a plan version."""

    @property
    def plan_version(self) -> int: ...
    @property
    def success(self) -> bool: ...
    @property
    def value(self) -> float | None: ...
    @property
    def checks(self) -> dict[str, bool]: ...
    @property
    def failed_step(self) -> str | None: ...


@dataclass(frozen=True)
class GateContext:
    """Everything a gate check may look at; nothing in it is changed by a check."""

    goal: Goal
    proposal: RepairProposal
    live: PlanBundle
    candidate: PlanBundle
    run: RunOutcome
    baseline: float | None
    store: PlanStore


@dataclass(frozen=True)
class GateVerdict:
    check: str
    verdict: Verdict
    why: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "verdict": self.verdict,
            "why": self.why,
            "evidence": self.evidence,
        }


GateCheck = Callable[[GateContext], GateVerdict]


@dataclass(frozen=True)
class GateDecision:
    """Every check's verdict on one candidate."""

    verdicts: tuple[GateVerdict, ...]

    @property
    def accepted(self) -> bool:
        return not any(v.verdict == "refuse" for v in self.verdicts)

    @property
    def with_loss(self) -> bool:
        return self.accepted and any(v.verdict == "accept_with_loss" for v in self.verdicts)

    @property
    def loss(self) -> dict[str, Any] | None:
        """The measured loss (``healing.loss.Loss.to_dict``), when a check measured one."""
        for v in self.verdicts:
            if isinstance(v.evidence.get("loss"), dict):
                loss: dict[str, Any] = v.evidence["loss"]
                return loss
        return None

    @property
    def why(self) -> str:
        """Refused: every refusal. Accepted: the metric, and any loss (allowed or within the
        limits) with its figures."""
        refused = [v.why for v in self.verdicts if v.verdict == "refuse"]
        if refused:
            return "; ".join(refused)
        parts = [f"every check passed and {v.why}" for v in self.verdicts if v.check == "metric"]
        parts += [v.why for v in self.verdicts if v.verdict == "accept_with_loss"]
        loss = self.loss
        if not self.with_loss and loss and (loss["tables"] or loss["features"]):
            parts += [
                v.why + " (within the limits of a plain repair)"
                for v in self.verdicts
                if v.check == "no_silent_loss"
            ]
        return "; ".join(parts) or "every check passed"


def judge(context: GateContext, checks: Sequence[GateCheck] | None = None) -> GateDecision:
    """Every check's verdict on the candidate (all of them run: the report shows each)."""
    return GateDecision(tuple(check(context) for check in (checks or DEFAULT_CHECKS)))


def failed_data_checks(outcome: RunOutcome) -> list[str]:
    """Every failed check of a run except the goal's own."""
    return sorted(
        name for name, passed in outcome.checks.items() if not passed and not is_goal_check(name)
    )


def is_goal_check(check: str) -> bool:
    return check.rsplit(":", 1)[-1] == GOAL_CHECK


# --- the default checks -----------------------------------------------------------------------


def run_succeeded(context: GateContext) -> GateVerdict:
    run = context.run
    if run.success:
        return GateVerdict("run_succeeded", "pass", "the run succeeded")
    return GateVerdict(
        "run_succeeded",
        "refuse",
        f"the run failed (step {run.failed_step})",
        {"failed_step": run.failed_step},
    )


def data_checks(context: GateContext) -> GateVerdict:
    failed = failed_data_checks(context.run)
    if not failed:
        return GateVerdict("data_checks", "pass", "every data check passed")
    return GateVerdict(
        "data_checks",
        "refuse",
        f"{len(failed)} check(s) failed: {', '.join(failed[:5])}",
        {"failed": failed},
    )


def metric_slack(metric_name: str, baseline: float, tolerance: float) -> float:
    """How far the goal metric may move the wrong way from ``baseline``.

    Scores in [0, 1] (precision, accuracy, R², ...) move by at most ``tolerance`` itself;
    errors in the target's unit (RMSE, MAE) by that fraction of the last good value, since
    an absolute 0.05 means nothing for a price.
    """
    if metric_name in UNBOUNDED_METRICS:
        return tolerance * abs(baseline)
    return tolerance


def in_unit(value: float) -> str:
    """An error in the target's unit as people read amounts: '13,407', not '1.341e+04'."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def worse(metric_name: str, value: float, baseline: float, slack: float) -> bool:
    """``value`` is worse than ``baseline`` by more than ``slack``, in the metric's direction."""
    if higher_is_better(metric_name):
        return value < baseline - slack
    return value > baseline + slack


def metric(context: GateContext) -> GateVerdict:
    """The candidate's goal metric is no worse than the last good one beyond the tolerance:
    lower for scores, higher for errors (RMSE, MAE)."""
    value, baseline = context.run.value, context.baseline
    tolerance = context.goal.healing.metric_tolerance
    name = context.candidate.plan.objective.metric
    evidence = {"value": value, "baseline": baseline, "tolerance": tolerance, "metric": name}
    if value is None:
        return GateVerdict("metric", "refuse", "the goal metric was not computed", evidence)
    slack = metric_slack(name, baseline, tolerance) if baseline is not None else 0.0
    if baseline is not None and worse(name, value, baseline, slack):
        moved = "fell" if higher_is_better(name) else "rose"
        return GateVerdict(
            "metric",
            "refuse",
            f"the goal metric fell from {baseline:.3f} to {value:.3f}, more than the"
            f" tolerance of {tolerance:.3f}"
            if moved == "fell"
            else f"the goal metric ({name}, lower is better) rose from {in_unit(baseline)} to"
            f" {in_unit(value)}, more than the tolerance of {tolerance:.0%} of the last good value",
            evidence,
        )
    if baseline is not None and name in UNBOUNDED_METRICS:  # an error in the target's unit
        return GateVerdict(
            "metric",
            "pass",
            f"the goal metric ({name}, lower is better) is {in_unit(value)} (last good"
            f" {in_unit(baseline)}, tolerance {tolerance:.0%} of it)",
            evidence,
        )
    against = (
        f" (last good {baseline:.3f}, tolerance {tolerance:.3f})" if baseline is not None else ""
    )
    return GateVerdict("metric", "pass", f"the goal metric is {value:.3f}{against}", evidence)


def no_silent_loss(context: GateContext) -> GateVerdict:
    from dagster_agentic.healing.loss import measure_loss

    loss = measure_loss(context.live, context.candidate, context.store)
    healing = context.goal.healing
    beyond = loss.beyond(healing)
    evidence = {"loss": loss.to_dict()}
    if not beyond:
        return GateVerdict("no_silent_loss", "pass", loss.describe(), evidence)
    cost = _cost(context)
    if healing.allow_loss:
        return GateVerdict(
            "no_silent_loss",
            "accept_with_loss",
            f"accepted with a loss the healing policy allows (allow_loss): {'; '.join(beyond)}"
            f"{cost}",
            evidence,
        )
    return GateVerdict(
        "no_silent_loss",
        "refuse",
        f"{'; '.join(beyond)}: a repair that loses this much is refused unless the goal's"
        f" healing policy sets allow_loss{cost}",
        evidence,
    )


def _cost(context: GateContext) -> str:
    value, baseline = context.run.value, context.baseline
    if value is None:
        return ""
    if baseline is None:
        return f" (goal metric {value:.3f}; no last good value to compare)"
    return f" (goal metric {baseline:.3f} before, {value:.3f} after)"


def no_leakage(context: GateContext) -> GateVerdict:
    import duckdb

    from dagster_agentic.agent.planner import write_leakage
    from dagster_agentic.errors import AgenticError
    from dagster_agentic.features.leakage import audit_bundle

    try:
        audit = audit_bundle(context.goal, context.candidate)
    except (AgenticError, duckdb.Error) as error:
        return GateVerdict(
            "no_leakage",
            "refuse",
            f"the leakage audit could not run ({error}): an unaudited candidate does not go live",
            {"error": str(error)},
        )
    artifacts = context.store.artifacts_dir(context.candidate.version)
    artifacts.mkdir(parents=True, exist_ok=True)
    write_leakage(artifacts, audit)
    value, baseline = context.run.value, context.baseline
    tolerance = context.goal.healing.metric_tolerance
    name = context.candidate.plan.objective.metric
    # A jump is an improvement beyond the tolerance: up for scores, down for errors.
    jumped = (
        value is not None
        and baseline is not None
        and worse(name, baseline, value, metric_slack(name, baseline, tolerance))
    )
    moved = "rose" if higher_is_better(name) else "fell"
    evidence: dict[str, Any] = {
        "passed": audit.passed,
        "leaks": list(audit.leaking_columns),
        "unproven": list(audit.unproven_groups),
        "strong": [s.column for s in audit.strong],
        "sample_rows": audit.sample_rows,
        "metric_jump": jumped,
    }
    if not audit.passed:
        found = [
            f"{leak.column} ({leak.rows_differing}/{leak.rows_compared} rows)"
            for leak in audit.leaks[:5]
        ]
        found += [f"{u.group} reads {u.table}: {u.reason}" for u in audit.unproven[:5]]
        return GateVerdict(
            "no_leakage",
            "refuse",
            f"the candidate reads data recorded after the prediction time: {'; '.join(found)}",
            evidence,
        )
    if jumped and audit.strong:
        return GateVerdict(
            "no_leakage",
            "refuse",
            f"the goal metric ({name}) {moved} from {baseline:.3f} to {value:.3f}, more than"
            f" the tolerance of {tolerance:.3f}, and {len(audit.strong)} feature(s) carry a"
            f" suspiciously strong signal alone ({', '.join(s.column for s in audit.strong[:5])}):"
            " a jump like this is refused until it is explained",
            evidence,
        )
    why = f"no feature reads a later row ({audit.features} features, {audit.sample_rows} rows)"
    if jumped:
        why += (
            f"; the goal metric ({name}) {moved} from {baseline:.4g} to {value:.4g} and the audit"
            " found no"
            " leak and no suspiciously strong feature"
        )
    return GateVerdict("no_leakage", "pass", why, evidence)


DEFAULT_CHECKS: tuple[GateCheck, ...] = (
    run_succeeded,
    data_checks,
    metric,
    no_silent_loss,
    no_leakage,
)
"""The gate every candidate passes, in order; extend by passing more checks to :func:`judge`."""
