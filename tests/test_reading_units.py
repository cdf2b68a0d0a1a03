"""Numbers tied to their column by a unit or by the people they describe: invented
warehouses (real DuckDB files) where several columns span the same number.

* '17-inch laptops', '5-star offers', '16-GB machines': the unit after the hyphen names the
  column the number equals; a hyphenated period nothing reads ('14-day deals') is refused;
* 'homes over 2,000 sq ft of living area': the words after the unit name the column;
* 'mothers aged 35 or older' of columns ``mage`` and ``fage``: the person's initial names
  the age column;
* 'on the 1-5 scale' of ratings from 1 to 5 describes the target's own range: no condition.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import assert_same_rows as _same
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import count_rows as _rows
from tests.goal_reading_warehouses import read_goal as _read


@pytest.fixture(scope="module")
def laptops(tmp_path_factory: pytest.TempPathFactory) -> Built:
    # Screens of 13 to 17 inches, 4 to 17 GB, 1 to 5 stars: numbers several columns span.
    return _build(
        tmp_path_factory.mktemp("laptops"),
        "laptops",
        [
            """
            CREATE TABLE offers AS
            SELECT i AS offer_no,
                   13 + i % 5 AS display_in,
                   4 + (i * 3) % 14 AS memory_gb,
                   1 + (i * 7) % 5 AS rating_stars,
                   CASE WHEN (i * 11) % 4 = 0 THEN 'yes' ELSE 'no' END AS sold_out
            FROM range(900) t(i)
            """
        ],
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("For 17-inch laptops, predict which offers sell out, ROC AUC 0.7", "display_in = 17"),
        ("Predict sold-out offers among 5-star offers, recall 0.6", "rating_stars = 5"),
        ("Predict which offers sell out for 16-GB machines, ROC AUC 0.7", "memory_gb = 16"),
    ],
)
def test_a_number_hyphenated_to_its_unit_reads_the_column_the_unit_names(
    laptops: Built, text: str, where: str
) -> None:
    objective = _read(laptops, text)
    assert objective.cohort_sql is not None
    expected = _rows(laptops, "offers", where)
    assert 0 < expected < 900
    assert _rows(laptops, "offers", objective.cohort_sql) == expected
    assert _rows(laptops, "offers", f"({objective.cohort_sql}) AND ({where})") == expected


def test_a_hyphenated_unit_no_column_names_is_refused(laptops: Built) -> None:
    # 'a 14-day trial' names nothing here: the number must not be dropped or guessed.
    with pytest.raises(ObjectiveError, match="14"):
        _read(laptops, "Predict which offers sell out for 14-day deals, ROC AUC 0.7")


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Built:
    # Living and lot areas and a price all span 2,000; so does each parent's age span 35.
    return _build(
        tmp_path_factory.mktemp("homes"),
        "homes",
        [
            """
            CREATE TABLE listings AS
            SELECT i AS listing_id,
                   800 + (i * 37) % 3000 AS living_area,
                   1500 + (i * 53) % 9000 AS lot_area,
                   900 + (i * 71) % 5000 AS asking_price,
                   CASE WHEN (i * 3) % 4 = 0 THEN 'yes' ELSE 'no' END AS has_pool
            FROM range(800) t(i)
            """,
            """
            CREATE TABLE births AS
            SELECT i AS birth_id,
                   16 + (i * 7) % 30 AS mage,
                   18 + (i * 11) % 40 AS fage,
                   CASE WHEN (i * 5) % 6 = 0 THEN 'early' ELSE 'term' END AS preterm
            FROM range(700) t(i)
            """,
        ],
    )


def test_the_words_after_a_unit_name_the_column(homes: Built) -> None:
    objective = _read(
        homes, "Which listings have a pool? F1 of 0.6, for homes over 2,000 sq ft of living area"
    )
    assert objective.cohort_sql is not None and "living_area" in objective.cohort_sql
    expected = _rows(homes, "listings", "living_area > 2000")
    assert 0 < expected < 800
    assert _rows(homes, "listings", objective.cohort_sql) == expected


def test_a_person_s_initial_names_their_age_column(homes: Built) -> None:
    mothers = _read(homes, "Predict preterm births, recall 0.6, for mothers aged 35 or older")
    assert mothers.cohort_sql is not None and "mage" in mothers.cohort_sql
    assert _rows(homes, "births", mothers.cohort_sql) == _rows(homes, "births", "mage >= 35") > 0
    fathers = _read(homes, "Predict preterm births, recall 0.6, for fathers aged 35 or older")
    assert fathers.cohort_sql is not None and "fage" in fathers.cohort_sql
    # No initial to go by: both ages stay candidates, and the error names them.
    with pytest.raises(ObjectiveError, match=r"fage.*mage|mage.*fage"):
        _read(homes, "Predict preterm births, recall 0.6, for parents aged 35 or older")


@pytest.fixture(scope="module")
def ratings(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("ratings"),
        "ratings",
        [
            """
            CREATE TABLE stays AS
            SELECT i AS stay_no,
                   1 + (i * 7) % 5 AS guest_rating,
                   1 + (i * 3) % 14 AS nights,
                   CASE WHEN i % 4 = 0 THEN 'suite' ELSE 'standard' END AS room_kind
            FROM range(500) t(i)
            """
        ],
    )


def test_the_ends_of_the_target_s_own_range_are_no_condition(ratings: Built) -> None:
    objective = _read(
        ratings, "How will a guest rate the stay on the 1-5 scale? accuracy of at least 0.4"
    )
    assert (objective.target_column, objective.cohort_sql) == ("guest_rating", None)
    assert any("target's own range" in line for line in objective.rationale)
    # Numbers that are not both ends of the target's values are still conditions to read.
    with pytest.raises(ObjectiveError, match="'3'"):
        _read(ratings, "How will a guest rate the stay on the 3-5 scale? accuracy of at least 0.4")


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Built:
    # A share held in percent (0 to 50) and a rate named by an abbreviation ('unemp').
    return _build(
        tmp_path_factory.mktemp("plans"),
        "plans",
        [
            """
            CREATE TABLE enrollees AS
            SELECT i AS enrollee_no,
                   list_extract([0, 25, 50], 1 + i % 3) AS coinsurance_pct,
                   round(3 + (i * 7) % 90 / 10.0, 1) AS county_unemp_rate,
                   CASE WHEN (i * 11) % 6 = 0 THEN 'Y' ELSE 'N' END AS admitted_yn
            FROM range(600) t(i)
            """
        ],
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "Predict whether an enrollee is admitted, for enrollees with 0% coinsurance, AUC 0.7",
            "coinsurance_pct = 0",
        ),
        (
            "Predict admitted enrollees for those without 50% coinsurance, ROC AUC of 0.7",
            "coinsurance_pct <> 50",
        ),
        (
            "Predict admitted enrollees in counties with an unemployment rate above 9%, AUC 0.7",
            "county_unemp_rate > 9",
        ),
    ],
)
def test_a_share_or_an_abbreviated_name_reads_its_column(
    plans: Built, text: str, where: str
) -> None:
    objective = _read(plans, text)
    assert objective.target_column == "admitted_yn" and objective.metric == "roc_auc"
    _same(plans, "enrollees", objective.cohort_sql, where, 600)
