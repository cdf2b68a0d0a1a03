"""Ordinal bounds, the items of a field, and two-valued quantities: an invented pitch log (a
real DuckDB file) with innings, pitch codes and a points scale that takes two values.

* '6th inning onwards' reads inning >= 6, 'up to the 3rd inning' inning <= 3;
* an item of a field nothing reads ('four-seamers only, 6th inning onwards') is refused,
  although the field's other item is read;
* a numeric column of two values other than 0 and 1 (points_per_out: 2 or 3) is no yes/no
  flag: 'win' names no rows through it.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built, assert_same_rows
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_PITCHES = [
    """
    CREATE TABLE pitch_log AS
    SELECT i AS pitch_nr, 1 + i % 9 AS inning,
           CASE i % 3 WHEN 0 THEN 'FF' WHEN 1 THEN 'SL' ELSE 'CU' END AS pitch_cd,
           round(80 + (i * 7) % 150 / 10.0, 1) AS velo_rel_mph,
           CASE WHEN i % 2 = 0 THEN 2 ELSE 3 END AS points_per_win,
           CASE (i * 5) % 3 WHEN 0 THEN 'H' WHEN 1 THEN 'D' ELSE 'A' END AS ft_result
    FROM range(900) t(i)
    """
]


@pytest.fixture(scope="module")
def pitches(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("pitches"), "pitches", _PITCHES)


@pytest.mark.parametrize(
    ("where", "sql"),
    [("6th inning onwards", "inning >= 6"), ("up to the 3rd inning", "inning <= 3")],
)
def test_an_ordinal_bounds_its_column(pitches: Built, where: str, sql: str) -> None:
    objective = _read(pitches, f"release velo in mph | {where} | RMSE <= 1.0 mph")
    assert objective.target_column == "velo_rel_mph"
    assert_same_rows(pitches, "pitch_log", objective.cohort_sql, sql, 900)


def test_an_item_of_a_field_nothing_reads_is_refused(pitches: Built) -> None:
    with pytest.raises(ObjectiveError, match="'four-seamers' in 'four-seamers only'"):
        _read(pitches, "release velo in mph | four-seamers only, 6th inning onwards | RMSE <= 1")


def test_two_valued_quantity_is_no_flag(pitches: Built) -> None:
    objective = _read(
        pitches,
        "Predict the full-time result of each game (home win, draw or away win), accuracy 0.5",
    )
    assert objective.target_column == "ft_result"
    assert objective.cohort_sql is None
