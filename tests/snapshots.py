"""A goal planned and materialised green on a copy of the example warehouse, snapshotted, so
each test breaks and heals the same healthy state. Tests restore the snapshot at the same
path: plan versions name their warehouse by path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dagster_agentic.goals.spec import Goal
from dagster_agentic.healing.loop import failed_data_checks
from dagster_agentic.runner import run_goal

from .conftest import loop_instance


@dataclass(frozen=True)
class Healthy:
    work: Path
    snapshot: Path
    version: int
    value: float


def green_snapshot(pristine: Path, root: Path, make_goal: Callable[[Path], Goal]) -> Healthy:
    work = root / "work"
    work.mkdir()
    shutil.copy(pristine, work / "warehouse.duckdb")
    goal = make_goal(work / "warehouse.duckdb")
    with loop_instance() as instance:
        summary = run_goal(goal, instance=instance, log_level="ERROR")
    assert summary.success and not failed_data_checks(summary), summary.render()
    assert summary.value is not None
    snapshot = root / "snapshot"
    shutil.copytree(work, snapshot)
    return Healthy(work, snapshot, summary.plan_version, summary.value)


def restore(healthy: Healthy) -> Path:
    shutil.rmtree(healthy.work)
    shutil.copytree(healthy.snapshot, healthy.work)
    return healthy.work / "warehouse.duckdb"


def with_retention_calls(pristine: Path, path: Path) -> Path:
    """A copy of the example warehouse with a table recorded before each cutoff (no leak by
    time) whose ``outcome`` all but states the label: a feature too good to be true."""
    import duckdb

    shutil.copy(pristine, path)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE retention_calls AS SELECT l.customer_id,"
            " CAST(l.cutoff_date AS TIMESTAMP) - INTERVAL (3 + r.range) DAY AS called_at,"
            " CASE WHEN l.churned = 1 THEN 'lost' ELSE 'kept' END AS outcome"
            " FROM churn_labels AS l, range(2) AS r"
        )
    return path
