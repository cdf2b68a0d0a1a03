"""The goal's assets reach the warehouse, dbt and their artifacts through resources a
deployment can replace; relative paths mean the same files from any working directory."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from dagster_agentic import (
    ArtifactStore,
    GoalError,
    WarehouseError,
    WarehouseResource,
    goal_definitions,
    load_goal_file,
)
from dagster_agentic.agent.planner import ensure_plan
from dagster_agentic.features.dbt_project import dbt_environment
from dagster_agentic.orchestration.gate import sources_asset
from dagster_agentic.orchestration.keys import job_name
from dagster_agentic.orchestration.resources import (
    ARTIFACTS_KEY,
    DBT_KEY,
    WAREHOUSE_KEY,
    version_dbt,
)
from dagster_agentic.plan.store import PlanStore

from .conftest import EXAMPLE_OBJECTIVE, make_goal

RECORDER = """#!{python}
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "env": dict(os.environ)}}) + "\\n")
os.execv({dbt!r}, [{dbt!r}, *sys.argv[1:]])
"""


def _real_dbt() -> str:
    beside = Path(sys.executable).with_name("dbt")
    found = str(beside) if beside.exists() else shutil.which("dbt")
    assert found, "dbt is installed with the package's dependencies"
    return found


def test_a_relative_python_goal_builds_from_another_working_directory(
    warehouse_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Goal(warehouse="warehouse.duckdb")`` means the file in the directory it was declared
    in: the plan, its real ``dbt parse`` and the definitions built later elsewhere agree."""
    declared_in = warehouse_copy.parent
    monkeypatch.chdir(declared_in)
    goal = make_goal(Path("warehouse.duckdb"), state_dir="state")
    assert goal.warehouse == declared_in / "warehouse.duckdb"
    assert goal.resolved_state_dir == declared_in / "state"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    defs = goal_definitions(goal)  # plans: profile, kernel and dbt parse from `elsewhere`
    assert dg.AssetKey(["churn", "model"]) in defs.resolve_asset_graph().get_all_asset_keys()
    bundle = PlanStore.of(goal).load_accepted()
    assert bundle is not None and bundle.manifest.is_file()
    assert bundle.path.is_relative_to(declared_in / "state")
    profile = (bundle.dbt_dir / "profiles.yml").read_text()
    assert str(declared_in / "warehouse.duckdb") in profile
    assert not any(elsewhere.iterdir())  # nothing written where the process happened to be


