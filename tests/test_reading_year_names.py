"""Years the warehouse writes in its names, and words that are not what they look like: two
invented warehouses (real DuckDB files) that keep years in table and column names and hold no
date or year column.

* 'passing by 2020' of ``passed_by_2020`` and 'entries in 2019' of ``entries_2019`` say which
  outcome and which measurement, not which rows; 'the 2022 log' names the table; a time the
  words before it do not tie to a name ('planted in 2019') is still refused;
* a table one hop away named right before its condition ('candidates at centres with 20+
  entries') is that condition's table, no cohort of its own; grades A to E are no initials
  ('big centres' is no grade 'B');
* one piece of a hyphenated word that is a value ('suspicious-vehicle stops') is refused,
  never dropped.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built, assert_same_rows
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_EXAMS = [
    """
    CREATE TABLE exam_centre AS
    SELECT i AS centre_ref,
           CASE i % 4 WHEN 0 THEN 'North' WHEN 1 THEN 'South' WHEN 2 THEN 'East' ELSE 'West' END
               AS region,
           (i * 7) % 30 AS entries_2019
    FROM range(40) t(i)
    """,
    """
    CREATE TABLE exam_candidate AS
    SELECT i AS cand_ref, (i * 13) % 40 AS centre_ref,
           CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS sex,
           round(4 + (i * 37) % 400 / 100.0, 2) AS gcse_avg
    FROM range(900) t(i)
    """,
    """
    CREATE TABLE exam_result AS
    SELECT i AS cand_ref, (i * 17) % 11 AS points,
           CASE (i * 5) % 6 WHEN 0 THEN 'A' WHEN 1 THEN 'B' WHEN 2 THEN 'C' WHEN 3 THEN 'D'
               WHEN 4 THEN 'E' ELSE 'U' END AS grade,
           CASE WHEN (i * 7) % 10 < 4 THEN 1 ELSE 0 END AS passed_by_2020
    FROM range(900) t(i)
    """,
]

_STOPS = [
    """
    CREATE TABLE traffic_stops_2022 AS
    SELECT 'S' || CAST(i AS VARCHAR) AS stop_ref,
           CASE i % 3 WHEN 0 THEN 'Suspicious' WHEN 1 THEN 'Traffic' ELSE 'Equipment' END
               AS reason,
           CASE WHEN (i * 7) % 10 < 2 THEN 'Y' ELSE 'N' END AS person_searched,
           (i * 11) % 5 AS precinct
    FROM range(600) t(i)
    """
]


@pytest.fixture(scope="module")
def exams(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("exams"), "exams", _EXAMS)


@pytest.fixture(scope="module")
def stops(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("stops"), "stops", _STOPS)


@pytest.mark.parametrize("window", ["by 2020", "through 2020"])
def test_a_year_the_target_names_bounds_no_rows(exams: Built, window: str) -> None:
    objective = _read(exams, f"Predict passing {window} for each candidate, ROC AUC of 0.7")
    assert objective.target_column == "passed_by_2020"
    assert objective.cohort_sql is None


def test_a_year_a_named_column_holds_is_that_column(exams: Built) -> None:
    objective = _read(
        exams, "chem points | candidates at centres with 20+ entries in 2019 | MAE <= 2"
    )
    assert objective.target_column == "points"
    assert_same_rows(
        exams,
        "exam_candidate",
        objective.cohort_sql,
        "centre_ref IN (SELECT centre_ref FROM exam_centre WHERE entries_2019 >= 20)",
        900,
    )
    notes = "\n".join(objective.rationale)
    assert "exam_centre.entries_2019" in notes
    assert "names the table the condition right after it reads" in notes


def test_a_year_the_words_before_tie_to_no_name_is_refused(exams: Built) -> None:
    with pytest.raises(ObjectiveError, match="'registered in 2019' reads; date columns: none"):
        _read(exams, "Predict the points of candidates registered in 2019, with an MAE under 2")


def test_grade_letters_are_no_initials(exams: Built) -> None:
    # 'big' would have been grade 'B', 'centres' grade 'C': the words name no value.
    with pytest.raises(ObjectiveError, match="'big' is not a known country or region"):
        _read(exams, "Predict the points of candidates at big centres, with an MAE under 2")


def test_a_year_the_table_names_is_no_condition(stops: Built) -> None:
    objective = _read(
        stops, "Predict whether the person is searched at each stop in the 2022 log, F1 of 0.5"
    )
    assert objective.target_column == "person_searched"
    assert objective.cohort_sql is None
    assert any("table traffic_stops_2022" in n for n in objective.rationale)


def test_a_value_inside_a_hyphenated_word_is_refused(stops: Built) -> None:
    with pytest.raises(ObjectiveError, match=r"'suspicious-vehicle' .*reason"):
        _read(stops, "person searched y/n | suspicious-vehicle stops | accuracy >= 85%")
