"""Numeric and time conditions read the way people write them, against warehouses of their
own naming: a noun phrase after the number that runs through possessives and prepositions
('more than 5 years past their signup'), names shortened to contractions and initials
('yrs', 'cti_rat' for 'cost-to-income ratio'), negated counts ('do not have 2 bikes'), age
idioms ('members under 30', 'in their 40s'), years on a DATE column named as a year ('2012
and later'), a column of a child table ('whose top speed went above 40 on any ride'), and
errors that list only the columns whose values span the number.

Each reading is checked for the rows its predicate selects when DuckDB runs it, against a
predicate written by hand.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.condition_names import contracts, initialled
from dagster_agentic.kernel.policy.conditions import find_conditions
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse

Shelf = tuple[Path, WarehouseProfile]


def _build(path: Path, sql: list[str]) -> Shelf:
    conn = duckdb.connect(str(path))
    try:
        for statement in sql:
            conn.execute(statement)
    finally:
        conn.close()
    return path, profile_warehouse(Warehouse(path))


@pytest.fixture(scope="module")
def club(tmp_path_factory: pytest.TempPathFactory) -> Shelf:
    """Members of a cycling club, and their rides (several per member)."""
    return _build(
        tmp_path_factory.mktemp("conditions2") / "club.duckdb",
        [
            """
            CREATE TABLE members AS
            SELECT
                'M' || lpad(CAST(i AS VARCHAR), 4, '0') AS member_code,
                18 + (i * 7) % 63 AS age_yrs,
                (i * 5) % 21 AS yrs_since_signup,
                (i * 3) % 17 AS yrs_active,
                i % 4 AS bikes_owned,
                round(((i * 13) % 200) / 100.0, 2) AS cti_rat,
                CAST(make_date(2005 + i % 16, 1, 1) AS DATE) AS cohort_year,
                CASE WHEN i % 3 = 0 THEN 'yes' ELSE 'no' END AS renewed
            FROM range(400) t(i)
            """,
            """
            CREATE TABLE rides AS
            SELECT
                i AS ride_no,
                'M' || lpad(CAST((i * 7) % 400 AS VARCHAR), 4, '0') AS member_code,
                10 + (i * 11) % 45 AS max_spd,
                round(5 + (i * 17) % 900 / 10.0, 1) AS dist_km
            FROM range(1, 1601) t(i)
            """,
        ],
    )


@pytest.fixture(scope="module")
def crew(tmp_path_factory: pytest.TempPathFactory) -> Shelf:
    """Pilots with no column named as an age: only one column's values look like ages."""
    return _build(
        tmp_path_factory.mktemp("conditions2_crew") / "crew.duckdb",
        [
            """
            CREATE TABLE pilots AS
            SELECT
                'P' || CAST(i AS VARCHAR) AS pilot_ref,
                21 + (i * 7) % 45 AS lebensjahre,
                (i * 37) % 900 AS sorties,
                i % 3 AS dependants,
                CASE WHEN i % 4 = 0 THEN 'yes' ELSE 'no' END AS promoted
            FROM range(300) t(i)
            """
        ],
    )


def _read(shelf: Shelf, text: str) -> Objective:
    return interpret_objective(text, shelf[1], GoalOverrides())


def _rows(shelf: Shelf, where: str | None) -> int:
    conn = duckdb.connect(str(shelf[0]), read_only=True)
    try:
        table = shelf[1].tables[0].name
        row = conn.execute(f"SELECT count(*) FROM {table} WHERE {where or 'TRUE'}").fetchone()
    finally:
        conn.close()
    assert row is not None
    return int(row[0])


def _same_rows(shelf: Shelf, text: str, expected: str) -> Objective:
    objective = _read(shelf, text)
    assert objective.cohort_sql is not None, objective.rationale
    assert _rows(shelf, objective.cohort_sql) == _rows(shelf, expected), objective.cohort_sql
    assert 0 < _rows(shelf, expected) < shelf[1].tables[0].row_count
    return objective


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The noun phrase after the number runs through a possessive and a preposition.
        (
            "Predict renewed for members more than 5 years past their signup, ROC AUC 0.8",
            "yrs_since_signup > 5",
        ),
        (
            "Predict renewed for members with over 8 years since signup, ROC AUC 0.8",
            "yrs_since_signup > 8",
        ),
        (
            "Predict renewed for members with at least 4 active years, ROC AUC 0.8",
            "yrs_active >= 4",
        ),
        # Initials of a hyphenated phrase: 'cost-to-income ratio' is cti_rat.
        (
            "Predict renewed, ROC AUC 0.8, cost-to-income ratio over 0.5",
            "cti_rat > 0.5",
        ),
        (
            "Predict renewed for members whose cost to income ratio is below 0.3, ROC AUC 0.8",
            "cti_rat < 0.3",
        ),
    ],
)
def test_the_words_after_and_before_a_number_name_the_column(
    club: Shelf, text: str, expected: str
) -> None:
    _same_rows(club, text, expected)


