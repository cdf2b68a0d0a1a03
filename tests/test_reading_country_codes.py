"""Countries held as ISO alpha-3 codes ('PRT', 'GBR', 'USA') and country words misspelled
in the goal ('Portugese', 'Brazillian'): an invented bookings warehouse (a real DuckDB file).
"""

from __future__ import annotations

import pytest

from dagster_agentic.kernel.policy.countries import ALPHA3_OF, BY_CODE
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import count_rows as _rows
from tests.goal_reading_warehouses import read_goal as _read

# Twelve countries, so the profile's top values do not cover them all: the cohort must then
# spell codes itself, as the column does.
_CODES = ["PRT", "GBR", "ESP", "FRA", "DEU", "ITA", "IRL", "BRA", "USA", "NLD", "BEL", "CHE"]


@pytest.fixture(scope="module")
def stays(tmp_path_factory: pytest.TempPathFactory) -> Built:
    listed = ", ".join(f"'{code}'" for code in _CODES)
    return _build(
        tmp_path_factory.mktemp("stays"),
        "stays",
        [
            f"""
            CREATE TABLE stays AS
            SELECT i AS stay_no,
                   list_extract([{listed}], 1 + (i * 7) % {len(_CODES)}) AS guest_country,
                   CASE WHEN (i * 11) % 5 = 0 THEN 1 ELSE 0 END AS is_repeat_guest,
                   1 + i % 14 AS nights
            FROM range(1200) t(i)
            """
        ],
    )


def test_every_country_has_an_alpha3_code() -> None:
    assert set(ALPHA3_OF) == set(BY_CODE)
    assert len(set(ALPHA3_OF.values())) == len(ALPHA3_OF)
    assert (ALPHA3_OF["PT"], ALPHA3_OF["GB"], ALPHA3_OF["DE"]) == ("PRT", "GBR", "DEU")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("Predict repeat guests among Portuguese guests, precision 0.7", "'PRT'"),
        ("Predict repeat guests for guests from Germany, precision 0.7", "'DEU'"),
        ("Predict repeat guests among Portugese guests, precision 0.7", "'PRT'"),
        ("Predict repeat guests among Brazillian guests, precision 0.7", "'BRA'"),
        ("Predict repeat guests for Swiss or Belgian guests, precision 0.7", "'CHE', 'BEL'"),
    ],
)
def test_a_country_is_read_against_alpha3_codes(stays: Built, text: str, where: str) -> None:
    objective = _read(stays, text)
    assert objective.cohort_sql is not None
    expected = _rows(stays, "stays", f"guest_country IN ({where})")
    assert 0 < expected < 1200
    assert _rows(stays, "stays", objective.cohort_sql) == expected
    if "Portugese" in text:  # corrected towards the demonym, and said so
        assert any("'Portuguese'" in line for line in objective.rationale)
