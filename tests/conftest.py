"""Shared fixtures: one real tiny warehouse per session, planned once, run once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# No test reaches a real model provider: the model kernel may call loopback servers only.
os.environ["DAGSTER_AGENTIC_MODEL_HOSTS"] = "127.0.0.1"

from dagster_agentic import Goal
from dagster_agentic.plan.models import Plan
from dagster_agentic.plan.store import PlanBundle
from dagster_agentic.runner import RunSummary
from example_churn.warehouse import generate_warehouse
from tests.otlp_receiver import Receiver

EXAMPLE_OBJECTIVE = "Optimise the churn prediction model for 95% precision on European cohorts"


@pytest.fixture(scope="session")
def pristine_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example warehouse at the tiny scale; copy it before writing to it."""
    path = tmp_path_factory.mktemp("pristine") / "warehouse.duckdb"
    generate_warehouse(path, scale="tiny", seed=7)
    return path


@pytest.fixture
def warehouse_copy(pristine_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny warehouse for a test that writes."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(pristine_warehouse, path)
    return path


def add_survey_table(warehouse: Path) -> None:
    """A new source with real signal: satisfaction surveys answered before the prediction time,
    lower (with noise) for customers who go on to churn."""
    import duckdb

    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "CREATE TABLE main.nps_surveys AS SELECT l.customer_id,"
            " l.cutoff_date::TIMESTAMP - INTERVAL (10 + r.range * 40) DAY AS answered_at,"
            " (CASE WHEN l.churned = 1 THEN 4 ELSE 7 END"
            "  + hash(l.customer_id, r.range) % 7 - 3)::INTEGER AS score"
            " FROM main.churn_labels AS l, range(2) AS r"
        )


def loop_instance() -> dg.DagsterInstance:
    """An in-memory Dagster instance, for the tests of what the agent decides (detection,
    diagnosis, repair, the gate): its runs and events are Dagster's own, kept in memory. The
    instance on disk (SQLite storage, sensors, the daemon, killed runs) is exercised in
    tests/test_healing_dagster.py, tests/test_crash_safety.py and tests/test_concurrency.py."""
    return dg.DagsterInstance.ephemeral()


def make_goal(warehouse: Path, **fields: object) -> Goal:
    return Goal(name="churn", objective=EXAMPLE_OBJECTIVE, warehouse=warehouse, **fields)


@pytest.fixture(scope="session")
def session_goal(pristine_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Goal:
    directory = tmp_path_factory.mktemp("session_goal")
    warehouse = directory / "warehouse.duckdb"
    shutil.copy(pristine_warehouse, warehouse)
    return make_goal(warehouse)


@pytest.fixture(scope="session")
def planned(session_goal: Goal) -> PlanBundle:
    """The session goal's first plan version, accepted (profile, kernel, dbt parse: all real)."""
    from dagster_agentic.agent.planner import ensure_plan

    return ensure_plan(session_goal)


@pytest.fixture(scope="session")
def sample_plan(planned: PlanBundle) -> Plan:
    return planned.plan


@pytest.fixture(scope="session")
def session_instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="session")
def goal_run(
    session_goal: Goal, planned: PlanBundle, session_instance: dg.DagsterInstance
) -> RunSummary:
    """One real end-to-end run of the example goal: dbt build, training, evaluation, goal."""
    from dagster_agentic.runner import run_goal

    return run_goal(session_goal, instance=session_instance)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An OTLP/HTTP receiver on 127.0.0.1 for the test's exported spans."""
    found = Receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()
