"""Targets, positive classes and metrics read through word forms, abbreviations, values and
the warehouse's structure, on small real warehouses.

Two DuckDB warehouses with invented naming: a permit office (one table of permit requests:
a ``refuse`` yes/no column, a ``Kilo_per_Litre`` measure, a ``hwt`` (hull weight) beside a
``lwt``, editor grades stored as codes 'JunEd'/'SenEd'/'MngEd', a quality code 'LQ'/'HQ' and
a shift 'Day'/'Night'), and a French-named relational one (``demandeurs`` with a child table,
and ``decisions``: one row per applicant, keyed by the applicant, with the only yes/no
column outside the applicants, 'oui'/'non', and the only measure).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.metric import read_metric
from dagster_agentic.kernel.policy.morphology import kinship, same_word
from dagster_agentic.kernel.policy.naming import (
    asked_measures,
    contracts,
    names_value,
    phrasal_verbs,
)
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse


@dataclass(frozen=True)
class Office:
    profile: WarehouseProfile
    french: WarehouseProfile


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    root = tmp_path_factory.mktemp("reading_targets2")
    single = root / "permits.duckdb"
    conn = duckdb.connect(str(single))
    try:
        conn.execute(
            """
            CREATE TABLE permit_applications AS
            SELECT i AS application_no,
                   CASE WHEN (i * 7) % 10 < 3 THEN 'yes' ELSE 'no' END AS refuse,
                   10 + (i * 37) % 90 / 3.0 AS Kilo_per_Litre,
                   200 + (i * 53) % 150 AS hwt,
                   50 + (i * 11) % 60 AS lwt,
                   ['JunEd', 'SenEd', 'MngEd'][1 + i % 3] AS grade,
                   CASE WHEN i % 4 = 0 THEN 'LQ' ELSE 'HQ' END AS quality,
                   CASE WHEN i % 5 < 2 THEN 'Night' ELSE 'Day' END AS shift,
                   CASE WHEN i % 3 = 0 THEN 'PF' ELSE 'WF' END AS finish,
                   CASE WHEN i % 6 = 0 THEN 1 ELSE 0 END AS late,
                   18 + i % 50 AS age
            FROM range(400) t(i)
            """
        )
    finally:
        conn.close()
    relational = root / "demandes.duckdb"
    conn = duckdb.connect(str(relational))
    try:
        conn.execute(
            """
            CREATE TABLE demandeurs AS
            SELECT 'P' || lpad(i::VARCHAR, 4, '0') AS code_personne,
                   20 + i % 50 AS annees, 1000 + (i * 97) % 5000 AS revenu,
                   CASE WHEN i % 3 = 0 THEN 'oui' ELSE 'non' END AS proprietaire,
                   CASE WHEN i % 7 = 0 THEN 'oui' ELSE 'non' END AS independant,
                   i % 4 AS enfants
            FROM range(300) t(i)
            """
        )
        conn.execute(
            """
            CREATE TABLE decisions AS
            SELECT 'P' || lpad(i::VARCHAR, 4, '0') AS demandeur,
                   CASE WHEN (i * 13) % 10 < 7 THEN 'oui' ELSE 'non' END AS accorde,
                   (i * 31) % 700 + 0.5 AS depense_mois
            FROM range(300) t(i)
            """
        )
        conn.execute(
            """
            CREATE TABLE incidents AS
            SELECT row_number() OVER () AS incident_no,
                   'P' || lpad(i::VARCHAR, 4, '0') AS demandeur, k AS rang
            FROM range(300) t(i), range(3) r(k) WHERE i % 4 = 0 OR k = 0
            """
        )
    finally:
        conn.close()
    return Office(profile_warehouse(Warehouse(single)), profile_warehouse(Warehouse(relational)))


def _read(profile: WarehouseProfile, text: str) -> Objective:
    return interpret_objective(text, profile, GoalOverrides())


# -- word forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "kin"),
    [
        ("refunded", "refund", 2),
        ("refunding", "refunds", 2),
        ("carried", "carry", 2),
        ("carries", "carrying", 2),
        ("studies", "study", 2),
        ("stopped", "stop", 2),
        ("boxes", "box", 2),
        ("buses", "bus", 2),
        ("renewal", "renew", 1),
        ("arrivals", "arrived", 1),
        ("refusals", "refuse", 1),
        ("happiness", "happy", 1),
        ("payments", "pay", 1),
        ("cancellations", "cancel", 1),
        ("acceptance", "accepted", 1),
        ("emptiness", "empty", 1),
        ("station", "state", 0),
        ("card", "care", 0),
        ("later", "late", 0),
        ("bus", "bush", 0),
        ("reds", "reed", 0),
        ("status", "stat", 0),
    ],
)
def test_word_forms(a: str, b: str, kin: int) -> None:
    assert kinship(a, b) == kin
    assert kinship(b, a) == kin
    assert same_word(a, b) == bool(kin)


def test_target_through_inflection_and_derivation(office: Office) -> None:
    for text in (
        "Predict which permit requests get refused, with a ROC AUC of 0.8",
        "permit refusals, precision 0.7",
        "Which requests are they refusing? Recall of 60%.",
    ):
        objective = _read(office.profile, text)
        assert (objective.target_column, objective.positive_value) == ("refuse", "yes"), text


def test_a_phrase_spelling_the_table_names_every_row(office: Office) -> None:
    objective = _read(office.profile, "Predict which permit applications get refused, ROC AUC 0.8")
    assert objective.cohort_sql is None
    assert any("names the table permit_applications" in line for line in objective.rationale)


# -- abbreviations ---------------------------------------------------------------------------


def test_initials_both_ways() -> None:
    assert contracts("kpl", "Kilo_per_Litre") and contracts("kl", "kilo_per_litre")
    assert contracts("dob", "date_of_birth") and not contracts("date", "date_of_birth")
    assert not contracts("k", "Kilo_per_Litre") and not contracts("kpl", "kilometres")
    assert names_value("junior", "JunEd") and names_value("managing", "MngEd")
    assert names_value("senior", "SenEd") and not names_value("junior", "SenEd")


def test_target_by_initials(office: Office) -> None:
    objective = _read(office.profile, "fuel use (kpl) of each request, RMSE < 3")
    assert objective.target_column == "Kilo_per_Litre"
    # 'hull weight' spells hwt although 'hull' alone names nothing; 'weight' alone is lwt's
    # too, so the initials decide.
    objective = _read(office.profile, "Estimate the hull weight with an MAE under 40")
    assert objective.target_column == "hwt"


def test_target_by_values_in_long_form(office: Office) -> None:
    objective = _read(
        office.profile, "Classify staff as junior, senior or managing editors with 70% accuracy"
    )
    assert objective.target_column == "grade"
    assert set(objective.classes) == {"JunEd", "SenEd", "MngEd"}


# -- positive class --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "positive"),
    [
        ("Predict which requests are of low quality (LQ) with a ROC AUC of 0.8", "LQ"),
        ("Flag low-quality requests with a ROC AUC of 0.8", "LQ"),
        ("Flag high-quality requests with a ROC AUC of 0.8", "HQ"),
        ("Predict HQ quality requests, ROC AUC 0.8", "HQ"),
    ],
)
def test_positive_code_by_initials_or_as_written(office: Office, text: str, positive: str) -> None:
    objective = _read(office.profile, text)
    assert (objective.target_column, objective.positive_value) == ("quality", positive)


@pytest.mark.parametrize(
    ("text", "positive"),
    [
        ("Predict which applications are badly finished, ROC AUC 0.8", "PF"),
        ("Predict which applications are well-finished, ROC AUC 0.8", "WF"),
        ("Predict which applications are poorly finished, ROC AUC 0.8", "PF"),
    ],
)
def test_positive_code_by_a_quality_word(office: Office, text: str, positive: str) -> None:
    objective = _read(office.profile, text)
    assert (objective.target_column, objective.positive_value) == ("finish", positive)


def test_a_bracketed_definition_of_the_outcome_is_no_cohort(office: Office) -> None:
    objective = _read(
        office.profile,
        "We want to flag late applications (more than 30 days) early. The model should catch"
        " at least 70% of the late-filing cases.",
    )
    assert (objective.target_column, objective.metric, objective.threshold) == (
        "late",
        "recall",
        0.7,
    )
    assert objective.cohort_sql is None
    assert any("defines the outcome late" in line for line in objective.rationale)


def test_cohort_condition_words_give_no_task(office: Office) -> None:
    objective = _read(
        office.profile,
        "Identify refused requests among those with an age above 40, at 80% accuracy",
    )
    assert objective.task == "binary_classification"
    assert objective.target_column == "refuse"
    assert objective.cohort_sql is not None and "age" in objective.cohort_sql


# -- structure -------------------------------------------------------------------------------


def test_outcome_table_by_structure(office: Office) -> None:
    # 'approved' is accorde in French: the name itself says it.
    objective = _read(office.french, "Predict which applicants will be approved, ROC AUC 0.8")
    assert (objective.label_table, objective.target_column) == ("decisions", "accorde")
    line = next(r for r in objective.rationale if r.startswith("target "))
    assert "in another language, says 'approved'" in line
    # A word no name says: the outcome table's one binary column, by structure.
    objective = _read(office.french, "Predict which applicants will succeed, ROC AUC 0.8")
    assert (objective.label_table, objective.target_column) == ("decisions", "accorde")
    assert objective.positive_value == "oui"
    assert objective.entity_table == "demandeurs"
    line = next(r for r in objective.rationale if r.startswith("target "))
    assert "dedicated outcome table" in line and "demandeurs" in line
    objective = _read(office.french, "Estimate how much each applicant will spend, MAE < 50")
    assert (objective.label_table, objective.target_column) == ("decisions", "depense_mois")


def test_no_structure_fits_is_an_error(office: Office) -> None:
    with pytest.raises(ObjectiveError) as info:
        _read(office.french, "Classify each applicant's risk band with 70% accuracy")
    message = str(info.value)
    assert "no categorical column matches the objective's words 'band', 'risk'" in message


# -- metric phrasing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metric", "threshold"),
    [
        ("the model should catch at least 80% of the faulty units", "recall", 0.8),
        ("we must find 70% of the churners", "recall", 0.7),
        ("identify over 65% of the fraudulent claims", "recall", 0.65),
        ("of the units we flag, 95% should be correct", "precision", 0.95),
        ("90% of the flagged claims must be right", "precision", 0.9),
        (
            "sort each unit into a band (lowest 10%, middle 80% or top 10%) at 70% accuracy",
            "accuracy",
            0.7,
        ),
        ("identify faulty units with 85% accuracy", "accuracy", 0.85),
    ],
)
def test_metric_in_general_words(text: str, metric: str, threshold: float) -> None:
    reading = read_metric(text, GoalOverrides())
    assert (reading.metric, reading.threshold, reading.untied) == (metric, threshold, ())


# -- meaning: 'how <adjective>', phrasal verbs, outcome synonyms -------------------------------


def test_measure_adjectives_and_phrasal_verbs() -> None:
    assert asked_measures(["how", "heavy", "will", "it", "be"]) == ["weight", "mass"]
    assert "age" in asked_measures(["how", "old"]) and not asked_measures(["heavy", "rain"])
    assert "turndown" in phrasal_verbs(["turned", "down"])
    assert "dropout" in phrasal_verbs(["dropping", "out"])
    assert not phrasal_verbs(["down", "turned"])


def test_outcome_in_other_words(office: Office) -> None:
    objective = _read(office.profile, "Which applications get turned down? Recall of 70%.")
    assert (objective.target_column, objective.positive_value) == ("refuse", "yes")
    objective = _read(office.profile, "Predict which applications are rejected, ROC AUC 0.8")
    assert objective.target_column == "refuse"
    objective = _read(office.profile, "How old will the applicants be? MAE under 5")
    assert objective.target_column == "age"
