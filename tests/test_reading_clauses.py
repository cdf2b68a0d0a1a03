"""A relative clause on the population that names rows is read or refused, never dropped;
numbers listed after a column's noun ('satisfaction 4 or 5') are each read."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse


@pytest.fixture(scope="module")
def charity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    """Volunteers, their weekly rota (a child table) and whether they quit."""
    path = tmp_path_factory.mktemp("clauses") / "charity.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE volunteers AS SELECT 500 + i AS volunteer_no,"
            " 18 + (i * 7) % 60 AS age,"
            " 1 + (i * 3) % 5 AS satisfaction,"
            " ['north', 'south', 'east'][1 + i % 3] AS branch,"
            " CASE WHEN (i * 11) % 7 < 2 THEN 1 ELSE 0 END AS quit"
            " FROM range(900) t(i)"
        )
        conn.execute(
            "CREATE TABLE rota_weeks AS SELECT 500 + i AS volunteer_no, w AS week_no,"
            " CASE WHEN (i + w) % 3 = 0 THEN 'yes' ELSE 'no' END AS turned_up"
            " FROM range(900) t(i), range(1, 9) s(w)"
        )
    return path, profile_warehouse(Warehouse(path))


def _read(profile: WarehouseProfile, text: str) -> Objective:
    return interpret_objective(text, profile, GoalOverrides())


def _count(path: Path, where: str) -> int:
    with duckdb.connect(str(path), read_only=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM volunteers WHERE {where}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    "objective",
    [
        "Predict which volunteers quit, ROC AUC 0.7, for people who had a shift in their"
        " first week.",
        "Which volunteers will quit? Only for volunteers that came along every fortnight."
        " Recall of 0.6.",
    ],
)
def test_a_clause_no_column_reads_is_refused_and_quoted(
    charity: tuple[Path, WarehouseProfile], objective: str
) -> None:
    _, profile = charity
    with pytest.raises(ObjectiveError) as raised:
        _read(profile, objective)
    message = str(raised.value)
    clause = objective.split(" who " if " who " in objective else " that ")[1].split(".")[0]
    assert clause.split()[0] in message and "every row" in message
    assert "cohort=" in (raised.value.fix or "")


def test_a_clause_about_the_outcome_is_the_target_not_a_cohort(
    charity: tuple[Path, WarehouseProfile],
) -> None:
    _, profile = charity
    objective = _read(profile, "Flag the volunteers who will quit, at 0.6 recall")
    assert objective.target_column == "quit" and objective.cohort_sql is None


def test_a_clause_a_condition_reads_is_the_cohort(
    charity: tuple[Path, WarehouseProfile],
) -> None:
    path, profile = charity
    objective = _read(
        profile, "Predict which volunteers quit for those who are older than 40; F1 0.5"
    )
    assert objective.cohort_sql is not None
    assert _count(path, objective.cohort_sql) == _count(path, "age > 40")


@pytest.mark.parametrize(
    ("words", "values"),
    [("satisfaction 4 or 5", (4, 5)), ("satisfaction 1, 2 or 3", (1, 2, 3))],
)
def test_listed_numbers_after_a_columns_noun_are_each_read(
    charity: tuple[Path, WarehouseProfile], words: str, values: tuple[int, ...]
) -> None:
    path, profile = charity
    objective = _read(profile, f"quit | volunteers with {words} | recall 0.6")
    assert objective.cohort_sql is not None and " IN (" in objective.cohort_sql
    listed = ", ".join(map(str, values))
    assert _count(path, objective.cohort_sql) == _count(path, f"satisfaction IN ({listed})")
    assert any(f"{listed} are in the range" in line for line in objective.rationale)
