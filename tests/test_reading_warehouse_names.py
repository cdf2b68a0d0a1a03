"""A goal that names the warehouse itself names every row of it: invented warehouses
(real DuckDB files) whose file names say what they hold.

* 'patients in the Cancer Registry' over a warehouse called
  ``cancer_registry`` is no cohort, and the outcome's verb after it ('... registry die')
  still names the outcome and its class;
* 'credit card applications' over a warehouse called ``kreditkarten`` names it in German;
* a phrase with one word the name does not hold ('the Cancer Clinic') stays a cohort to
  read, and is refused, never dropped.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_REGISTRY = [
    """
    CREATE TABLE cases AS
    SELECT i AS case_ref, CASE WHEN (i * 7) % 10 < 3 THEN 'D' ELSE 'A' END AS status,
           CASE i % 3 WHEN 0 THEN 'NSW' WHEN 1 THEN 'VIC' ELSE 'QLD' END AS state,
           20 + (i * 3) % 60 AS age
    FROM range(600) t(i)
    """
]
_CARDS = [
    """
    CREATE TABLE antragsteller AS
    SELECT i AS antrag_nr, 20 + (i * 3) % 50 AS alter_jahre,
           CASE WHEN i % 2 = 0 THEN 'ja' ELSE 'nein' END AS wohneigentum
    FROM range(600) t(i)
    """,
    """
    CREATE TABLE entscheidungen AS
    SELECT i AS antrag_nr, CASE WHEN (i * 7) % 10 < 6 THEN 'ja' ELSE 'nein' END AS bewilligt
    FROM range(600) t(i)
    """,
]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("registry"), "cancer_registry", _REGISTRY)


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("cards"), "kreditkarten", _CARDS)


def test_the_profile_holds_the_warehouse_name(registry: Built) -> None:
    assert registry[1].name == "cancer_registry"


def test_the_warehouse_named_with_the_outcome_after_it(registry: Built) -> None:
    objective = _read(registry, "Predict which patients in the Cancer Registry die, ROC AUC 0.7")
    assert objective.cohort_sql is None
    assert (objective.target_column, objective.positive_value) == ("status", "D")
    assert any("names the warehouse itself (cancer_registry)" in n for n in objective.rationale)


def test_the_warehouse_named_in_another_language(cards: Built) -> None:
    objective = _read(cards, "Predict which credit card applications will be approved, AUC 0.8")
    assert objective.cohort_sql is None
    assert (objective.label_table, objective.target_column) == ("entscheidungen", "bewilligt")
    assert objective.positive_value == "ja"


def test_a_word_more_than_the_name_is_still_a_cohort(registry: Built) -> None:
    with pytest.raises(ObjectiveError, match="Cancer Clinic"):
        _read(registry, "Predict which patients in the Cancer Clinic die, ROC AUC 0.7")


def test_a_cohort_after_the_warehouse_name_is_read(registry: Built) -> None:
    objective = _read(
        registry, "Predict which patients in the Cancer Registry from VIC die, ROC AUC 0.7"
    )
    assert objective.cohort_sql is not None and "VIC" in objective.cohort_sql
