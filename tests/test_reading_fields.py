"""Goals written in fields, units written against their numbers, flags named by the end of
their names, the noun the ask governs and lists of months: invented warehouses (real DuckDB
files) with names of their own.

* 'resale value | hatchbacks + wagons with under 40k km | MAE <= 900': every field but the
  outcome's and the metric's selects rows, and '+' joins values as 'and' does;
* '6GB+ memory', '128GB storage or more': a number glued to its unit is a number (never
  dropped), and the word after the unit names the column;
* 'phones that come with dual SIM' of ``blnDualSim``, 'click-and-collect orders' of
  ``ordered_click_and_collect_flag``: a type tag is no word of the flag's name, and a
  hyphenated word may name the last words of it;
* 'the number of defects on lines run by the night shift': of two columns named equally
  well, the one the ask governs is the outcome;
* 'in June or July', 'Dec-Feb': months of any year, a span running over the new year.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import assert_same_rows as _same
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read


@pytest.fixture(scope="module")
def autos(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("autos"),
        "autos",
        [
            """
            CREATE TABLE resale_offers AS
            SELECT i AS offer_ref,
                   CASE i % 4 WHEN 0 THEN 'Hatchback' WHEN 1 THEN 'Wagon' WHEN 2 THEN 'SUV'
                       ELSE 'Convertible' END AS body,
                   5000 + (i * 7919) % 120000 AS odometer_km,
                   2000 + (i * 37) % 15000 AS resale_value,
                   CASE WHEN i % 3 = 0 THEN -1 ELSE 0 END AS blnDualZoneClimate,
                   DATE '2022-01-01' + CAST((i * 13) % 700 AS INTEGER) AS listed_on
            FROM range(800) t(i)
            """
        ],
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "resale value | hatchbacks + wagons with under 40k km | MAE <= 900",
            "body IN ('Hatchback', 'Wagon') AND odometer_km < 40000",
        ),
        ("resale value | SUV + Convertible | RMSE < 1200", "body IN ('SUV', 'Convertible')"),
    ],
)
def test_every_field_but_the_outcome_and_the_metric_selects_rows(
    autos: Built, text: str, where: str
) -> None:
    objective = _read(autos, text)
    assert objective.target_column == "resale_value" and objective.metric in {"mae", "rmse"}
    _same(autos, "resale_offers", objective.cohort_sql, where, 800)


def test_a_flag_read_without_its_type_tag(autos: Built) -> None:
    objective = _read(
        autos, "Estimate the resale value of the cars that come with dual zone climate, MAE 900"
    )
    _same(autos, "resale_offers", objective.cohort_sql, '"blnDualZoneClimate" = -1', 800)


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("Estimate the resale value of offers listed in June or July, MAE 900", "(6, 7)"),
        (
            "Estimate the resale value of offers listed in March, April and May, MAE 900",
            "(3, 4, 5)",
        ),
        ("resale value | offers listed Dec-Feb | MAE 900", "(12, 1, 2)"),
        ("Estimate the resale value of offers listed from May to August, MAE 900", "(5, 6, 7, 8)"),
    ],
)
def test_lists_and_spans_of_months_read_every_month(autos: Built, text: str, months: str) -> None:
    objective = _read(autos, text)
    _same(autos, "resale_offers", objective.cohort_sql, f"month(listed_on) IN {months}", 800)


@pytest.fixture(scope="module")
def phones(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("phones"),
        "phones",
        [
            """
            CREATE TABLE handsets AS
            SELECT i AS handset_no,
                   2 + (i * 3) % 11 AS memory_gb,
                   32 * (1 + i % 8) AS storage_gb,
                   150 + (i * 31) % 900 AS price_eur,
                   CASE WHEN i % 4 = 0 THEN 'Y' ELSE 'N' END AS ordered_click_and_collect_flag
            FROM range(700) t(i)
            """
        ],
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("price_eur | MAE < 60 | handsets with 6GB+ memory", "memory_gb >= 6"),
        ("price_eur | MAE < 60 | handsets with 6 GB+ memory", "memory_gb >= 6"),
        ("Predict price_eur for handsets with 128GB storage or more, MAE 60", "storage_gb >= 128"),
        (
            "price_eur | MAE < 60 | click-and-collect handsets",
            "ordered_click_and_collect_flag = 'Y'",
        ),
    ],
)
def test_a_number_glued_to_its_unit_reads_the_column_named_after_it(
    phones: Built, text: str, where: str
) -> None:
    objective = _read(phones, text)
    assert objective.target_column == "price_eur"
    _same(phones, "handsets", objective.cohort_sql, where, 700)


def test_an_everyday_word_names_a_flag_its_formal_word_names(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    built = _build(
        tmp_path_factory.mktemp("households"),
        "households",
        [
            """
            CREATE TABLE households AS
            SELECT i AS hh_no,
                   CASE WHEN i % 3 = 0 THEN 'Y' ELSE 'N' END AS HAS_CHILDREN,
                   200 + (i * 37) % 900 AS weekly_spend
            FROM range(300) t(i)
            """
        ],
    )
    objective = _read(built, "Estimate weekly spend for households with kids, MAE 50")
    _same(built, "households", objective.cohort_sql, "HAS_CHILDREN = 'Y'", 300)


def test_a_glued_number_no_condition_reads_is_refused_not_dropped(phones: Built) -> None:
    # '9kg' names no column of handsets: the number must be an error, never ignored.
    with pytest.raises(ObjectiveError, match="'9'"):
        _read(phones, "price_eur | MAE < 60 | handsets shipped in 9kg boxes")


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("plant"),
        "plant",
        [
            """
            CREATE TABLE inspections AS
            SELECT i AS inspection_id,
                   1 + i % 6 AS lineNo,
                   (i * 7) % 23 AS defectCount,
                   CASE i % 3 WHEN 0 THEN 'night' WHEN 1 THEN 'day' ELSE 'swing' END AS shift
            FROM range(600) t(i)
            """
        ],
    )


def test_of_two_columns_named_equally_the_one_the_ask_governs_is_the_target(
    plant: Built,
) -> None:
    objective = _read(
        plant, "Predict the number of defects on lines run by the night shift, RMSE under 3"
    )
    assert objective.target_column == "defectCount"
    assert any("the ask governs" in line for line in objective.rationale)
    _same(plant, "inspections", objective.cohort_sql, "shift = 'night'", 600)


def test_without_an_ask_the_tie_is_still_an_error(plant: Built) -> None:
    with pytest.raises(ObjectiveError, match="equally well"):
        _read(plant, "defects and lines of the night shift, RMSE under 3")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Built:
    # An outcome coded by one letter per pole (A alive, D dead), a second code column whose
    # letters are no pair, and a route column whose values are abbreviated.
    return _build(
        tmp_path_factory.mktemp("registry"),
        "registry",
        [
            """
            CREATE TABLE trial_cases AS
            SELECT 'T' || i AS case_code,
                   CASE WHEN (i * 7) % 10 < 4 THEN 'D' ELSE 'A' END AS vital,
                   CASE WHEN i % 2 = 0 THEN 'X' ELSE 'Z' END AS arm,
                   CASE i % 4 WHEN 0 THEN 'oral' WHEN 1 THEN 'iv' WHEN 2 THEN 'haem'
                       ELSE 'topical' END AS route,
                   18 + (i * 11) % 60 AS age
            FROM range(500) t(i)
            """
        ],
    )


@pytest.mark.parametrize(
    "text",
    [
        "Predict which patients die, ROC AUC 0.7",
        "For patients older than 40, how well can we predict death? Accuracy 0.7",
        "mortality | patients over 40 | F1 >= 0.5",
    ],
)
def test_a_pole_word_names_an_outcome_coded_by_the_poles_initials(
    registry: Built, text: str
) -> None:
    objective = _read(registry, text)
    assert objective.target_column == "vital" and objective.positive_value == "D"
    assert any("initial of 'dead'" in line for line in objective.rationale)


def test_letters_that_are_no_pair_of_poles_name_nothing(registry: Built) -> None:
    with pytest.raises(ObjectiveError, match="no binary column"):
        # W/L would be the initials of won and lost: X/Z (and A/D) are no such pair.
        _read(registry, "Predict which patients win, ROC AUC 0.7")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        # 'haemophilia' is no value ('haem' is stored): the list must not shrink to 'oral'.
        ("mortality | given orally or by haemophilia route | F1 >= 0.5", "'haemophilia'"),
        ("mortality | Utrecht + Leiden patients excluded | F1 >= 0.5", "'Utrecht|'Leiden"),
        ("mortality | recently transferred patients | F1 >= 0.5", "'transferred'"),
    ],
)
def test_a_field_that_selects_rows_is_read_whole_or_refused(
    registry: Built, text: str, named: str
) -> None:
    with pytest.raises(ObjectiveError, match=named):
        _read(registry, text)


@pytest.fixture(scope="module")
def hiring(tmp_path_factory: pytest.TempPathFactory) -> Built:
    # 'college' is a value of school_type and a word of the flag college_degree.
    return _build(
        tmp_path_factory.mktemp("hiring"),
        "hiring",
        [
            """
            CREATE TABLE applications AS
            SELECT i AS application_no,
                   CASE i % 3 WHEN 0 THEN 'college' WHEN 1 THEN 'high school' ELSE 'none' END
                       AS school_type,
                   CASE WHEN i % 4 = 0 THEN 0 ELSE 1 END AS college_degree,
                   CASE WHEN (i * 7) % 9 = 0 THEN 1 ELSE 0 END AS received_offer,
                   (i * 13) % 40 AS years_experience
            FROM range(720) t(i)
            """
        ],
    )


@pytest.mark.parametrize(
    "text",
    [
        "Which applications get an offer when the applicant has no college degree? AUC 0.7",
        "Predict which applications receive an offer, for applicants with no college degree, "
        "ROC AUC 0.7",
    ],
)
def test_a_negated_flag_is_read_whole_and_the_population_names_no_outcome(
    hiring: Built, text: str
) -> None:
    objective = _read(hiring, text)
    assert objective.target_column == "received_offer"
    _same(hiring, "applications", objective.cohort_sql, "college_degree = 0", 720)


def test_to_after_the_population_noun_introduces_a_cohort(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    built = _build(
        tmp_path_factory.mktemp("lending"),
        "lending",
        [
            """
            CREATE TABLE loans AS
            SELECT i AS loan_no,
                   CASE i % 3 WHEN 0 THEN 'small business' WHEN 1 THEN 'household'
                       ELSE 'farm' END AS borrower_type,
                   CASE WHEN (i * 7) % 11 = 0 THEN 1 ELSE 0 END AS defaulted
            FROM range(330) t(i)
            """
        ],
    )
    objective = _read(built, "Predict whether loans to a farm will default, ROC AUC 0.7")
    assert objective.target_column == "defaulted"
    _same(built, "loans", objective.cohort_sql, "borrower_type = 'farm'", 330)
    # 'to' that is no preposition of the population ('likely to churn') introduces nothing.
    with pytest.raises(ObjectiveError):
        _read(built, "Predict which loans are likely to farm, ROC AUC 0.7")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Built:
    # A loan book coded G/B (good, bad) and a bird survey coded A/I (adult, immature).
    return _build(
        tmp_path_factory.mktemp("book"),
        "book",
        [
            """
            CREATE TABLE loans AS
            SELECT i AS loan_ref, CASE WHEN (i * 7) % 10 < 2 THEN 'B' ELSE 'G' END AS status_cd,
                   5 + (i * 3) % 20 AS rate_pct
            FROM range(500) t(i)
            """,
            """
            CREATE TABLE birds AS
            SELECT i AS band_ref, CASE WHEN (i * 3) % 10 < 3 THEN 'A' ELSE 'I' END AS age_cls,
                   300 + (i * 11) % 900 AS weight_g
            FROM range(500) t(i)
            """,
        ],
    )


@pytest.mark.parametrize(
    ("text", "column", "positive"),
    [
        ("Predict which loans will go bad, with a ROC AUC of 0.7", "status_cd", "B"),
        ("adult vs immature; AUC 0.8", "age_cls", "A"),
    ],
)
def test_good_bad_and_adult_immature_codes_are_poles(
    book: Built, text: str, column: str, positive: str
) -> None:
    objective = _read(book, text)
    assert (objective.target_column, objective.positive_value) == (column, positive)