@pytest.mark.parametrize(
    "text",
    [
        "Predict renewed for members that do not have 2 bikes, ROC AUC 0.8",
        "Predict renewed for members who don't have 2 bikes, ROC AUC 0.8",
        "Predict renewed for members without 2 bikes, ROC AUC 0.8",
        "Predict renewed for members with other than 2 bikes, ROC AUC 0.8",
        "Predict renewed for members whose bikes_owned is not 2, ROC AUC 0.8",
    ],
)
def test_a_negated_count_selects_the_other_rows(club: Shelf, text: str) -> None:
    objective = _same_rows(club, text, "bikes_owned <> 2")
    assert "<>" in (objective.cohort_sql or "")


def test_a_negated_comparison_is_its_opposite(club: Shelf) -> None:
    _same_rows(
        club, "Predict renewed for members who are not older than 40, ROC AUC 0.8", "age_yrs <= 40"
    )
    _same_rows(
        club,
        "Predict renewed excluding members above 2 bikes_owned, ROC AUC 0.8",
        "bikes_owned <= 2",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Predict renewed for members under 30, ROC AUC 0.8", "age_yrs < 30"),
        ("Predict renewed for retirees older than 65, ROC AUC 0.8", "age_yrs > 65"),
        ("Predict renewed for women in their 40s, ROC AUC 0.8", "age_yrs >= 40 AND age_yrs < 50"),
        (
            "Predict renewed for members in their thirties, ROC AUC 0.8",
            "age_yrs >= 30 AND age_yrs < 40",
        ),
        ("Predict renewed for members over 60 years old, ROC AUC 0.8", "age_yrs > 60"),
        ("Predict renewed for mothers aged 25 to 35, ROC AUC 0.8", "age_yrs BETWEEN 25 AND 35"),
    ],
)
def test_a_bare_number_of_people_is_their_age(club: Shelf, text: str, expected: str) -> None:
    _same_rows(club, text, expected)


def test_an_adjective_is_no_age(club: Shelf) -> None:
    """'taller than 180' says what is compared: no age, and no column is called height."""
    with pytest.raises(ObjectiveError, match="cannot tell which column"):
        _read(club, "Predict renewed for members taller than 180, ROC AUC 0.8")


def test_older_than_reads_the_one_column_whose_values_fit_an_age(crew: Shelf) -> None:
    """No column is named as an age; of those whose values span 40, only lebensjahre (21 to
    65) looks like a person's age: sorties run to 899, dependants stop at 2."""
    objective = _same_rows(
        crew, "Predict promoted for pilots older than 40, ROC AUC 0.8", "lebensjahre > 40"
    )
    assert any("fit a person's age" in line for line in objective.rationale)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Predict renewed for 2012 and later members, ROC AUC 0.8", "year(cohort_year) >= 2012"),
        ("Predict renewed for members from 2015 on, ROC AUC 0.8", "year(cohort_year) >= 2015"),
        ("Predict renewed for members before 2010, ROC AUC 0.8", "year(cohort_year) < 2010"),
        ("Predict renewed for members up to 2010, ROC AUC 0.8", "year(cohort_year) <= 2010"),
        ("Predict renewed for pre-2008 members, ROC AUC 0.8", "year(cohort_year) < 2008"),
        (
            "Predict renewed for the 2009 or earlier members, ROC AUC 0.8",
            "year(cohort_year) <= 2009",
        ),
    ],
)
def test_a_year_reads_the_date_column_named_as_a_year(
    club: Shelf, text: str, expected: str
) -> None:
    _same_rows(club, text, expected)


def test_a_child_column_selects_the_entities_with_such_a_row(club: Shelf) -> None:
    """'whose top speed went above 40 on any ride': max_spd of rides, several per member."""
    from dagster_agentic.kernel.policy.categories import children, places
    from dagster_agentic.kernel.policy.ranges import resolve_condition

    profile = club[1]
    members = profile.table("members")
    assert members is not None
    text = "Predict renewed for members whose max speed went above 40 on any ride, ROC AUC 0.8"
    [condition] = [c for c in find_conditions(text, []) if c.kind == "range"]
    resolved = resolve_condition(
        condition, places(profile, members), ("members", "renewed"), children(profile, members)
    )
    assert resolved.place.many and resolved.place.table.name == "rides"
    assert resolved.sql == "max_spd > 40"
    # Without the children, the same words name nothing of the entity: an error, not a guess.
    with pytest.raises(ObjectiveError, match="cannot tell which column"):
        resolve_condition(condition, places(profile, members), ("members", "renewed"))


def test_contractions_and_initials_are_read_by_their_letters() -> None:
    assert contracts("yrs", "years") and contracts("amt", "amount") and contracts("nbr", "number")
    assert not contracts("age", "average") and not contracts("yrs", "yards_s")
    assert initialled(["payments-to-income", "ratio"], ["pirat"]) == {"payments-to-income", "ratio"}
    assert initialled(["birth", "weight"], ["bwt"]) == {"birth", "weight"}
    assert not initialled(["birth", "weight"], ["lwt"])