def test_a_goal_file_is_read_from_a_str_path_relative_to_its_directory(
    warehouse_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    declared = warehouse_copy.parent / "goal.yaml"
    declared.write_text(
        "name: churn\n"
        f"objective: {EXAMPLE_OBJECTIVE}\n"
        "warehouse: warehouse.duckdb\n"
        "state_dir: state\n"
    )
    monkeypatch.chdir(tmp_path.parent)
    goal = load_goal_file(str(declared.relative_to(tmp_path.parent)))
    assert goal.warehouse == warehouse_copy
    assert goal.state_dir == warehouse_copy.parent / "state"
    with pytest.raises(GoalError, match="does not exist"):
        load_goal_file(str(tmp_path / "missing.yaml"))


def test_the_offline_switches_go_to_dbt_not_to_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DBT_SEND_ANONYMOUS_USAGE_STATS", raising=False)
    monkeypatch.delenv("DBT_USE_COLORS", raising=False)
    env = dbt_environment()
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "False"
    assert env["DBT_USE_COLORS"] == "False"
    assert "DBT_SEND_ANONYMOUS_USAGE_STATS" not in os.environ
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "True")  # the user's own choice
    assert dbt_environment()["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "True"


def test_user_resources_run_the_goal_with_their_dbt_and_artifact_store(
    warehouse_copy: Path, tmp_path: Path
) -> None:
    """A real ``dbt build`` through the user's executable (a recorder in front of dbt) and
    global flags, on the plan version's project; models land in the shared artifact store."""
    log = tmp_path / "dbt-calls.jsonl"
    recorder = tmp_path / "bin" / "dbt"
    recorder.parent.mkdir()
    recorder.write_text(RECORDER.format(python=sys.executable, log=str(log), dbt=_real_dbt()))
    recorder.chmod(recorder.stat().st_mode | stat.S_IXUSR)
    shared = tmp_path / "shared"
    goal = make_goal(warehouse_copy)
    bundle = ensure_plan(goal)
    user_dbt = DbtCliResource(
        project_dir=str(bundle.dbt_dir),  # any project: the version's is used
        dbt_executable=str(recorder),
        global_config_flags=["--no-partial-parse"],
    )
    defs = goal_definitions(
        goal,
        resources={
            DBT_KEY: user_dbt,
            ARTIFACTS_KEY: ArtifactStore(base_dir=str(shared)),
            WAREHOUSE_KEY: DuckDBResource(database=str(warehouse_copy)),
        },
    )
    assert isinstance((defs.resources or {})[WAREHOUSE_KEY], WarehouseResource)
    result = defs.resolve_job_def(job_name("churn")).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert result.success
    again = defs.resolve_job_def(job_name("churn")).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert again.success
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    call, _ = [c for c in calls if "build" in c["argv"]]
    # Two builds, one `dbt --version`: the version is asked once per process and executable.
    assert [c["argv"] for c in calls if "--version" in c["argv"]] == [["--version"]]
    assert call["argv"][:2] == ["--no-partial-parse", "--no-use-colors"]
    assert call["env"]["DBT_PROJECT_DIR"] == str(bundle.dbt_dir.resolve())
    assert call["env"]["DBT_SEND_ANONYMOUS_USAGE_STATS"].lower() == "false"
    # The model and its evaluation live in the shared store, and the goal's core reads them
    # there (the same goal as the definitions: PlanStore.of follows the artifacts_dir).
    stored = shared / "churn" / "artifacts" / f"{bundle.version:04d}"
    assert (stored / "evaluation.json").is_file()
    assert not any((goal.resolved_state_dir / "churn" / "artifacts").glob("*/evaluation.json"))
    # The store's model file is the one trained in this run, and no metadata shows its path.
    assert (stored / "training.json").is_file()
    (model,) = result.asset_materializations_for_node("churn__model")
    assert model.metadata["family"].value and not any(
        str(shared) in str(value.value) for value in model.metadata.values()
    )


def test_a_merged_resource_for_another_file_fails_with_a_fix(
    warehouse_copy: Path, tmp_path: Path
) -> None:
    goal = make_goal(warehouse_copy)
    gate = sources_asset(goal, ensure_plan(goal))
    other = tmp_path / "other.duckdb"
    shutil.copy(warehouse_copy, other)
    result = dg.materialize(
        [gate],
        resources={WAREHOUSE_KEY: WarehouseResource(database=str(other))},
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    data = failure.step_failure_data
    assert str(other) in str(data.error) and str(warehouse_copy) in str(data.error)
    assert data.user_failure_data is not None
    assert "goal_definitions(goal, resources=...)" in str(data.user_failure_data.metadata["fix"])


def test_the_warehouse_resource_is_locked_down(warehouse_copy: Path) -> None:
    resource = WarehouseResource(database=str(warehouse_copy))
    with resource.get_connection() as conn:
        assert conn.execute("SELECT count(*) FROM main.customers").fetchone()[0] > 0
        with pytest.raises(duckdb.Error, match="read-only"):
            conn.execute("CREATE TABLE main.x AS SELECT 1")
        with pytest.raises(duckdb.Error):
            conn.execute("SET enable_external_access = true")
    with (
        pytest.raises(WarehouseError, match="not found"),
        WarehouseResource(database=str(warehouse_copy.with_name("no.duckdb"))).get_connection(),
    ):
        pass
    with pytest.raises(ValueError, match="not a DuckDB file"):
        WarehouseResource(database=":memory:")


def test_resources_that_cannot_work_are_refused_with_a_fix(warehouse_copy: Path) -> None:
    goal = make_goal(warehouse_copy)
    with pytest.raises(GoalError, match="connection_config"):
        goal_definitions(
            goal,
            resources={
                WAREHOUSE_KEY: DuckDBResource(
                    database=str(warehouse_copy),
                    connection_config={"enable_external_access": True},
                )
            },
        )
    with pytest.raises(ValueError, match="mount"):
        ArtifactStore(base_dir="s3://bucket/artifacts")


def test_a_user_dbt_resource_keeps_the_version_project(warehouse_copy: Path) -> None:
    goal = make_goal(warehouse_copy)
    bundle = ensure_plan(goal)
    user = DbtCliResource(
        project_dir=str(bundle.dbt_dir),
        dbt_executable=_real_dbt(),
        global_config_flags=["--use-colors"],
    )
    runner = version_dbt(user, bundle)
    assert runner.project_dir == str(bundle.dbt_dir.resolve())
    assert runner.profiles_dir == str(bundle.dbt_dir.resolve())
    assert runner.global_config_flags == ["--use-colors"]  # the user's choice stands
    assert Path(runner.dbt_executable).read_text().startswith("#!")  # behind the launcher
