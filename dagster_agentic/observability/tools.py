"""The agent's tools as ``execute_tool`` spans: training, evaluation, expectations.

``traced`` wraps a step function; the functions below read what is worth auditing from its
arguments (before) and its result (after): the model family kept, the bytes that left the
warehouse, the verdict on the goal, the expectations that failed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from dagster_agentic.observability.spans import PREFIX, tool_span

F = TypeVar("F", bound=Callable[..., Any])


def traced(
    tool: str,
    inputs: Callable[..., dict[str, Any]] | None = None,
    outputs: Callable[[Any], dict[str, Any]] | None = None,
) -> Callable[[F], F]:
    """Run the decorated step in an ``execute_tool <tool>`` span."""

    def wrap(step: F) -> F:
        @functools.wraps(step)
        def run(*args: Any, **kwargs: Any) -> Any:
            with tool_span(tool, inputs(*args, **kwargs) if inputs else None) as span:
                result = step(*args, **kwargs)
                for key, value in (outputs(result) if outputs else {}).items():
                    span.set(key, value)
                return result

        return run  # type: ignore[return-value]

    return wrap


def plan_inputs(plan: Any, *_: Any, **__: Any) -> dict[str, Any]:
    objective = plan.objective
    return {
        PREFIX + "goal": plan.goal,
        PREFIX + "task": objective.task,
        PREFIX + "metric": objective.metric,
        PREFIX + "target": objective.threshold,
        PREFIX + "features": len(plan.feature_columns),
        PREFIX + "candidates": [c.family for c in plan.training.candidates],
    }


def training_outputs(outcome: Any) -> dict[str, Any]:
    return {
        PREFIX + "family": outcome.family,
        PREFIX + "egress_bytes": outcome.egress_bytes,
        PREFIX + "train_rows": outcome.rows.get("train"),
        PREFIX + "seconds": outcome.seconds,
        PREFIX + "valueless": list(outcome.valueless),
    }


def evaluation_outputs(result: dict[str, Any]) -> dict[str, Any]:
    cohort = result.get("cohort_test", {})
    return {
        PREFIX + "value": cohort.get("value"),
        PREFIX + "verdict": cohort.get("verdict"),
        PREFIX + "support": cohort.get("support"),
        PREFIX + "explanation": cohort.get("explanation"),
    }


def frame_inputs(frame: Any, plan: Any, *_: Any, **__: Any) -> dict[str, Any]:
    return {
        PREFIX + "goal": plan.goal,
        PREFIX + "suite": "training_set",
        PREFIX + "rows": len(frame),
    }


def table_inputs(_conn: Any, suite: Any, table: str, **__: Any) -> dict[str, Any]:
    return {
        PREFIX + "suite": "raw_tables",
        PREFIX + "table": table,
        PREFIX + "expectations": len(suite.of(table)),
    }


def results_outputs(results: list[Any]) -> dict[str, Any]:
    failed = [r for r in results if not r.passed]
    return {
        PREFIX + "passed": len(results) - len(failed),
        PREFIX + "failed": [r.expectation.name for r in failed],
        PREFIX + "blocking": [r.expectation.name for r in failed if r.expectation.critical],
    }


def dbt_span(bundle: Any) -> Any:
    """The ``execute_tool dbt`` span of one ``dbt build`` of a plan version's project."""
    return tool_span(
        "dbt",
        {
            PREFIX + "goal": bundle.plan.goal,
            PREFIX + "dbt.command": "build",
            PREFIX + "dbt.project_dir": str(bundle.dbt_dir),
            PREFIX + "dbt.feature_groups": [g.name for g in bundle.plan.feature_groups],
        },
        plan_version=bundle.version,
    )
