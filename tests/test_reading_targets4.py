"""Thresholds said apart from their metric, unit abbreviations, numbers that are part of a
name or a rate's unit, typos of the words the reader needs, and a yes/no goal never read as a
regression: each class with an invented warehouse and several phrasings.

Two small DuckDB files: a courier's parcels (``RouteKm``, ``WeightKg``, ``HoursInTransit``,
an ``OnTime`` flag stored 'Y'/'N') with its depots (``incident_rate``), and a clinic's
admissions with an ``adm_date``, an ``age_at_adm`` and an outcome coded 'A'/'D'.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.conditions import find_conditions
from dagster_agentic.kernel.policy.metric import metric_spans
from dagster_agentic.kernel.policy.spelling import correct_spelling, distance
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import count_rows as _rows
from tests.goal_reading_warehouses import read_goal as _read


@pytest.fixture(scope="module")
def courier(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("courier"),
        "courier",
        [
            """
            CREATE TABLE parcels AS
            SELECT
                5000 + i AS ParcelNo,
                round(2 + (i * 37) % 400 / 2.0, 1) AS RouteKm,
                round(0.5 + (i * 13) % 60 / 2.0, 1) AS WeightKg,
                (i * 7) % 90 AS HoursInTransit,
                CASE WHEN (i * 11) % 5 = 0 THEN 'N' ELSE 'Y' END AS OnTime,
                CASE i % 3 WHEN 0 THEN 'North Hub' WHEN 1 THEN 'Harbour' ELSE 'Airport' END
                    AS depot
            FROM range(900) t(i)
            """,
            """
            CREATE TABLE depots AS
            SELECT 'D' || CAST(i AS VARCHAR) AS depot_code,
                   round(1 + (i * 7) % 30 / 3.0, 2) AS incident_rate,
                   (i * 3) % 40 + 10 AS staff
            FROM range(60) t(i)
            """,
        ],
    )


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("clinic"),
        "clinic",
        [
            """
            CREATE TABLE admissions AS
            SELECT
                'ADM' || lpad(CAST(i AS VARCHAR), 5, '0') AS adm_ref,
                DATE '2018-01-01' + CAST(i * 2 AS INTEGER) AS adm_date,
                (i * 7) % 80 + 5 AS age_at_adm,
                CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS sex,
                CASE WHEN (i * 13) % 7 = 0 THEN 'D' ELSE 'A' END AS outcome_code
            FROM range(1200) t(i)
            """
        ],
    )


# 1. A metric and its threshold said apart: a modal or copula verb, a clause, a frame.
@pytest.mark.parametrize(
    ("text", "metric", "threshold"),
    [
        (
            "Predict whether a parcel arrives on time. Precision must stay above 0.8.",
            "precision",
            0.8,
        ),
        ("Will each parcel be on time? Recall should be at least 0.65.", "recall", 0.65),
        ("Predict on-time parcels. The F1 needs to be at least 0.7.", "f1", 0.7),
        (
            "Will a parcel arrive on time? Score it by ROC AUC; we'd want at least 0.75.",
            "roc_auc",
            0.75,
        ),
        ("Predict on-time delivery. Use AUC, with 0.7 as the bar.", "roc_auc", 0.7),
        ("0.72 is the bar for AUC: predict which parcels arrive on time.", "roc_auc", 0.72),
        ("Can we tell which parcels arrive on time? A recall of 0.6 would be good.", "recall", 0.6),
        ("Estimate the hours in transit of each parcel. The MAE should be below 5.", "mae", 5.0),
        (
            "Estimate the transit hours of each parcel; the RMSE must come in under 12.",
            "rmse",
            12.0,
        ),
    ],
)
def test_threshold_said_apart(courier: Built, text: str, metric: str, threshold: float) -> None:
    objective = _read(courier, text)
    assert (objective.metric, objective.threshold) == (metric, pytest.approx(threshold))
    assert objective.cohort_sql is None


def test_said_apart_note_and_cohort_kept(courier: Built) -> None:
    objective = _read(
        courier,
        "For parcels heavier than 10 kg, predict on-time arrival. Evaluate with ROC AUC; we "
        "need at least 0.8.",
    )
    assert (objective.metric, objective.threshold) == ("roc_auc", 0.8)
    assert any("said apart from the metric" in line for line in objective.rationale)
    assert objective.cohort_sql is not None and "WeightKg" in objective.cohort_sql


def test_two_loose_numbers_are_an_error(courier: Built) -> None:
    with pytest.raises(ObjectiveError) as info:
        _read(courier, "Predict on-time parcels. Recall matters; 0.6 would do, maybe 0.7.")
    assert "'0.6'" in str(info.value) and "'0.7'" in str(info.value)


def test_frames_are_threshold_words() -> None:
    text = "Use ROC AUC, with 0.7 as the bar. A recall of 0.75 would be good."
    spans = [text[a:b] for a, b in metric_spans(text)]
    assert "as the bar" in spans and "would be good" in spans


# 2. Units written short after a number name the column that holds the unit word.
@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("on time yes/no | routes longer than 30 km | recall >= 0.6", '"RouteKm" > 30'),
        ("Predict on-time arrival for parcels over 12 kg; precision of 0.7.", '"WeightKg" > 12'),
        ("Predict on-time arrival of parcels under 20 hrs in transit, F1 0.6", None),
    ],
)
def test_unit_abbreviation_names_column(courier: Built, text: str, where: str | None) -> None:
    if where is None:  # 'hrs' ~ HoursInTransit: read by the unit, whatever else the words say
        objective = _read(courier, text)
        assert objective.cohort_sql is not None and "HoursInTransit" in objective.cohort_sql
        return
    objective = _read(courier, text)
    assert objective.cohort_sql is not None
    assert _rows(courier, "parcels", objective.cohort_sql) == _rows(courier, "parcels", where)


# 3. Numbers that are a rate's unit or part of a name are no conditions.
def test_rate_base_is_no_condition(courier: Built) -> None:
    objective = _read(
        courier, "Predict the incident rate per 1,000 parcels of every depot. RMSE below 2."
    )
    assert objective.target_column == "incident_rate" and objective.cohort_sql is None
    assert objective.threshold == 2


def test_year_in_a_name_is_no_condition(courier: Built) -> None:
    objective = _read(
        courier,
        "Following the 2019 audit, predict whether a parcel arrives on time; accuracy of at "
        "least 80%.",
    )
    assert objective.target_column == "OnTime" and objective.cohort_sql is None


def test_year_a_date_column_could_read_stays_an_error(clinic: Built) -> None:
    # The admissions have a date: 'the 2019 review' may select rows, so it is never dropped.
    with pytest.raises(ObjectiveError):
        _read(clinic, "Following the 2019 review, predict the sex of each admission; accuracy 0.9")


def test_sex_word_before_an_age_stays_outside_the_condition() -> None:
    (condition,) = find_conditions("mortality for men over 60", [])
    assert condition.text == "over 60" and condition.age and condition.context == ()


# 4. A yes/no question is never a regression on a numeric column a cohort word names.
@pytest.mark.parametrize(
    "text",
    [
        "For the patients admitted in 2019, how well can we predict death? We're looking for "
        "an accuracy of at least 70%.",
        "Among admissions in 2020, can we predict who dies? Accuracy 0.75.",
    ],
)
def test_yes_no_question_is_no_regression(clinic: Built, text: str) -> None:
    # 'death' names the outcome coded A/D by the initial of 'dead' (never the year column
    # the cohort word names, never a regression).
    objective = _read(clinic, text)
    assert objective.task == "binary_classification"
    assert objective.target_column == "outcome_code" and objective.positive_value == "D"
    assert objective.cohort_sql is not None and "adm_date" in objective.cohort_sql


# 5. Typos of the words the reader depends on.
def test_typos_are_corrected_towards_known_words(courier: Built) -> None:
    fixed, corrections = correct_spelling(
        "predcit wether a parcel is on tmie, precison of 0.8, for the Harbor depto", courier[1]
    )
    assert [(c.written, c.corrected) for c in corrections] == [
        ("predcit", "predict"),
        ("wether", "whether"),
        ("precison", "precision"),
        ("Harbor", "Harbour"),  # a stored value's spelling, case kept
        ("depto", "depot"),
    ]
    assert fixed.startswith("predict whether a parcel") and "tmie" in fixed  # 4 letters
    assert "read 'predcit' as 'predict'" in corrections[0].note()


@pytest.mark.parametrize(
    "text",
    [
        "Predict the grade of each parcel",  # 'grade' is no typo of anything here
        "which parcels arrive on time, for the scope of the audit",  # 'scope' is not 'score'
        "predict whether parcels arriving late are heavier",  # forms of known words
        "Predict the deliveries of the depots",  # 'deliveries' is a word of its own
        "an accurate model of which parcels are on time",  # 'accurate' is not 'accuracy'
        "a consistent forecast of on-time parcels",  # nor 'consistent' a typo
    ],
)
def test_real_words_are_left_alone(courier: Built, text: str) -> None:
    fixed, corrections = correct_spelling(text, courier[1])
    assert corrections == () and fixed == text


def test_typo_goal_reads(courier: Built) -> None:
    fixed, _ = correct_spelling("predcit wether a parcel is on time, precison 0.8", courier[1])
    objective = _read(courier, fixed)
    assert (objective.target_column, objective.metric, objective.threshold) == (
        "OnTime",
        "precision",
        0.8,
    )


def test_distance_is_damerau() -> None:
    assert distance("predcit", "predict", 2) == 1  # two neighbours swapped
    assert distance("wether", "whether", 2) == 1
    assert distance("grade", "grado", 2, change=2) == 2  # a changed letter counts twice


def test_shorthands_are_written_out(courier: Built) -> None:
    fixed, corrections = correct_spelling(
        "on time y/n, parcels w/ a route over 100 km, parcels w/o delays, w/x", courier[1]
    )
    assert fixed == ("on time y/n, parcels with a route over 100 km, parcels without delays, w/x")
    assert [(c.written, c.corrected) for c in corrections] == [
        ("w/o", "without"),
        ("w/", "with"),
    ]
    assert "a shorthand written out" in corrections[0].note()
    objective = _read(courier, "on time y/n | parcels w/ a route over 100 km | precision 0.8")
    assert objective.target_column == "OnTime"
    assert objective.cohort_sql is not None and "RouteKm" in objective.cohort_sql
