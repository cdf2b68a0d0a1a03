"""Latitude and longitude bounds written as a direction from a degree, and knots as a unit:
an invented storm archive (a real DuckDB file) whose storms have a genesis latitude and
longitude, a lifetime in hours and a peak wind in knots, all spanning the same numbers.

* 'formed south of 20°N' reads GenesisLat < 20, 'west of 60°W' GenesisLon < -60 (western
  longitudes are negative), 'north of 25 degrees' GenesisLat > 25;
* '34 kt or more' reads the one column whose name gives knots;
* a direction from something that is no degree ('north of 40 miles') bounds nothing and
  stays an unread number.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built, assert_same_rows
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_STORMS = [
    """
    CREATE TABLE Storms AS
    SELECT 'AL' || lpad(CAST(i AS VARCHAR), 4, '0') AS StormId,
           8 + (i * 7) % 38 AS GenesisLat, -100 + (i * 11) % 85 AS GenesisLon,
           12 + (i * 13) % 300 AS LifetimeHours, 25 + (i * 17) % 140 AS PeakWindKt,
           CASE i % 3 WHEN 0 THEN 'Depression' WHEN 1 THEN 'Tropical storm'
               ELSE 'Hurricane' END AS PeakClass
    FROM range(600) t(i)
    """
]


@pytest.fixture(scope="module")
def storms(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("storms"), "storms", _STORMS)


@pytest.mark.parametrize(
    ("where", "sql"),
    [
        ("that formed south of 20°N", "GenesisLat < 20"),
        ("that formed west of 60°W", "GenesisLon < -60"),
        ("born north of 25 degrees", "GenesisLat > 25"),
        ("with winds of 34 kt or more", "PeakWindKt >= 34"),
    ],
)
def test_a_degree_or_a_knot_bounds_its_column(storms: Built, where: str, sql: str) -> None:
    objective = _read(storms, f"Predict the peak class of storms {where}, accuracy 0.55")
    assert objective.target_column == "PeakClass"
    assert_same_rows(storms, "Storms", objective.cohort_sql, sql, 600)


def test_a_direction_from_no_degree_bounds_nothing(storms: Built) -> None:
    with pytest.raises(ObjectiveError, match="'40'"):
        _read(
            storms, "Predict the peak class of storms that formed north of 40 miles, accuracy 0.55"
        )
