"""A noun between an article and the population noun says who the rows are, not what is
predicted: an invented crash warehouse (a real DuckDB file) with a crash year and an
outcome coded ALIVE/DEAD.

* 'whether a crash occupant was killed' reads the outcome by its values (killed ~ DEAD),
  and 'crash' of 'a crash occupant' does not name CRASH_YR;
* 'the crash year of each occupant' still names CRASH_YR: there 'crash' is the outcome's.
"""

from __future__ import annotations

import pytest

from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_CRASHES = [
    """
    CREATE TABLE OCCUPANTS AS
    SELECT 'O' || i AS OCC_ID, 1997 + i % 6 AS CRASH_YR, 16 + (i * 7) % 70 AS AGE,
           CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END AS SEX,
           CASE WHEN (i * 7) % 20 = 0 THEN 'DEAD' ELSE 'ALIVE' END AS OUTCOME
    FROM range(800) t(i)
    """
]


@pytest.fixture(scope="module")
def crashes(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("crashes"), "crashes", _CRASHES)


def test_the_population_noun_modifier_names_no_outcome(crashes: Built) -> None:
    objective = _read(crashes, "Predict whether a crash occupant was killed, ROC AUC of 0.9")
    assert objective.target_column == "OUTCOME"
    assert objective.positive_value == "DEAD"
    assert objective.cohort_sql is None


def test_the_same_word_elsewhere_names_the_outcome(crashes: Built) -> None:
    objective = _read(crashes, "Predict the crash year of each occupant, with an MAE below 1")
    assert objective.target_column == "CRASH_YR"
    assert objective.task == "regression"
