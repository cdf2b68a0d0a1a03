"""A condition's words name the column it compares, never the outcome: an invented French
travel warehouse (a real DuckDB file) with a household income in thousands and the mode
each traveller chose.

* 'travellers from households with an income above 40k' compares revenu_menage (income
  in French, in thousands), and 'income' does not make revenu_menage the target: the mode
  chosen is.
"""

from __future__ import annotations

import pytest

from tests.goal_reading_warehouses import Built, assert_same_rows
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_TRAVEL = [
    """
    CREATE TABLE voyageurs AS
    SELECT i AS id_voyageur, 2 + (i * 7) % 70 AS revenu_menage, 1 + i % 5 AS taille_groupe
    FROM range(300) t(i)
    """,
    """
    CREATE TABLE choix_mode AS
    SELECT i AS id_voyageur,
           CASE (i * 3) % 4 WHEN 0 THEN 'avion' WHEN 1 THEN 'bus' WHEN 2 THEN 'train'
               ELSE 'voiture' END AS mode_choisi
    FROM range(300) t(i)
    """,
]


@pytest.fixture(scope="module")
def travel(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("travel"), "voyages", _TRAVEL)


def test_the_condition_word_names_its_column_not_the_outcome(travel: Built) -> None:
    objective = _read(
        travel,
        "Which mode will travellers from households with an income above 40k pick? "
        "A macro-F1 of 0.5 is the bar.",
    )
    assert (objective.label_table, objective.target_column) == ("choix_mode", "mode_choisi")
    assert objective.task == "multiclass_classification"
    assert_same_rows(travel, "voyageurs", objective.cohort_sql, "revenu_menage > 40", 300)
