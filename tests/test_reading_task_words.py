"""The words that say the task, on invented warehouses (real DuckDB files).

* 'Class' that names one class of the outcome asks for no category: 'with autism as the
  positive class' and 'an F1 of 0.6 for the autism class' read a two-valued diagnosis as a
  binary target, the positive class named; 'classify each child's severity class' still
  asks for the categories of a multiclass one.
* A score judged by accuracy is a score of classes (1 to 5), not a quantity.
* 'per patient' asks one answer per patient as 'each patient' does, the population named in
  another language (pazienti): a reading on a table of several assessments per patient is
  refused.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_CLINIC = [
    """
    CREATE TABLE children AS
    SELECT i AS child_id, 2 + (i * 3) % 10 AS age_years,
           CASE WHEN (i * 7) % 10 < 4 THEN 'autism' ELSE 'PDD' END AS diagnosis,
           CASE i % 3 WHEN 0 THEN 'mild' WHEN 1 THEN 'moderate' ELSE 'severe' END AS severity
    FROM range(600) t(i)
    """
]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("clinic"), "clinic", _CLINIC)


@pytest.mark.parametrize(
    "text",
    [
        "Predict each child's diagnosis (autism vs PDD), with autism as the positive class. "
        "Accuracy of 75%.",
        "Predict each child's diagnosis, with an F1 of 0.6 for the autism class",
    ],
)
def test_one_class_named_is_a_binary_goal(clinic: Built, text: str) -> None:
    objective = _read(clinic, text)
    assert objective.target_column == "diagnosis"
    assert objective.task == "binary_classification"
    assert objective.positive_value == "autism"


def test_a_class_asked_for_is_still_a_category(clinic: Built) -> None:
    objective = _read(clinic, "Classify each child's severity class, with an accuracy of 0.6")
    assert objective.target_column == "severity"
    assert objective.task == "multiclass_classification"


_VISITS = [
    """
    CREATE TABLE pazienti AS
    SELECT 'P' || i AS cod_paziente, 30 + (i * 7) % 50 AS eta FROM range(200) t(i)
    """,
    """
    CREATE TABLE valutazioni AS
    SELECT i AS id_valutazione, 'P' || (i % 200) AS cod_paziente, 1 + i // 200 AS mese,
           1 + (i * 7) % 5 AS punteggio
    FROM range(600) t(i)
    """,
]


@pytest.fixture(scope="module")
def visits(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("visits"), "visite", _VISITS)


def test_a_score_judged_by_accuracy_is_read_as_classes(visits: Built) -> None:
    objective = _read(visits, "Predict the score of each assessment, accuracy 0.5")
    assert objective.target_column == "punteggio"
    assert objective.task == "multiclass_classification"
    assert objective.classes == (1, 2, 3, 4, 5)


def test_one_answer_per_patient_named_in_another_language(visits: Built) -> None:
    with pytest.raises(ObjectiveError, match=r"each patient \(pazienti\)"):
        _read(visits, "self-assessment score per patient, accuracy 0.5")
