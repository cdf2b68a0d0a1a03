"""Some or none of an amount, with no number written, and the goal's other words around it:
an invented recipe lab (a real DuckDB file) whose table is named by several words, and a
trial whose outcome table references its animals.

* 'recipes that contain rye flour but no malt' reads RYE_FLOUR_G > 0 and MALT_G = 0;
  'calves getting any zinc' reads a column one hop away;
* an amount that is never zero cannot say 'none' and is refused;
* 'Our QA team signs off ...' is who asks, not a country (Qatar) nor a cohort, while 'the
  placebo group' is rows where 'placebo' is a value;
* the key other tables point at is never the outcome, and a number the objective writes
  names the one column of the task's kind whose name holds it.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built, assert_same_rows
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_LAB = [
    """
    CREATE TABLE BAKERY_LAB_TRIALS AS
    SELECT 'R-' || lpad(CAST(i AS VARCHAR), 4, '0') AS RECIPE_ID,
           300 + (i * 7) % 200 AS WHEAT_FLOUR_G,
           CASE WHEN i % 3 = 0 THEN 0 ELSE (i * 11) % 120 + 1 END AS RYE_FLOUR_G,
           CASE WHEN i % 4 = 0 THEN 0 ELSE (i * 5) % 30 + 1 END AS MALT_G,
           5 + (i * 3) % 20 AS SALT_G,
           round(2 + (i * 13) % 400 / 100.0, 2) AS LOAF_VOLUME_L
    FROM range(500) t(i)
    """
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("lab"), "bakery_lab", _LAB)


def test_some_of_one_amount_and_none_of_another(lab: Built) -> None:
    objective = _read(
        lab,
        "Our QA team signs off loaves by hand. Estimate the loaf volume of a recipe; only "
        "look at recipes that contain rye flour but no malt. An R-squared of 0.8 is the bar.",
    )
    assert objective.target_column == "LOAF_VOLUME_L"
    assert_same_rows(
        lab, "BAKERY_LAB_TRIALS", objective.cohort_sql, "RYE_FLOUR_G > 0 AND MALT_G = 0", 500
    )
    assert not any("Qatar" in note for note in objective.rationale)


def test_an_amount_that_is_never_zero_cannot_say_none(lab: Built) -> None:
    with pytest.raises(ObjectiveError, match="SALT_G"):
        _read(lab, "Estimate the loaf volume of recipes that contain malt but no salt, R² 0.8")


def test_a_country_code_is_still_a_country_where_nothing_else_reads(lab: Built) -> None:
    with pytest.raises(ObjectiveError, match="Germany"):
        _read(lab, "Estimate the loaf volume of recipes from Germany, R² 0.8")


_TRIAL = [
    """
    CREATE TABLE rations AS
    SELECT * FROM (VALUES ('Z0', 0), ('Z50', 50), ('Z100', 100)) v(pk_ration, zinc_mg)
    """,
    """
    CREATE TABLE calves AS
    SELECT 7001 + i * 3 AS pk_calf,
           CASE i % 3 WHEN 0 THEN 'Z0' WHEN 1 THEN 'Z50' ELSE 'Z100' END AS fk_ration,
           30 + (i * 7) % 15 AS birth_kg,
           CASE WHEN i % 2 = 0 THEN 'placebo' ELSE 'probiotic' END AS arm
    FROM range(90) t(i)
    """,
    """
    CREATE TABLE outcomes AS
    SELECT 7001 + i * 3 AS fk_calf, 80 + (i * 13) % 40 AS week8_kg,
           CASE WHEN i % 5 = 0 THEN 'Y' ELSE 'N' END AS sick_by_day30
    FROM range(90) t(i)
    """,
]


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("trial"), "calf_trial", _TRIAL)


def test_an_amount_one_hop_away_and_no_key_as_the_outcome(trial: Built) -> None:
    objective = _read(trial, "weight (week 8), R² .5, calves getting any zinc")
    assert objective.target_column == "week8_kg"
    assert_same_rows(trial, "calves", objective.cohort_sql, "fk_ration <> 'Z0'", 90)


def test_a_number_in_a_name_names_the_outcome(trial: Built) -> None:
    objective = _read(trial, "Predict whether a calf falls ill within 30 days, ROC AUC 0.7")
    assert objective.target_column == "sick_by_day30"
    assert any("holds the number '30'" in n for n in objective.rationale)


def test_a_group_the_warehouse_holds_is_still_a_cohort(trial: Built) -> None:
    objective = _read(trial, "The vet team wants, for the placebo group, the week 8 weight; R² .5")
    assert objective.target_column == "week8_kg"
    assert_same_rows(trial, "calves", objective.cohort_sql, "arm = 'placebo'", 90)
