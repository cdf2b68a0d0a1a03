"""``<goal>/predictions``: the goal's entities scored by its live model, as a warehouse table.

Downstream of ``<goal>`` (the verdict) in the goal's group, so the graph shows where the scores
come from. It is not part of the goal's job or of declarative automation: a run of the goal,
and a healing candidate's gate run above all, never scores. Materialise it from the UI, a
schedule or a sensor of your own, or headless with ``dagster-agentic predict``. Whatever
version the definitions were built from, it scores with the version live when it runs
(:mod:`dagster_agentic.agent.predict`), and its checks are those of the table it wrote.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` annotation of
# asset functions at definition time and needs the real class, not a string.
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from dagster_agentic.goals.spec import Goal
from dagster_agentic.orchestration.keys import goal_key, reported_as_failure
from dagster_agentic.orchestration.resources import (
    ArtifactStore,
    WarehouseResource,
    checked_artifacts,
    checked_warehouse,
)
from dagster_agentic.plan.store import PlanBundle


def predictions_key(goal: str) -> dg.AssetKey:
    return dg.AssetKey([goal, "predictions"])


def _results(key: dg.AssetKey, checks: Any) -> Iterator[dg.AssetCheckResult]:
    for check in checks:
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=check.name,
            passed=check.passed,
            severity=dg.AssetCheckSeverity.ERROR if check.critical else dg.AssetCheckSeverity.WARN,
            description=check.description,
            metadata={"observed": dg.MetadataValue.json(check.observed)},
        )


def predictions_asset(goal: Goal, bundle: PlanBundle) -> dg.AssetsDefinition:
    from dagster_agentic.agent.planner import agent_schema
    from dagster_agentic.agent.prediction_table import CHECKS, PREDICTIONS_TABLE

    key = predictions_key(goal.name)
    table = f"{agent_schema(goal)}.{PREDICTIONS_TABLE}"
    specs = [
        dg.AssetCheckSpec(name, asset=key, description=description, metadata={"critical": critical})
        for name, critical, description in CHECKS
    ]

    @dg.asset(
        key=key,
        deps=[goal_key(goal.name)],
        check_specs=specs,
        group_name=goal.name,
        kinds={"duckdb", "python"},
        description=f"The goal's entities scored by its live model, written to {table}"
        " (entity_id, score, predicted, plan_version, scored_at, as_of).",
        metadata={"dagster/table_name": table},
    )
    def _predictions(
        context: AssetExecutionContext,
        agentic_warehouse: WarehouseResource,
        agentic_artifacts: ArtifactStore,
    ) -> Iterator[Any]:
        from dagster_agentic.agent.predict import PredictionsRefused, predict_goal
        from dagster_agentic.plan.store import PlanStore

        # The goal carries the resources' paths (goal_definitions): the live model is read
        # from the artifact store, the scores written to the warehouse, whatever the process.
        checked_warehouse(agentic_warehouse, goal)
        checked_artifacts(
            agentic_artifacts, bundle, PlanStore.of(goal).artifacts_dir(bundle.version)
        )

        try:
            with reported_as_failure():
                outcome = predict_goal(goal)
        except dg.Failure as failure:
            if isinstance(failure.__cause__, PredictionsRefused):
                yield from _results(key, failure.__cause__.checks)  # why nothing was written
            raise
        yield from _results(key, outcome.checks)
        if outcome.plan_version != bundle.version:
            context.log.info(
                f"scored with live version {outcome.plan_version}; these definitions are of"
                f" version {bundle.version}"
            )
        yield dg.MaterializeResult(
            metadata={
                "plan_version": outcome.plan_version,
                "definitions_version": bundle.version,
                "dagster/row_count": outcome.rows,
                "dagster/table_name": table,
                "selection": outcome.selection,
                "task": outcome.task,
                "threshold": "none" if outcome.threshold is None else outcome.threshold,
                "verdict": outcome.verdict or "unknown",
                "as_of": outcome.as_of.isoformat() if outcome.as_of else "no cutoff",
                "scored_at": outcome.scored_at.isoformat(),
                "latest_label_cutoff": outcome.latest_cutoff or "none",
                "distribution": dg.MetadataValue.json(outcome.distribution),
                "egress_bytes": outcome.egress_bytes,
                "notes": dg.MetadataValue.json(list(outcome.notes)),
            }
        )

    return _predictions
