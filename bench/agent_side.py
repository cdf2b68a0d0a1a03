"""The agent's side: plan a goal, compute its features in DuckDB, build with dbt, fetch.

Only the package's public planning and SQL-rendering functions are used, so the harness keeps
working while the kernel's feature proposal and selection change.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from bench.datasets import Dataset

if TYPE_CHECKING:
    from dagster_agentic import Goal, Plan
    from dagster_agentic.plan.store import PlanBundle

ID_COLUMNS = ("entity_id", "label", "split")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Planned:
    bundle: PlanBundle
    seconds: float

    @property
    def plan(self) -> Plan:
        return self.bundle.plan


def fresh_copy(dataset: Dataset) -> Path:
    """A private, writable copy of the data set's warehouse, with a clean state dir."""
    shutil.rmtree(dataset.work_dir, ignore_errors=True)
    dataset.work_dir.mkdir(parents=True)
    copy = dataset.work_dir / "warehouse.duckdb"
    shutil.copy(dataset.source, copy)
    return copy


def make_goal(dataset: Dataset, warehouse: Path) -> Goal:
    from dagster_agentic import Goal, GoalOverrides

    return Goal(
        name=dataset.goal_name,
        objective=dataset.objective,
        warehouse=warehouse,
        overrides=GoalOverrides(
            target=dataset.target, entity_table=dataset.entity_table, metric="roc_auc"
        ),
        state_dir=dataset.work_dir / "state",
    )


def plan(goal: Goal) -> Planned:
    """Profiling, relationship discovery, proposal and in-warehouse screening, timed."""
    from dagster_agentic.agent.planner import plan_goal

    started = time.perf_counter()
    bundle = plan_goal(goal)
    return Planned(bundle, time.perf_counter() - started)


def feature_statements(plan: Plan) -> list[str]:
    """Schema, one table per feature group, then the training set: plain warehouse names."""
    from dagster_agentic.features.dbt_project import training_set_model
    from dagster_agentic.features.sql import (
        feature_group_sql,
        model_name,
        training_set_sql,
        warehouse_ref,
    )

    ref = warehouse_ref(plan.warehouse_schema, plan.models_schema)
    schema = plan.models_schema
    statements = [f'CREATE SCHEMA IF NOT EXISTS "{schema}"']
    for group in plan.feature_groups:
        name = model_name(plan.goal, group.name)
        sql = feature_group_sql(plan.objective, group, ref)
        statements.append(f'CREATE OR REPLACE TABLE "{schema}"."{name}" AS {sql}')
    training = training_set_model(plan.goal)
    statements.append(
        f'CREATE OR REPLACE TABLE "{schema}"."{training}" AS {training_set_sql(plan, ref)}'
    )
    return statements


def compute_features(plan: Plan, warehouse: Path, threads: int | None = None) -> float:
    """Seconds to compute every feature group and the training set in DuckDB.

    ``threads`` limits DuckDB's threads (default: one per core).
    """
    statements = feature_statements(plan)
    with duckdb.connect(str(warehouse)) as conn:
        if threads is not None:
            conn.execute(f"SET threads = {int(threads)}")
        started = time.perf_counter()
        for statement in statements:
            conn.execute(statement)
        seconds = time.perf_counter() - started
    return seconds


def dbt_build(bundle: PlanBundle) -> dict[str, Any]:
    """The product path: ``dbt build`` of the generated project (models and their tests)."""
    from dagster_agentic.features.dbt_project import dbt_executable

    project = str(bundle.dbt_dir)
    command = [dbt_executable(), "build", "--project-dir", project, "--profiles-dir", project]
    env = {**os.environ, "DBT_USE_COLORS": "False", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    seconds = time.perf_counter() - started
    output = _ANSI.sub("", done.stdout + done.stderr)
    tail = output.strip().splitlines()[-3:]
    return {"seconds": seconds, "ok": done.returncode == 0, "summary": tail}


def training_relation(plan: Plan) -> str:
    from dagster_agentic.features.dbt_project import training_set_model

    return f'"{plan.models_schema}"."{training_set_model(plan.goal)}"'


def fetch_training_matrix(plan: Plan, warehouse: Path) -> pd.DataFrame:
    """What leaves the warehouse for training: id, label, split and the selected features.

    Numeric features leave as 4-byte floats, as the product fetches them.
    """
    categorical = set(plan.categorical_columns)
    features = [
        f'"{c}"' if c in categorical else f'CAST("{c}" AS FLOAT) AS "{c}"'
        for c in plan.feature_columns
    ]
    sql = (
        f"SELECT {', '.join([*ID_COLUMNS, *features])} FROM {training_relation(plan)} "
        "ORDER BY entity_id, cutoff_at"
    )
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).df()


def egress(plan: Plan, warehouse: Path, frame: pd.DataFrame) -> dict[str, int]:
    """What a goal run lets leave the warehouse: the product's own fetch, counted by its ledger.

    ``load_training_set`` moves codes (4-byte floats, 1-byte label/split, 2-byte categories plus
    their dictionary) and at most ``max_train_rows`` training rows. The benchmark's learner uses
    the full matrix (``frame``, every train row, as pandas holds it) so both sides train on
    identical rows; its pandas size is reported alongside.
    """
    from dagster_agentic.agent.steps import load_training_set
    from dagster_agentic.warehouse.connection import EgressLedger, Warehouse

    ledger = EgressLedger()
    fetched = load_training_set(plan, Warehouse(warehouse), ledger)
    return {
        "bytes": ledger.total_bytes,
        "rows": len(fetched),
        "columns": len(plan.feature_columns) + len(ID_COLUMNS),
        "full_matrix_pandas_bytes": int(frame.memory_usage(deep=True).sum()),
        "full_matrix_rows": len(frame),
    }


def screening_summary(bundle: PlanBundle) -> dict[str, Any] | None:
    """How many candidates the planner screened and why it dropped the others, if it says.

    Read from the bundle's screening.json when there is one (its format is the planner's
    own, so anything unexpected gives None rather than an error).
    """
    path = bundle.path / "screening.json"
    try:
        decisions = json.loads(path.read_text())["selection"]["decisions"]
        dropped = Counter(d["rule"] for d in decisions if not d["keep"])
        return {"candidates": len(decisions), "dropped_by_rule": dict(dropped)}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def plan_summary(planned: Planned) -> dict[str, Any]:
    plan = planned.plan
    warehouse_bytes = getattr(plan, "warehouse_bytes", None)
    return {
        "plan_seconds": planned.seconds,
        "plan_version": planned.bundle.version,
        "screening": screening_summary(planned.bundle),
        "n_features": len(plan.feature_columns),
        "feature_columns": list(plan.feature_columns),
        "groups": {
            g.name: {"kind": g.kind, "source_table": g.source_table, "n_features": len(g.features)}
            for g in plan.feature_groups
        },
        "package_raw_estimate_bytes": {t.name: t.memory_bytes for t in plan.raw_tables},
        "package_warehouse_estimate_bytes": warehouse_bytes,
        "objective": plan.objective.model_dump(mode="json", exclude={"rationale"}),
    }
