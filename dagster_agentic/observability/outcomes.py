"""What a goal run and a healing episode concluded, as attributes of their spans."""

from __future__ import annotations

from typing import Any

from dagster_agentic.observability.spans import PREFIX, Span


def record_summary(span: Span, summary: Any) -> None:
    """A goal run's result on its root span: the verdict, the bytes, what the model cost."""
    span.plan_version = summary.plan_version
    for key, value in (
        ("plan_version", summary.plan_version),
        ("run_id", summary.run_id),
        ("status", summary.status),
        ("success", summary.success),
        ("metric", summary.metric),
        ("target", summary.target),
        ("value", summary.value),
        ("egress_bytes", summary.egress_bytes),
        ("warehouse_bytes", summary.warehouse_bytes),
        ("healing", getattr(summary.healing, "status", None)),
    ):
        span.set(PREFIX + key, value)
    spend = summary.model_spend or {}
    if spend:
        span.set("gen_ai.usage.input_tokens", spend.get("input_tokens"))
        span.set("gen_ai.usage.output_tokens", spend.get("output_tokens"))
        span.set(PREFIX + "model.calls", spend.get("calls"))
        span.set(PREFIX + "model.usd", spend.get("usd"))


def record_healing(span: Span, outcome: Any) -> None:
    """A healing episode's outcome, with each repair tried and the gate's verdicts on it."""
    for key in ("status", "live_before", "live_after"):
        span.set(PREFIX + key, getattr(outcome, key))
    span.set(PREFIX + "causes", sorted({d.cause for d in outcome.diagnoses}))
    span.set(PREFIX + "attempts", len(outcome.attempts))
    verdicts = []
    for attempt in outcome.attempts:
        gate = [f"{v['check']}: {v['verdict']}" for v in attempt.gate]
        verdicts += [f"v{attempt.version}: {line}" for line in gate]
        span.event(
            PREFIX + "attempt",
            {
                PREFIX + "action": attempt.action,
                PREFIX + "plan_version": attempt.version,
                PREFIX + "accepted": attempt.accepted,
                PREFIX + "why": attempt.why,
                PREFIX + "gate": gate,
            },
        )
    span.set(PREFIX + "gate", verdicts)
