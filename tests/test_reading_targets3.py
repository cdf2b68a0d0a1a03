"""Targets, tasks and numbers read against real profiled warehouses of their own naming.

Three small DuckDB files: a ferry line's days (one column per pier beside the line's own
``boardings``, which is the whole line), beekeepers (counts named by their plural and by one
letter before it: ``stings``, ``wstings``; ``nswarm`` for swarms), and alloys whose element
columns are named by their symbols, most with a catalog comment that says the element. Each
goal is read as a user writes it; conditions are checked by the rows their predicate selects.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.naming import initialism
from dagster_agentic.kernel.policy.numbers import find_numbers
from dagster_agentic.kernel.policy.outcome_words import qualifiers
from dagster_agentic.kernel.policy.target import Qualifier, resolve_target
from dagster_agentic.kernel.policy.text import tokenize
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import count_rows as _rows
from tests.goal_reading_warehouses import read_goal as _read


@pytest.fixture(scope="module")
def ferries(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("ferries"),
        "ferries",
        [
            """
            CREATE TABLE crossings AS
            SELECT
                DATE '2019-01-01' + CAST(i AS INTEGER) AS day,
                round(20 + (i * 37) % 90 / 3.0, 2) AS boardings,
                round(5 + (i * 13) % 40 / 2.0, 2) AS Pier_North,
                round(3 + (i * 17) % 50 / 2.0, 2) AS Pier_South,
                round(4 + (i * 23) % 60 / 2.0, 2) AS south_boardings,
                round((i * 7) % 30 / 1.5, 1) AS wind,
                CASE WHEN i % 9 = 0 THEN 1 ELSE 0 END AS storm
            FROM range(700) t(i)
            """
        ],
    )


@pytest.fixture(scope="module")
def bees(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("bees"),
        "bees",
        [
            """
            CREATE TABLE keepers AS
            SELECT
                'K' || lpad(CAST(i AS VARCHAR), 4, '0') AS keeper_code,
                (i * 7) % 41 AS stings,
                (i * 11) % 23 AS wstings,
                (i * 5) % 7 AS nswarm,
                (i * 19) % 31 AS calls,
                round(1 + (i * 31) % 200 / 10.0, 1) AS est_yield,
                12 + (i * 37) % 84 AS income,
                18 + (i * 13) % 60 AS age,
                round(2 + (i * 29) % 300 / 10.0, 1) AS honey_kg,
                CASE i % 3 WHEN 0 THEN 'hill' WHEN 1 THEN 'meadow' ELSE 'forest' END AS site,
                CASE WHEN (i * 5) % 7 < 3 THEN 'yes' ELSE 'no' END AS overwintered
            FROM range(600) t(i)
            """
        ],
    )


@pytest.fixture(scope="module")
def alloys(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("alloys"),
        "alloys",
        [
            """
            CREATE TABLE ingots AS
            SELECT
                'I' || lpad(CAST(i AS VARCHAR), 4, '0') AS ingot_code,
                round(55 + (i * 37) % 300 / 10.0, 2) AS Cu,
                round(2 + (i * 13) % 250 / 10.0, 2) AS Zn,
                round((i * 17) % 80 / 10.0, 2) AS Sn,
                round((i * 19) % 60 / 10.0, 2) AS Pb,
                CASE i % 4 WHEN 0 THEN 'cast' WHEN 1 THEN 'rolled' WHEN 2 THEN 'drawn'
                    ELSE 'forged' END AS finish
            FROM range(500) t(i)
            """,
            "COMMENT ON COLUMN ingots.Cu IS 'Copper, weight percent'",
            "COMMENT ON COLUMN ingots.Zn IS 'Zinc, weight percent'",
            "COMMENT ON COLUMN ingots.Sn IS 'Tin, weight percent'",
        ],
    )


# --- numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("an R2 of at least 0,45", [(0.45, "fraction")]),
        ("MAE below 1,5 please", [(1.5, "bare")]),
        ("a recall of 0,875", [(0.875, "fraction")]),
        ("an RMSE below 0,300", [(0.3, "fraction")]),
        ("12,5% of them", [(0.125, "percent")]),
        ("loans above 40,000 and 1,250,000.5", [(40000.0, "amount"), (1250000.5, "amount")]),
        ("precision 0,8, recall 0,7", [(0.8, "fraction"), (0.7, "fraction")]),
    ],
)
def test_decimal_commas_and_thousands_separators(
    text: str, expected: list[tuple[float, str]]
) -> None:
    assert [(n.value, n.kind) for n in find_numbers(text)] == expected


def test_a_list_written_without_spaces_is_no_decimal() -> None:
    assert [n.value for n in find_numbers("levels 1,2,3")] == [1.0]


def test_decimal_comma_threshold_and_condition(bees: Built) -> None:
    objective = _read(bees, "Predict honey_kg of keepers older than 40 with an R² of at least 0,35")
    assert (objective.metric, objective.threshold) == ("r2", 0.35)
    assert objective.cohort_sql == "age > 40"
    mae = _read(bees, "honey_kg per keeper, hives of keepers aged 30 to 40, MAE below 2,5")
    assert (mae.metric, mae.threshold) == ("mae", 2.5)


def test_a_percentage_bounds_the_column_its_noun_names_by_comment(alloys: Built) -> None:
    objective = _read(
        alloys,
        "Can we tell each ingot's finish for ingots with more than 12.5% zinc at 70% accuracy?",
    )
    assert objective.target_column == "finish"
    assert (objective.metric, objective.threshold) == ("accuracy", 0.7)
    assert objective.cohort_sql == '"Zn" > 12.5'
    assert _rows(alloys, "ingots", objective.cohort_sql) == _rows(alloys, "ingots", "Zn > 12.5")


def test_a_percentage_of_a_noun_no_column_names_is_a_cohort_error(alloys: Built) -> None:
    with pytest.raises(ObjectiveError) as err:
        _read(
            alloys, "Classify each ingot's finish for ingots with more than 3% lead at 70% accuracy"
        )
    message = str(err.value)
    assert "'lead' names no column" in message
    assert "ingots.Pb" in message  # among the columns whose values span 3
    assert "tied to no metric" not in message


def test_a_percentage_before_a_metric_stays_its_threshold(alloys: Built) -> None:
    objective = _read(alloys, "Classify each ingot's finish with more than 80% accuracy")
    assert (objective.metric, objective.threshold, objective.cohort_sql) == ("accuracy", 0.8, None)


# --- tasks -------------------------------------------------------------------------------


def test_an_out_of_scope_word_that_is_a_form_of_a_class_column_names_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    seedlings = _build(
        tmp_path_factory.mktemp("seedlings"),
        "seedlings",
        [
            """
            CREATE TABLE seedlings AS
            SELECT 'S' || CAST(i AS VARCHAR) AS tag, round(2 + (i * 7) % 30 / 2.0, 1) AS height,
                CASE WHEN (i * 3) % 5 < 2 THEN 'no' ELSE 'yes' END AS survived_frost,
                CASE WHEN i % 4 = 0 THEN 'yes' ELSE 'no' END AS recommended
            FROM range(400) t(i)
            """
        ],
    )
    objective = _read(seedlings, "survival, seedlings with a height above 10, F1 >= 0.6")
    assert (objective.task, objective.target_column) == ("binary_classification", "survived_frost")
    assert objective.cohort_sql == "height > 10"
    assert _read(seedlings, "Predict which seedlings were recommended, F1 0.6").target_column == (
        "recommended"
    )
    # A phrase of the task itself is refused whatever the columns are called.
    with pytest.raises(ObjectiveError, match="survival / time-to-event"):
        _read(seedlings, "Predict the time until death of each seedling")


def test_survival_without_such_a_column_is_still_refused(bees: Built) -> None:
    with pytest.raises(ObjectiveError, match="survival / time-to-event"):
        _read(bees, "survival analysis of keepers, F1 0.6")


# --- targets -------------------------------------------------------------------------------


def test_the_noun_before_per_is_the_quantity(bees: Built) -> None:
    objective = _read(bees, "stings per keeper, 50 and older, mean absolute error below 4")
    assert (objective.task, objective.target_column) == ("regression", "stings")
    assert objective.cohort_sql == "age >= 50"
    # 'calls' is a population noun elsewhere ('which calls will drop'); before 'per' it is
    # what is counted.
    calls = _read(bees, "swarm calls per keeper, 50 and older, MAE below 4")
    assert calls.target_column == "calls"


def test_a_column_one_letter_longer_does_not_take_the_head_noun(bees: Built) -> None:
    # 'wstings' may be weekend stings or wasp stings: one letter accounts for no word.
    objective = _read(bees, "Predict the spring stings per keeper with an MAE below 3")
    assert objective.target_column == "stings"


def _target(built: Built, text: str, words: list[str]) -> tuple[str, list[str]]:
    """The target the words name, with the prepositional phrases of ``text`` as qualifiers."""
    notes: list[str] = []
    found = resolve_target(built[1], words, None, notes, qualifiers=qualifiers(tokenize(text)))
    return found.column, notes


def test_a_short_word_is_no_initialism_of_longer_pieces(bees: Built) -> None:
    # 'ag' + 'e' of 'average estimated' spells age, a word of its own; 'bmi' by its initials.
    objective = _read(bees, "Predict the average estimated yield per keeper, MAE below 3")
    assert objective.target_column == "est_yield"
    column = next(c for c in bees[1].tables[0].columns if c.name == "age")
    assert initialism(["average", "estimated"], column) == ("", ())
    bmi = column.model_copy(update={"name": "bmi"})
    assert initialism(["body", "mass", "index"], bmi) == ("bmi", ("body", "mass", "index"))


def test_a_name_after_a_preposition_qualifies_the_head_noun(ferries: Built) -> None:
    text = "Predict the daily boardings at Pier North with an RMSE below 4"
    column, notes = _target(ferries, text, ["daily", "boardings", "pier", "north"])
    assert column == "boardings"
    assert any("Pier_North" in line and "qualifies" in line for line in notes)
    # Without the phrase structure the two words of the name outnumber the head noun.
    assert resolve_target(ferries[1], ["daily", "boardings", "pier", "north"], None, []).column == (
        "Pier_North"
    )


def test_lower_case_words_after_a_preposition_are_an_ambiguity(ferries: Built) -> None:
    text = "predict daily boardings at the north pier, RMSE below 4"
    with pytest.raises(ObjectiveError) as err:
        _target(ferries, text, ["daily", "boardings", "north", "pier"])
    message = str(err.value)
    assert "crossings.Pier_North" in message and "crossings.boardings" in message


def test_a_column_the_head_names_too_accounts_for_every_word(ferries: Built) -> None:
    text = "Predict the boardings in South with an RMSE below 4"
    column, _ = _target(ferries, text, ["boardings", "south"])
    assert column == "south_boardings"


def test_qualifier_phrases() -> None:
    found = qualifiers(tokenize("the daily boardings at Pier North (in hundreds of people)"))
    assert found[0] == Qualifier(("pier", "north"), True)
    assert Qualifier(("hundreds",), False) not in found  # after '(' no word qualifies
    assert qualifiers(tokenize("the number of stings per keeper")) == []


# --- conditions ------------------------------------------------------------------------------


def test_a_condition_noun_one_letter_marks(bees: Built) -> None:
    objective = _read(bees, "Predict honey_kg for keepers with at least two swarms, MAE below 3")
    assert objective.cohort_sql == "nswarm >= 2"


def test_the_word_itself_wins_over_a_marked_name(bees: Built) -> None:
    objective = _read(bees, "Predict honey_kg for keepers with more than 20 stings, MAE below 3")
    assert objective.cohort_sql == "stings > 20"


def test_a_number_after_the_target_word_names_its_kind(bees: Built) -> None:
    objective = _read(
        bees,
        "Our club tracks site 3 apiaries. Predict the site of each keeper with a macro F1 of 0.5.",
    )
    assert objective.target_column == "site"


@pytest.mark.parametrize(
    ("cohort", "where"),
    [
        ("keepers no older than 30", "age <= 30"),
        ("keepers 30 or younger", "age <= 30"),
        ("keepers aged 60 and under", "age <= 60"),
        ("keepers aged 65-plus", "age >= 65"),
        ("keepers with 5 or fewer stings", "stings <= 5"),
        ("keepers with age>=40", "age >= 40"),
        ("keepers older than sixty-five", "age > 65"),
        ("keepers aged twenty one to thirty", "age BETWEEN 21 AND 30"),
    ],
)
def test_bounds_written_after_the_number_or_negated(bees: Built, cohort: str, where: str) -> None:
    objective = _read(bees, f"Predict honey_kg for {cohort}, MAE below 3")
    assert (objective.metric, objective.threshold) == ("mae", 3.0)
    assert objective.cohort_sql is not None
    read = _rows(bees, "keepers", objective.cohort_sql)
    assert read == _rows(bees, "keepers", where) and 0 < read < 600


@pytest.mark.parametrize(
    "text",
    [
        "Predict which keepers overwintered with an AUC of 0.8 or more",
        "Predict which keepers overwintered, precision 0.8 or higher",
        # a bound in brackets is the threshold, not a list of values
        "Which keepers overwintered? I care about F1 (0.8 or more).",
        "Predict which keepers overwintered: ROC AUC (0.8 or better)",
    ],
)
def test_or_more_after_a_metric_is_its_threshold(bees: Built, text: str) -> None:
    objective = _read(bees, text)
    assert objective.threshold == 0.8 and objective.cohort_sql is None


def test_an_error_of_at_most_is_its_threshold(bees: Built) -> None:
    objective = _read(bees, "Predict honey_kg per keeper with an RMSE of 4 or less")
    assert (objective.metric, objective.threshold, objective.cohort_sql) == ("rmse", 4.0, None)


def test_an_amount_with_a_scale_reads_a_column_held_in_thousands(bees: Built) -> None:
    objective = _read(bees, "Predict honey_kg for keepers with an income above 40k, MAE below 3")
    assert objective.cohort_sql == "income > 40"
    assert 0 < _rows(bees, "keepers", objective.cohort_sql) < 600
    assert any("in thousands" in line for line in objective.rationale)
    # A number the column's values reach is compared as written.
    assert _read(
        bees, "Predict honey_kg for keepers with an income above 50, MAE below 3"
    ).cohort_sql == ("income > 50")


def test_an_amount_written_in_full_reads_a_column_held_in_thousands(bees: Built) -> None:
    objective = _read(bees, "Predict honey_kg for keepers with an income above 40,000, MAE below 3")
    assert objective.cohort_sql == "income > 40"


@pytest.mark.parametrize(
    "cohort",
    [
        "keepers older than 90",
        "keepers with an income above $1.5m",
        "keepers with fewer than 0 stings",
    ],
)
def test_a_bound_beyond_every_value_is_an_error(bees: Built, cohort: str) -> None:
    with pytest.raises(ObjectiveError, match="selects no rows"):
        _read(bees, f"Predict honey_kg for {cohort}, MAE below 3")


def test_a_named_place_after_the_head_noun_qualifies_it_end_to_end(ferries: Built) -> None:
    assert (
        _read(
            ferries, "Predict the daily boardings at Pier North with an RMSE below 4"
        ).target_column
        == "boardings"
    )
    with pytest.raises(ObjectiveError):
        _read(ferries, "predict daily boardings at the north pier, RMSE below 4")
