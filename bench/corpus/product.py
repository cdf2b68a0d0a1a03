"""The product's side of the corpus benchmark: one goal run headless with no overrides.

Only the public API is used: ``dagster_agentic.Goal`` and ``run_goal`` on a private copy of
the warehouse, then what the run published: the goal and evaluation assets' metadata in the
Dagster instance, and the accepted plan's training set in the warehouse (its rows and split are
what the peers are measured on). Any failure, the product's or the harness's, is recorded with
its message and the benchmark goes on with the next goal.
"""

from __future__ import annotations

import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from bench.corpus.goals import CorpusGoal

ROW_COLUMNS = ("entity_id", "cutoff_at", "label", "split", "in_cohort")


@dataclass
class ProductRun:
    ok: bool
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)
    goal_metadata: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    rows: pd.DataFrame | None = None
    """entity_id, y, split of the product's training set (y in the peers' encoding)."""
    features: pd.DataFrame | None = None
    """The product's feature matrix, keyed entity_id."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
            "summary": self.summary,
            "goal": self.goal_metadata,
            "evaluation": self.evaluation,
            "error": self.error,
            "training_rows": None if self.rows is None else len(self.rows),
            "product_features": None if self.features is None else len(self.features.columns) - 1,
        }


def _plain(value: Any) -> Any:
    """Dagster metadata values as JSON-able data."""
    inner = getattr(value, "value", value)
    if isinstance(inner, dict):
        return {str(k): _plain(v) for k, v in inner.items()}
    if isinstance(inner, list | tuple):
        return [_plain(v) for v in inner]
    if isinstance(inner, str | int | float | bool) or inner is None:
        return inner
    return str(inner)


def _metadata(instance: Any, key: list[str], wanted: tuple[str, ...]) -> dict[str, Any]:
    import dagster as dg

    event = instance.get_latest_materialization_event(dg.AssetKey(key))
    if event is None or event.asset_materialization is None:
        return {}
    metadata = event.asset_materialization.metadata
    return {name: _plain(metadata[name]) for name in wanted if name in metadata}


GOAL_FIELDS: tuple[str, ...] = ("status", "metric", "target", "value", "verdict", "interval")
GOAL_FIELDS += ("why", "cohort", "model_family", "egress_bytes", "warehouse_bytes", "trivial")
EVALUATION_FIELDS: tuple[str, ...] = ("value", "verdict", "interval", "all_test")
EVALUATION_FIELDS += ("cohort_test_rows", "precision", "recall", "threshold")


def _training_set(goal: Any, warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The accepted plan's training set: (rows in the peers' encoding, feature matrix)."""
    from dagster_agentic.features.dbt_project import training_set_model
    from dagster_agentic.plan.store import PlanStore

    bundle = PlanStore(goal.resolved_state_dir, goal.name).load_accepted()
    if bundle is None:
        return None
    plan = bundle.plan
    relation = f'"{plan.models_schema}"."{training_set_model(plan.goal)}"'
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        frame = conn.execute(f"SELECT * FROM {relation}").df()
    objective = plan.objective
    if objective.task == "multiclass_classification":
        classes = [str(c) for c in objective.classes]
        y = frame["label"].map(lambda i: classes[int(i)])
    elif objective.task == "regression":
        y = frame["label"].astype(float)
    else:
        y = frame["label"].astype(int)
    rows = pd.DataFrame({"entity_id": frame["entity_id"], "y": y, "split": frame["split"]})
    features = frame.drop(columns=[c for c in ROW_COLUMNS if c in frame.columns])
    features.insert(0, "entity_id", frame["entity_id"])
    return rows, features


def run_product(goal_spec: CorpusGoal, source: Path, work: Path) -> ProductRun:
    """Run one goal with no overrides on a copy of ``source`` under ``work``."""
    started = time.perf_counter()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    warehouse = work / "warehouse.duckdb"
    shutil.copy(source, warehouse)
    instance = None
    try:
        import dagster as dg

        import dagster_agentic as da

        goal = da.Goal(
            name=goal_spec.id,
            objective=goal_spec.objective,
            warehouse=warehouse,
            state_dir=work / "state",
        )
        instance = dg.DagsterInstance.ephemeral()
        summary = da.run_goal(goal, instance=instance, log_level="WARNING")
        run = ProductRun(
            ok=bool(summary.success),
            seconds=0.0,
            summary={
                "status": summary.status,
                "metric": summary.metric,
                "target": summary.target,
                "value": summary.value,
                "cohort": summary.cohort,
                "why": summary.why,
                "plan_version": summary.plan_version,
                "egress_bytes": summary.egress_bytes,
                "warehouse_bytes": summary.warehouse_bytes,
                "wall_seconds": round(summary.wall_seconds, 2),
                "failed_step": summary.failed_step,
                "checks_failed": sorted(k for k, v in summary.checks.items() if not v),
            },
            goal_metadata=_metadata(instance, [goal.name], GOAL_FIELDS),
            evaluation=_metadata(instance, [goal.name, "evaluation"], EVALUATION_FIELDS),
        )
        if not summary.success:
            run.error = summary.why
        try:
            trained = _training_set(goal, warehouse)
        except Exception as error:  # no training set: the run stopped before dbt built it
            trained = None
            run.error = run.error or f"training set unreadable: {error}"
        if trained is not None:
            run.rows, run.features = trained
    except Exception as error:  # the product's error (or the harness's): recorded, never fatal
        run = ProductRun(
            ok=False,
            seconds=0.0,
            error=f"{type(error).__name__}: {error}"[:2000],
            summary={"traceback": traceback.format_exc()[-3000:]},
        )
    finally:
        if instance is not None:
            instance.dispose()
    run.seconds = time.perf_counter() - started
    return run
