"""Concurrent runs in real processes: one goal twice, two goals on one DuckDB file, a fresh
Dagster home set up by two processes at once, and lock conflicts reported with a fix."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from dagster_agentic.warehouse.locking import warehouse_lock

from .test_crash_safety import Workspace, make_workspace, start_run

pytestmark = pytest.mark.slow


def _finish(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(timeout=300)
    assert process.returncode in (0, 1), out[-3000:]  # 1: the goal is not met (tiny cohort)
    assert "IOException" not in out and "Traceback" not in out, out[-3000:]
    return out


@pytest.fixture(scope="module")
def shared(pristine_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return make_workspace(pristine_warehouse, tmp_path_factory.mktemp("concurrent"))


@pytest.fixture(scope="module")
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home") / "dagster_home"  # does not exist yet


def test_two_first_runs_of_one_goal_plan_once_and_set_up_one_dagster_home(
    shared: Workspace, dagster_home: Path
) -> None:
    home = {"DAGSTER_HOME": str(dagster_home)}
    first, second = (start_run(shared.goal_file, **home) for _ in range(2))
    outputs = [_finish(first), _finish(second)]
    assert all("plan version  1 " in out for out in outputs), outputs
    store = shared.store
    assert store.versions() == [1] and store.accepted_version() == 1
    with sqlite3.connect(shared.root / ".agentic" / "trace.sqlite") as conn:
        accepted = conn.execute("SELECT count(*) FROM trace WHERE name = 'accept_plan_version'")
        assert accepted.fetchone() == (1,)
    # A later process opens the instance both set up, and sees both runs.
    code = "import dagster as dg; print(len(dg.DagsterInstance.get().get_runs()))"
    later = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **home},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert later.returncode == 0, later.stderr[-3000:]
    assert int(later.stdout.split()[-1]) >= 2


def test_two_goals_on_one_warehouse_file_at_once_both_succeed(
    shared: Workspace, dagster_home: Path
) -> None:
    other = shared.root / "other.yaml"
    document = yaml.safe_load(shared.goal_file.read_text())
    document["attributes"]["name"] = "churn_again"
    other.write_text(yaml.safe_dump(document))
    home = {"DAGSTER_HOME": str(dagster_home)}
    # One goal runs its accepted plan while the other plans and runs, on the same file.
    runs = [start_run(shared.goal_file, **home), start_run(other, **home)]
    outputs = [_finish(run) for run in runs]
    assert all("plan version  1 " in out for out in outputs), outputs
    with duckdb.connect(str(shared.warehouse), read_only=True) as conn:
        schemas = {
            row[0] for row in conn.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()
        }
    assert {"agentic_churn_v1", "agentic_churn_again_v1"} <= schemas


def test_a_run_that_waits_too_long_for_the_warehouse_names_the_holder(shared: Workspace) -> None:
    with warehouse_lock(shared.warehouse, write=True, purpose="a test holding it"):
        process = start_run(shared.goal_file, DAGSTER_AGENTIC_LOCK_TIMEOUT="1")
        out, _ = process.communicate(timeout=120)
    assert process.returncode == 2, out[-3000:]
    assert f"pid {os.getpid()}" in out and "a test holding it" in out
    assert "fix:" in out and "IOException" not in out


def test_a_duckdb_lock_held_outside_the_agent_is_a_warehouse_error(shared: Workspace) -> None:
    with duckdb.connect(str(shared.warehouse)):  # a writer that knows nothing of our lock
        process = start_run(shared.goal_file)
        out, _ = process.communicate(timeout=120)
    assert process.returncode == 2, out[-3000:]
    assert "warehouse" in out and "fix:" in out
    assert "IOException" not in out and "Traceback" not in out
