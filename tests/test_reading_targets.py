"""Reading the outcome: target words, the positive class, and numbers that belong to no metric.

Small real DuckDB warehouses with naming of their own, profiled by the real profiler:

* ``crew``: one table whose target is named in the plural ('stipends', 'bounties'), and
  several rate columns whose names start with an initialism (gq = green quality).
* ``diner``: a relational warehouse where a menu table holds one row per visit and dish (each
  dish once per visit) next to a label table of the dish each visit picked: the menu's Dish
  column holds the label's values but cannot be the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.kernel.policy.target import forms
from dagster_agentic.kernel.policy.target_columns import enumerated_by
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse


def _crew(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        """
        CREATE TABLE crew AS
        SELECT
            i AS sailor_no,
            2018 + i % 5 AS season,
            CASE i % 3 WHEN 0 THEN 'deck' WHEN 1 THEN 'galley' ELSE 'engine' END AS post,
            round(200 + (i * 37) % 900 / 3.0, 1) AS stipend,
            (i * 13) % 500 + 10 AS bounty,
            round((i * 7) % 100 / 10.0, 2) AS gq_rate,
            round((i * 11) % 100 / 10.0, 2) AS ab_rate,
            round((i * 3) % 100 / 10.0, 2) AS gq_hull,
            1 + i % 4 AS gq_band,
            1 + (i * 7) % 40 AS duty_rank,
            CASE i % 3 WHEN 0 THEN '1. Single' WHEN 1 THEN '2. Married' ELSE '3. Widowed' END
                AS maritl,
            CASE WHEN i % 5 < 3 THEN '1. Yes' ELSE '2. No' END AS insured,  -- yes is the majority
            40 + (i * 17) % 90 AS sqft,
            round(5 + (i * 29) % 400 / 10.0, 1) AS outport,
            (i * 3) % 25 AS trips,
            (i * 19) % 60 AS sales,
            1 + (i * 3) % 5 AS duty_level,
            CASE i % 3 WHEN 0 THEN 'lookout' WHEN 1 THEN 'helm' ELSE 'rigging' END AS duty_role
        FROM range(300) t(i)
        """
    )


def _menu(conn: duckdb.DuckDBPyConnection, reviews: bool) -> None:
    conn.execute(
        """
        CREATE TABLE Venues AS
        SELECT * FROM (VALUES (1, 'Quayside', 'East'), (2, 'Old Mill', 'West'),
                              (3, 'Harbour Arch', 'East')) v(VenueId, VenueName, Area)
        """
    )
    conn.execute(
        """
        CREATE TABLE Visits AS
        SELECT
            i AS VisitId,
            1 + i % 3 AS VenueId,
            DATE '2024-01-01' + CAST((i * 7) % 330 AS INTEGER) AS VisitDate,
            round(10 + (i * 17) % 300 / 10.0, 1) AS Spend
        FROM range(1, 601) t(i)
        """
    )
    conn.execute(
        """
        CREATE TABLE MenuOffers AS
        SELECT
            row_number() OVER (ORDER BY v.i, d.dish) AS OfferId,
            v.i AS VisitId,
            d.dish AS Dish,
            CASE WHEN d.dish = 'Risotto' THEN 14.5 + v.i % 4 ELSE 11.0 + v.i % 3 END AS ListPrice
        FROM range(1, 601) v(i), (VALUES ('Noodles'), ('Risotto')) d(dish)
        """
    )
    # Risotto is the majority: a reading by counts would make Noodles the positive class.
    conn.execute(
        """
        CREATE TABLE DishPicks AS
        SELECT i AS VisitId, CASE WHEN (i * 7) % 10 < 6 THEN 'Risotto' ELSE 'Noodles' END
            AS DishPicked
        FROM range(1, 601) t(i)
        """
    )
    if reviews:
        conn.execute(
            """
            CREATE TABLE Reviews AS
            SELECT i AS VisitId, CASE WHEN i % 4 = 0 THEN 'Noodles' ELSE 'Risotto' END
                AS DishPraised
            FROM range(1, 601) t(i)
            """
        )


@dataclass(frozen=True)
class Shelf:
    paths: dict[str, Path]
    profiles: dict[str, WarehouseProfile]


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> Shelf:
    root = tmp_path_factory.mktemp("reading_targets")
    builders = {
        "crew": _crew,
        "diner": lambda c: _menu(c, reviews=False),
        "diner_reviews": lambda c: _menu(c, reviews=True),
    }
    paths: dict[str, Path] = {}
    for name, build in builders.items():
        path = root / f"{name}.duckdb"
        with duckdb.connect(str(path)) as conn:
            build(conn)
        paths[name] = path
    profiles = {name: profile_warehouse(Warehouse(path)) for name, path in paths.items()}
    return Shelf(paths, profiles)


def read(shelf: Shelf, name: str, text: str) -> Objective:
    return interpret_objective(text, shelf.profiles[name], GoalOverrides())


def test_singular_forms() -> None:
    assert forms("wages") == ("wages", "wage")
    assert forms("salaries") == ("salaries", "salary")
    assert "box" in forms("boxes")
    assert forms("status") == ("status",)
    assert forms("class") == ("class",)


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("Predict stipends of the crew with an RMSE below 50", "stipend"),
        ("Estimate the bounties of each sailor, MAE under 40", "bounty"),
        ("Predict the stipend of each sailor with an RMSE below 50", "stipend"),
    ],
)
def test_a_plural_names_the_column(shelf: Shelf, text: str, column: str) -> None:
    objective = read(shelf, "crew", text)
    assert (objective.task, objective.target_column) == ("regression", column)
    assert objective.metric in {"rmse", "mae"}


def test_initialism_and_generic_noun_name_the_column(shelf: Shelf) -> None:
    # 'green quality' spells the gq of gq_rate; the generic 'rate' backs gq_rate over gq_hull.
    objective = read(shelf, "crew", "Predict the green quality rate of each sailor, RMSE 0.4")
    assert objective.target_column == "gq_rate"
    assert any("green quality" in line for line in objective.rationale)


def test_exact_name_as_stored(shelf: Shelf) -> None:
    assert read(shelf, "crew", "Predict ab_rate with an MAE under 1").target_column == "ab_rate"


def test_generic_noun_alone_is_an_ambiguity_listing_the_candidates(shelf: Shelf) -> None:
    with pytest.raises(ObjectiveError) as caught:
        read(shelf, "crew", "Predict the rate of each sailor, RMSE below 0.5")
    message = str(caught.value)
    assert message.startswith("several columns match the objective's word 'rate'")
    assert "crew.gq_rate" in message and "crew.ab_rate" in message


def test_menu_column_enumerating_each_dish_per_visit_is_no_outcome(shelf: Shelf) -> None:
    profile = shelf.profiles["diner"]
    menu = profile.table("MenuOffers")
    picks = profile.table("DishPicks")
    assert menu is not None and picks is not None
    dish, picked = menu.column("Dish"), picks.column("DishPicked")
    assert dish is not None and picked is not None
    assert enumerated_by(profile, menu, dish) == "VisitId"
    assert enumerated_by(profile, picks, picked) is None

    objective = read(
        shelf, "diner", "Predict whether a diner orders Noodles rather than Risotto, ROC AUC 0.8"
    )
    assert (objective.label_table, objective.target_column) == ("DishPicks", "DishPicked")
    assert (objective.entity_table, objective.entity_key) == ("Visits", "VisitId")
    assert objective.positive_value == "Noodles"


@pytest.mark.parametrize(
    ("text", "positive"),
    [
        ("Predict whether a diner orders Risotto rather than Noodles, ROC AUC 0.8", "Risotto"),
        ("Which visits since June 2024 will be Noodles? Accuracy of 80%.", "Noodles"),
        ("Will a visit end in Noodles or not? precision 0.7", "Noodles"),
        ("Predict the dish picked, Risotto vs Noodles, with a ROC AUC of 0.8", "Risotto"),
    ],
)
def test_the_value_named_as_the_event_is_positive(shelf: Shelf, text: str, positive: str) -> None:
    objective = read(shelf, "diner", text)
    assert objective.target_column == "DishPicked"
    assert objective.positive_value == positive
    line = next(line for line in objective.rationale if line.startswith("positive class"))
    assert "minority" not in line and "equally frequent" not in line


def test_a_phrase_spelling_the_outcome_value_is_no_cohort(shelf: Shelf) -> None:
    objective = read(shelf, "diner", "noodles visits in the West area, precision 0.7")
    assert objective.target_column == "DishPicked"
    assert objective.positive_value == "Noodles"
    assert objective.cohort_sql is not None and "West" in objective.cohort_sql
    assert "Noodles" not in objective.cohort_sql


def test_two_columns_holding_the_named_values_are_an_ambiguity(shelf: Shelf) -> None:
    with pytest.raises(ObjectiveError) as caught:
        read(shelf, "diner_reviews", "Predict whether a diner gets Noodles, ROC AUC 0.8")
    message = str(caught.value)
    assert "DishPicks.DishPicked" in message and "Reviews.DishPraised" in message


@pytest.mark.parametrize(
    "text",
    [
        "Predict the stipend of sailors whose season is 2021 with an MAE under 30",
        "Predict stipends for the crew signed on in 2021, MAE under 30",
    ],
)
def test_a_year_is_no_threshold(shelf: Shelf, text: str) -> None:
    """The year belongs to the cohort: read as its condition, or refused naming the column
    that holds it; never a second threshold, never dropped."""
    try:
        objective = read(shelf, "crew", text)
    except ObjectiveError as error:
        assert "2021" in str(error) and "crew.season" in str(error)
        assert "threshold" not in str(error).split(";")[0]
    else:
        assert (objective.metric, objective.threshold) == ("mae", 30)
        assert objective.cohort_sql is not None and "2021" in objective.cohort_sql


@pytest.mark.parametrize(
    "text",
    [
        "Predict which visits pick Noodles with 70% precision",
        "Predict which visits pick Noodles, 0.7 or higher precision",
        "Predict which visits pick Noodles, a precision of 0.7",
    ],
)
def test_a_number_against_its_metric_is_still_the_threshold(shelf: Shelf, text: str) -> None:
    objective = read(shelf, "diner", text)
    assert (objective.metric, objective.threshold) == ("precision", 0.7)


def test_a_number_nothing_reads_is_refused(shelf: Shelf) -> None:
    """A number neither tied to the metric nor read by a cohort condition is no silent no-op."""
    with pytest.raises(ObjectiveError) as caught:
        read(shelf, "crew", "Predict the stipend of the 7000 sailors with an MAE under 30")
    assert "'7000'" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "Rank our sailors from best to worst by expected stipend",
        "We want to rank sailors by their stipend",
        "Order the crew from highest to lowest stipend",
    ],
)
def test_a_ranking_goal_is_refused_as_ranking(shelf: Shelf, text: str) -> None:
    with pytest.raises(ObjectiveError) as caught:
        read(shelf, "crew", text)
    assert "ranking" in str(caught.value) and "supported tasks" in str(caught.value)


def test_a_rank_column_is_still_a_target(shelf: Shelf) -> None:
    objective = read(shelf, "crew", "Predict each sailor's duty rank, MAE below 2")
    assert (objective.task, objective.target_column) == ("regression", "duty_rank")


@pytest.mark.parametrize(
    ("text", "column"),
    [
        # a name with letters left out
        ("Predict the marital status of each sailor, macro F1 0.3", "maritl"),
        # two words spelled by pieces of each
        ("Predict the square footage of each sailor's quarters, MAE under 20", "sqft"),
        # a hyphenated compound written without its hyphens and joiners
        ("Predict the out-of-port figure of each sailor with an RMSE of 5", "outport"),
        # a population noun after 'the number of' is the quantity
        ("Predict the number of trips each sailor makes, MAE under 3", "trips"),
        # an inflection of the name ('sell' for sales), over money-like names
        ("How many items will each sailor sell? RMSE below 5", "sales"),
        # a two-letter part of a compound name, as the warehouse abbreviates it
        ("Predict the gq rate of each sailor, MAE under 1", "gq_rate"),
    ],
)
def test_names_written_the_way_people_write_them(shelf: Shelf, text: str, column: str) -> None:
    assert read(shelf, "crew", text).target_column == column


def test_a_numbered_yes_is_the_positive_class(shelf: Shelf) -> None:
    objective = read(shelf, "crew", "Which sailors are insured? recall 0.7")
    assert (objective.target_column, objective.positive_value) == ("insured", "1. Yes")


def test_the_unit_of_a_window_is_no_target_word(shelf: Shelf) -> None:
    objective = read(shelf, "crew", "Predict the 5-year stipend of each sailor, MAE under 30")
    assert objective.target_column == "stipend"


def test_a_cohort_value_of_the_target_does_not_make_it_the_event(shelf: Shelf) -> None:
    """'Risotto', the majority, is written after 'rather than': it is the other class."""
    objective = read(
        shelf, "diner", "Which visits will pick Noodles rather than Risotto? precision 0.7"
    )
    assert objective.positive_value == "Noodles"


def test_a_generic_noun_backs_only_the_column_of_the_word_beside_it(shelf: Shelf) -> None:
    level = read(shelf, "crew", "Predict the duty level of each sailor, macro F1 0.4")
    assert level.target_column == "duty_level"
    # 'level' qualifies 'morale', which no column names: duty_level and duty_role stay tied.
    with pytest.raises(ObjectiveError) as caught:
        read(shelf, "crew", "Predict the duty morale level of each sailor, macro F1 0.4")
    assert "crew.duty_level" in str(caught.value) and "crew.duty_role" in str(caught.value)
