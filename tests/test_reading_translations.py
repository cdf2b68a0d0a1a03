"""Warehouses named in another language, goals written in English: invented Dutch,
Portuguese, German and Italian warehouses (real DuckDB files).

* 'die' names overleden, 'days' and 'stays' name dias_internacao, 'heating choice' names the
  German compound heizungswahl, 'participates' names partecipa;
* a word that is a common word of another language too is no translation (the Dutch 'tot',
  'until', of tijd_tot_controle is not the German 'tot', dead);
* a flag named in another language is refused when nothing reads it ('foreign' of
  straniera), never dropped.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built, assert_same_rows
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_DUTCH = [
    """
    CREATE TABLE patienten AS
    SELECT i AS patientnr, CASE WHEN i % 2 = 0 THEN 'M' ELSE 'V' END AS geslacht,
           30 + (i * 7) % 50 AS leeftijd
    FROM range(500) t(i)
    """,
    """
    CREATE TABLE uitslagen AS
    SELECT i AS patientnr, CASE WHEN (i * 7) % 10 < 3 THEN 'ja' ELSE 'nee' END AS overleden,
           CASE WHEN (i * 3) % 10 < 5 THEN 1 ELSE 0 END AS tijd_tot_controle
    FROM range(500) t(i)
    """,
]
_PORTUGUESE = [
    """
    CREATE TABLE internacoes AS
    SELECT i AS id_internacao, 1 + (i * 7) % 30 AS dias_internacao, 20 + (i * 3) % 70 AS idade,
           CASE i % 3 WHEN 0 THEN 'eletiva' WHEN 1 THEN 'urgente' ELSE 'emergência' END
               AS tipo_admissao,
           CASE WHEN (i * 7) % 10 < 2 THEN 'N' ELSE 'S' END AS raca_branca,
           CASE WHEN (i * 3) % 10 < 3 THEN 'S' ELSE 'N' END AS plano_hmo,
           CASE WHEN (i * 11) % 10 < 3 THEN 'S' ELSE 'N' END AS obito
    FROM range(600) t(i)
    """
]
_GERMAN = [
    """
    CREATE TABLE haushalte AS
    SELECT i AS haushalt_id, 2 + (i * 5) % 7 AS zimmer,
           CASE i % 4 WHEN 0 THEN 'gas' WHEN 1 THEN 'oel' WHEN 2 THEN 'waermepumpe'
               ELSE 'holz' END AS heizungswahl
    FROM range(600) t(i)
    """
]
_ITALIAN = [
    """
    CREATE TABLE lavoratrici AS
    SELECT i AS codice, CASE WHEN (i * 7) % 10 < 5 THEN 'si' ELSE 'no' END AS partecipa,
           CASE WHEN (i * 3) % 10 < 2 THEN 'si' ELSE 'no' END AS straniera,
           20 + (i * 11) % 40 AS eta
    FROM range(700) t(i)
    """
]


@pytest.fixture(scope="module")
def dutch(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("nl"), "nl", _DUTCH)


@pytest.fixture(scope="module")
def italian(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("it"), "it", _ITALIAN)


def test_an_outcome_named_in_dutch(dutch: Built) -> None:
    objective = _read(dutch, "Predict which patients die during follow-up, ROC AUC of 0.7")
    assert (objective.label_table, objective.target_column) == ("uitslagen", "overleden")
    assert objective.positive_value == "ja"
    assert objective.cohort_sql is None  # 'die' names no flag: tot of tijd_tot_controle is Dutch
    assert any("in another language" in n and "'die'" in n for n in objective.rationale)


@pytest.fixture(scope="module")
def portuguese(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("pt"), "pt", _PORTUGUESE)


def test_a_measure_named_in_portuguese(portuguese: Built) -> None:
    built = portuguese
    objective = _read(
        built, "Predict how many days each patient stays in hospital, with an MAE under 4 days"
    )
    assert objective.task == "regression"
    assert objective.target_column == "dias_internacao"


def test_a_german_compound_is_read_by_its_pieces(tmp_path_factory: pytest.TempPathFactory) -> None:
    built = _build(tmp_path_factory.mktemp("de"), "de", _GERMAN)
    objective = _read(built, "Classify each household's heating choice, macro-F1 of 0.5")
    assert objective.task == "multiclass_classification"
    assert objective.target_column == "heizungswahl"


def test_an_italian_flag_nothing_reads_is_refused(italian: Built) -> None:
    objective = _read(italian, "Predict whether a woman participates in the labour force, F1 0.6")
    assert objective.target_column == "partecipa"
    with pytest.raises(ObjectiveError, match=r"'foreign' \(lavoratrici.straniera\): yes/no"):
        _read(
            italian,
            "Predict labour-force participation of women older than 30 who are foreign, F1 0.6",
        )
    # Where 'foreign' could name the outcome as well, both candidates are listed.
    with pytest.raises(ObjectiveError, match=r"partecipa, lavoratrici\.straniera"):
        _read(italian, "Predict whether foreign women participate in the labour force, F1 0.6")


def test_a_clause_after_a_read_cohort_qualifies_it_too(dutch: Built) -> None:
    # 'who got chemotherapy' qualifies the men over 60 as much as 'men' does: no column
    # reads it, so the goal is refused, not answered for every man over 60.
    with pytest.raises(ObjectiveError, match="'who got chemotherapy'"):
        _read(
            dutch, "Among men aged 60 or older who got chemotherapy, predict who dies, recall 0.75"
        )
    objective = _read(dutch, "Among men aged 60 or older, predict who dies, recall 0.75")
    assert objective.cohort_sql is not None
    assert "geslacht = 'M'" in objective.cohort_sql and "leeftijd >= 60" in objective.cohort_sql


def test_values_and_flags_in_portuguese(portuguese: Built) -> None:
    # 'emergency' is the stored 'emergência' (accents aside), 'white' names raca_branca, whose
    # S/N is sim/não; the noun 'outside' leaves out (an HMO) is no outcome, 'die' is obito.
    objective = _read(
        portuguese,
        "Predict the days each patient stays in hospital for urgent and emergency admissions,"
        " MAE under 4 days",
    )
    assert objective.target_column == "dias_internacao"
    assert_same_rows(
        portuguese,
        "internacoes",
        objective.cohort_sql,
        "tipo_admissao IN ('urgente', 'emergência')",
        600,
    )
    objective = _read(
        portuguese,
        "Could we predict which non-white patients outside an HMO die during their stay?"
        " A ROC AUC of 0.65 would do.",
    )
    assert objective.target_column == "obito"
    assert objective.positive_value == "S"
    assert_same_rows(
        portuguese,
        "internacoes",
        objective.cohort_sql,
        "raca_branca = 'N' AND plano_hmo = 'N'",
        600,
    )
