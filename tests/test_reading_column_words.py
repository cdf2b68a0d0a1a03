"""Words a sentence uses as function words or as the population, that a column's name holds:
an invented football archive (a real DuckDB file) of matches, their results and the clubs'
standings, where 'goals' is elsewhere a word of 'our goal is ...' and 'home' a population
noun ('homes').

* 'how many goals does the home side score' names home_goals, not goals_for of the
  standings nor a tie of every goals column;
* 'guests arriving on a weekend' keeps 'guests' the population (a verb comes after it);
* 'only seasons since the new rule came in' restricts the rows: refused when nothing reads
  it, never dropped.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_FOOTBALL = [
    """
    CREATE TABLE fixture AS
    SELECT i AS fixture_sk, 1980 + i % 20 AS season_sk, 1 + i % 34 AS matchday,
           100 + i % 18 AS home_club_sk, 100 + (i + 5) % 18 AS away_club_sk
    FROM range(2000) t(i)
    """,
    """
    CREATE TABLE fixture_result AS
    SELECT i AS fixture_sk, (i * 7) % 6 AS home_goals, (i * 11) % 5 AS away_goals,
           CASE (i * 13) % 3 WHEN 0 THEN 'H' WHEN 1 THEN 'D' ELSE 'A' END AS ft_result
    FROM range(2000) t(i)
    """,
    """
    CREATE TABLE standing AS
    SELECT 1980 + i % 20 AS season_sk, 1 + i % 34 AS matchday, 100 + i % 18 AS club_sk,
           (i * 3) % 80 AS goals_for, (i * 5) % 70 AS goals_against, i % 18 + 1 AS table_pos
    FROM range(4000) t(i)
    """,
]


@pytest.fixture(scope="module")
def football(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("football"), "football", _FOOTBALL)


def test_counted_goals_of_the_home_side(football: Built) -> None:
    objective = _read(football, "how many goals does the home side score? MAE 1.0 goals")
    assert (objective.label_table, objective.target_column) == ("fixture_result", "home_goals")


def test_a_restriction_on_the_seasons_nothing_reads_is_refused(football: Built) -> None:
    with pytest.raises(ObjectiveError, match="'since the new rule came in'"):
        _read(
            football,
            "how many goals does the home side score, only seasons since the new rule came in,"
            " MAE 1.0",
        )


_HOTEL = [
    """
    CREATE TABLE Bookings AS
    SELECT i AS BookingId, CASE WHEN i % 4 = 0 THEN 1 ELSE 0 END AS IsRepeatedGuest,
           CASE i % 7 WHEN 5 THEN 'Saturday' WHEN 6 THEN 'Sunday' ELSE 'Weekday' END
               AS ArrivalDay,
           round(50 + (i * 37) % 200, 2) AS AverageDailyRate
    FROM range(700) t(i)
    """
]


def test_a_population_word_before_a_verb_stays_the_population(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    hotel = _build(tmp_path_factory.mktemp("hotel"), "hotel", _HOTEL)
    objective = _read(
        hotel, "Predict the average daily rate, for guests arriving on a Saturday, MAE under 12"
    )
    assert objective.target_column == "AverageDailyRate"
    assert objective.cohort_sql is not None and "Saturday" in objective.cohort_sql
