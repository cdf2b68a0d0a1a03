"""Words a name writes as one, and years written as a list: an invented loan book (a real
DuckDB file) whose names run words together and keep the year as a whole number.

* 'late payment' is the latepayment the name writes in one piece, not the late_fee_waived
  that shares one of its words;
* 'in 2019 or 2020', 'in 2018, 2019 and 2020': years that follow each other read as their
  span; 'in 2016 and 2020' is two years, not the five between them, and 'in 2016, 2018 or
  2020' no span at all: both refused, naming the number nothing read.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built, assert_same_rows
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_LOANS = """
    CREATE TABLE loanbook AS
    SELECT 'L' || CAST(i AS VARCHAR) AS loanref,
           2014 + i % 8 AS orig_yr,
           round(1000 + (i * 7919) % 40000, 0) AS principalamt,
           CASE i % 3 WHEN 0 THEN 'auto' WHEN 1 THEN 'home' ELSE 'personal' END AS loanpurpose,
           CASE WHEN (i * 7) % 10 < 3 THEN 'Y' ELSE 'N' END AS latepayment,
           CASE WHEN (i * 11) % 10 < 2 THEN 'Y' ELSE 'N' END AS late_fee_waived
    FROM range(800) t(i)
"""


@pytest.fixture(scope="module")
def loans(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("loans"), "loans", [_LOANS])


def test_words_a_name_runs_together_name_it_whole(loans: Built) -> None:
    objective = _read(loans, "Predict which loans end in a late payment, with an F1 of 0.6")
    assert objective.target_column == "latepayment"
    assert any("'late payment'" in n for n in objective.rationale)


@pytest.mark.parametrize(
    ("phrase", "where"),
    [
        ("in 2019 or 2020", "orig_yr IN (2019, 2020)"),
        ("in 2018, 2019 and 2020", "orig_yr BETWEEN 2018 AND 2020"),
        ("in 2019 and 2020", "orig_yr IN (2019, 2020)"),
    ],
)
def test_years_that_follow_each_other_read_as_their_span(
    loans: Built, phrase: str, where: str
) -> None:
    objective = _read(loans, f"Predict late payment for loans originated {phrase}, F1 of 0.6")
    assert_same_rows(loans, "loanbook", objective.cohort_sql, where, 800)


@pytest.mark.parametrize("phrase", ["in 2016 and 2020", "in 2016, 2018 or 2020"])
def test_years_that_make_no_span_are_refused(loans: Built, phrase: str) -> None:
    # The first year a single-year reading cannot take is named, with the column that spans it.
    with pytest.raises(ObjectiveError, match=r"'20(18|20)' belongs to no metric.*orig_yr"):
        _read(loans, f"Predict late payment for loans originated {phrase}, F1 of 0.6")
