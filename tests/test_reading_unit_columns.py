"""The unit written after a bound names the column whose name gives it: an invented survey
of sites (a real DuckDB file) where altitude (alt_m) and rainfall (rain_mm) both span 450.

* 'above 450 m' reads alt_m and 'more than 450 mm' reads rain_mm, the rationale saying so;
* a bound with no unit, or with a unit no column gives ('450 km'), is still refused,
  listing both columns.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built, assert_same_rows
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_SITES = [
    """
    CREATE TABLE sites AS
    SELECT i AS site_id, 100 + (i * 7) % 700 AS alt_m, 200 + (i * 13) % 650 AS rain_mm,
           (i * 11) % 40 AS tick_ct
    FROM range(700) t(i)
    """
]


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("sites"), "sites", _SITES)


@pytest.mark.parametrize(
    ("text", "sql"),
    [
        ("Predict the tick count of sites found above 450 m, MAE under 5", "alt_m > 450"),
        ("Predict the tick count of sites with more than 450 mm, MAE under 5", "rain_mm > 450"),
    ],
)
def test_the_unit_names_the_column(sites: Built, text: str, sql: str) -> None:
    objective = _read(sites, text)
    assert objective.target_column == "tick_ct"
    assert_same_rows(sites, "sites", objective.cohort_sql, sql, 700)
    assert any("gives the unit written" in n for n in objective.rationale)


@pytest.mark.parametrize("bound", ["450", "450 km"])
def test_a_bound_without_a_named_unit_is_refused(sites: Built, bound: str) -> None:
    with pytest.raises(ObjectiveError, match=r"alt_m, sites\.rain_mm"):
        _read(sites, f"Predict the tick count of sites found above {bound}, MAE under 5")
