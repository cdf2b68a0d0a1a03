"""Warehouses held wide and with dimensions: a year written into the target's name is part
of the outcome, not a cohort; a value of several words written in lower case is read or
refused; a small dimension's columns are never the outcome."""

from __future__ import annotations

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> WarehouseProfile:
    """Staff, an education dimension keyed by code, and one wide table of 2019 outcomes."""
    path = tmp_path_factory.mktemp("wide") / "panel.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE edu_levels AS SELECT * FROM (VALUES ('E1', 'Elementary', 'N'),"
            " ('E2', 'Some high school', 'N'), ('E3', 'High school diploma', 'N'),"
            " ('E4', 'Some college', 'Y'), ('E5', 'College degree', 'Y'))"
            " v(edu_code, edu_name, is_tertiary)"
        )
        conn.execute(
            "CREATE TABLE staff AS SELECT 1000 + i AS staff_no,"
            " CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS sex,"
            " 'E' || CAST(1 + i % 5 AS VARCHAR) AS edu_code, 8 + i % 10 AS school_years"
            " FROM range(700) t(i)"
        )
        conn.execute(
            "CREATE TABLE pay2019 AS SELECT 1000 + i AS staff_no,"
            " 6.0 + ((i * 37) % 100) / 50.0 AS LogPay2019,"
            " CASE WHEN (i * 11) % 5 < 2 THEN 'yes' ELSE 'no' END AS Union2019"
            " FROM range(700) t(i)"
        )
    return profile_warehouse(Warehouse(path))


def test_a_year_written_into_the_targets_name_is_no_cohort(panel: WarehouseProfile) -> None:
    objective = interpret_objective(
        "Predict each staff member's log pay in 2019. The RMSE should be under 0.3.",
        panel,
        GoalOverrides(),
    )
    assert (objective.label_table, objective.target_column) == ("pay2019", "LogPay2019")
    assert objective.cohort_sql is None
    assert any("the year in the target's name LogPay2019" in n for n in objective.rationale)


def test_a_value_of_several_lower_case_words_no_cohort_reads_is_refused(
    panel: WarehouseProfile,
) -> None:
    with pytest.raises(ObjectiveError) as raised:
        interpret_objective(
            "2019 log pay, staff college degree holders, MAE .25", panel, GoalOverrides()
        )
    assert "college degree" in str(raised.value) and "edu_levels.edu_name" in str(raised.value)


def test_the_shorthand_with_reads_the_value(panel: WarehouseProfile) -> None:
    objective = interpret_objective(
        "2019 log pay, staff w/ a college degree, MAE .25", panel, GoalOverrides()
    )
    assert objective.cohort_sql is not None and "'College degree'" in objective.cohort_sql
    assert "read 'w/' as 'with': a shorthand written out" in objective.rationale


def test_a_small_dimensions_column_is_never_the_outcome(panel: WarehouseProfile) -> None:
    """A reading of ``edu_levels.is_tertiary`` would train on its five rows; the goal is
    refused instead, naming the yes/no column it could not read as the staff's outcome."""
    with pytest.raises(ObjectiveError) as raised:
        interpret_objective(
            "Predict whether a staff member's education is tertiary, accuracy 80%",
            panel,
            GoalOverrides(),
        )
    assert "edu_levels.is_tertiary" in str(raised.value)
