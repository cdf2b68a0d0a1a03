"""Values stored as short codes or with list numbers are read from the words people write,
and words before a condition that name no column are a cohort of their own, never dropped."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    path = tmp_path_factory.mktemp("codes") / "survey.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE panel AS SELECT i AS panel_no,"
            " ['norw', 'swed', 'dani', 'other'][1 + i % 4] AS nationality,"
            " ['1_nurse', '2_porter', '0_none'][1 + i % 3] AS role_cd,"
            " 20 + i % 45 AS age_yrs,"
            " CASE WHEN (i * 5) % 7 < 3 THEN 'yes' ELSE 'no' END AS volunteered"
            " FROM range(1200) t(i)"
        )
    return path, profile_warehouse(Warehouse(path))


def _count(path: Path, where: str | None) -> int:
    with duckdb.connect(str(path), read_only=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM panel WHERE {where}").fetchone()
    assert row is not None
    return int(row[0])


def _read(found: tuple[Path, WarehouseProfile], text: str) -> str | None:
    return interpret_objective(text, found[1], GoalOverrides()).cohort_sql


def test_a_word_whose_start_is_a_stored_code_reads_that_code(
    survey: tuple[Path, WarehouseProfile],
) -> None:
    for text in (
        "Which panel members volunteered, for Norwegian members? F1 of 0.6",
        "volunteered | norwegian panel members | F1 0.6",
    ):
        assert _read(survey, text) == "nationality = 'norw'"


def test_a_value_with_a_list_number_is_read_by_its_words(
    survey: tuple[Path, WarehouseProfile],
) -> None:
    path = survey[0]
    sql = _read(survey, "Which panel members who work as a porter volunteered? F1 of 0.6")
    assert sql is not None and "'2_porter'" in sql
    assert _count(path, sql) == 400


def test_words_before_a_condition_that_name_no_column_are_read_too(
    survey: tuple[Path, WarehouseProfile],
) -> None:
    path = survey[0]
    sql = _read(survey, "Which swedish panel members aged 30 to 40 volunteered? F1 of 0.6")
    assert sql is not None and "'swed'" in sql and "age_yrs" in sql
    expected = sum(1 for i in range(1200) if i % 4 == 1 and 30 <= 20 + i % 45 <= 40)
    assert _count(path, sql) == expected


def test_a_word_the_codes_do_not_spell_is_refused_not_dropped(
    survey: tuple[Path, WarehouseProfile],
) -> None:
    with pytest.raises(ObjectiveError):
        _read(survey, "Which Finnish panel members volunteered? F1 of 0.6")
