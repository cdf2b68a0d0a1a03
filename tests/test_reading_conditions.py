"""Numeric and time conditions, and which phrases are cohorts at all, read against a real
profiled warehouse of its own naming.

The warehouse is a small DuckDB file of farms: counts named by their plural ('trees',
'hives'), an abbreviated name ('temp' for temperature), a column whose name is a word
inside another's ('price', 'export_price'), a multi-word count ('years_in_coop'), and an
integer harvest 'season' as its only time-like column. Each condition is checked for the
predicate it becomes and the rows that predicate selects when DuckDB runs it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.conditions import find_conditions
from dagster_agentic.kernel.policy.objective import interpret_objective, warehouse_nouns
from dagster_agentic.kernel.policy.phrases import Nouns, Phrase, find_phrases, known_words
from dagster_agentic.kernel.policy.ranges import numeric_namer
from dagster_agentic.kernel.policy.text import tokenize
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse


def _farms(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        """
        CREATE TABLE farms AS
        SELECT
            'F' || lpad(CAST(i AS VARCHAR), 4, '0') AS farm_code,
            50 + (i * 37) % 400 AS trees,
            (i * 7) % 40 AS hives,
            (i * 5) % 30 AS vols,
            2000 + (i * 31) % 8000 AS sqm,
            round(10 + (i * 13) % 120 / 10.0, 1) AS temp,
            round(1 + (i * 11) % 30 / 10.0, 2) AS price,
            round(2 + (i * 17) % 40 / 10.0, 2) AS export_price,
            (i * 3) % 25 AS years_in_coop,
            2015 + i % 8 AS season,
            CASE i % 3 WHEN 0 THEN 'North' WHEN 1 THEN 'Coast' ELSE 'Valley' END AS district,
            CASE WHEN i % 4 = 0 THEN 1 ELSE 0 END AS certified,
            round(5 + (i * 29) % 300 / 10.0, 1) AS yield_tonnes
        FROM range(480) t(i)
        """
    )


@pytest.fixture(scope="module")
def farms(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    path = tmp_path_factory.mktemp("reading_conditions") / "farms.duckdb"
    conn = duckdb.connect(str(path))
    try:
        _farms(conn)
    finally:
        conn.close()
    return path, profile_warehouse(Warehouse(path))


def _read(farms: tuple[Path, WarehouseProfile], text: str) -> Objective:
    return interpret_objective(text, farms[1], GoalOverrides())


def _rows(path: Path, where: str) -> int:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        row = conn.execute(f"SELECT count(*) FROM farms WHERE {where}").fetchone()
    finally:
        conn.close()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("text", "sql", "expected"),
    [
        # the noun after the number names the column, by its name ...
        (
            "Predict yield_tonnes for farms with more than 300 trees, MAE below 3",
            "trees > 300",
            "trees > 300",
        ),
        ("yield_tonnes of farms with at least 20 hives, MAE below 3", "hives >= 20", "hives >= 20"),
        ("yield_tonnes of farms with 20 or more hives, MAE below 3", "hives >= 20", "hives >= 20"),
        # ... or by the abbreviation the column uses ('temp' of temperature, 'vols' of volunteers)
        ("yield_tonnes where temperatures are above 18, MAE below 3", "temp > 18", "temp > 18"),
        (
            "yield_tonnes of farms with more than 10 volunteers, MAE below 3",
            "vols > 10",
            "vols > 10",
        ),
        # a multi-word name, written as prose or as the identifier
        (
            "yield_tonnes for farms with more than 10 years in the coop, MAE below 3",
            "years_in_coop > 10",
            "years_in_coop > 10",
        ),
        (
            "yield_tonnes for farms with years_in_coop above 10, MAE below 3",
            "years_in_coop > 10",
            "years_in_coop > 10",
        ),
        # the exact name wins over a compound that contains it
        (
            "yield_tonnes, MAE < 3, price between 2 and 3",
            "price BETWEEN 2 AND 3",
            "price BETWEEN 2 AND 3",
        ),
        ("yield_tonnes, MAE < 3, export price above 4", "export_price > 4", "export_price > 4"),
        # numbers as words, the noun before 'or more', verbs of comparison
        (
            "yield_tonnes of farms with at least twenty hives, MAE below 3",
            "hives >= 20",
            "hives >= 20",
        ),
        ("yield_tonnes of farms with 20 hives or more, MAE below 3", "hives >= 20", "hives >= 20"),
        ("yield_tonnes of farms with 5 hives or fewer, MAE below 3", "hives <= 5", "hives <= 5"),
        ("yield_tonnes of farms whose temp exceeds 18, MAE below 3", "temp > 18", "temp > 18"),
        (
            "yield_tonnes of farms with more than 20 bee hives, MAE below 3",
            "hives > 20",
            "hives > 20",
        ),
        ("yield_tonnes of farms over 5000 sqm, MAE below 3", "sqm > 5000", "sqm > 5000"),
        # a count equal to a value
        ("yield_tonnes of farms with 12 hives, MAE below 3", "hives = 12", "hives = 12"),
        ("yield_tonnes of farms whose hives is 12, MAE below 3", "hives = 12", "hives = 12"),
    ],
)
def test_the_noun_of_a_number_names_its_column(
    farms: tuple[Path, WarehouseProfile], text: str, sql: str, expected: str
) -> None:
    objective = _read(farms, text)
    assert (objective.target_column, objective.metric, objective.threshold) == (
        "yield_tonnes",
        "mae",
        3.0,
    )
    assert objective.cohort_sql == sql
    assert _rows(farms[0], sql) == _rows(farms[0], expected) > 0


@pytest.mark.parametrize(
    "text",
    [
        "Predict yield_tonnes for farms harvested in 2019, RMSE under 5",
        "Predict yield_tonnes for farms in 2019, RMSE under 5",
        "Predict yield_tonnes for 2019, RMSE under 5",
        "Predict yield_tonnes for 2019 with an RMSE under 5",
        "Predict yield_tonnes in 2019 with an RMSE under 5",
        "Predict yield_tonnes of farms whose season is 2019 with an RMSE under 5",
        "Predict yield_tonnes for the 2019 season, RMSE under 5",
        "Predict yield_tonnes of farms in season 2019, RMSE under 5",
    ],
)
def test_a_year_reads_the_only_year_column_and_is_no_threshold(
    farms: tuple[Path, WarehouseProfile], text: str
) -> None:
    objective = _read(farms, text)
    assert (objective.metric, objective.threshold) == ("rmse", 5.0)
    assert objective.cohort_sql == "season = 2019"
    assert _rows(farms[0], "season = 2019") == 60


@pytest.mark.parametrize(
    ("text", "sql"),
    [
        (
            "yield_tonnes of farms between 2018 and 2020, RMSE under 5",
            "season BETWEEN 2018 AND 2020",
        ),
        ("yield_tonnes of farms since 2021, RMSE under 5", "season >= 2021"),
        ("yield_tonnes of farms harvested after 2020, RMSE under 5", "season > 2020"),
        ("Predict yield_tonnes in 2019 or later, RMSE under 5", "season >= 2019"),
        ("Predict yield_tonnes from 2020 onwards, RMSE under 5", "season >= 2020"),
        ("Predict yield_tonnes in 2017 or earlier, RMSE under 5", "season <= 2017"),
        ("Predict yield_tonnes from 2016 to 2018, RMSE under 5", "season BETWEEN 2016 AND 2018"),
        ("Predict yield_tonnes in 2016-2018, RMSE under 5", "season BETWEEN 2016 AND 2018"),
        (
            "Predict yield_tonnes of farms in the 2010s, RMSE under 5",
            "season BETWEEN 2010 AND 2019",
        ),
    ],
)
def test_a_span_of_years_reads_the_year_column(
    farms: tuple[Path, WarehouseProfile], text: str, sql: str
) -> None:
    objective = _read(farms, text)
    assert (objective.cohort_sql, objective.threshold) == (sql, 5.0)
    assert _rows(farms[0], sql) > 0


def test_a_count_of_years_is_not_a_calendar_year(farms: tuple[Path, WarehouseProfile]) -> None:
    """'years_in_coop' holds counts (0..24), not calendar years: 'in 2019' never reads it."""
    objective = _read(farms, "Predict yield_tonnes for farms in 2019, RMSE under 5")
    assert objective.cohort_sql is not None and "years_in_coop" not in objective.cohort_sql


def test_a_year_is_a_count_when_a_noun_follows(farms: tuple[Path, WarehouseProfile]) -> None:
    """'for 2000 farms' counts farms: it is no year, so it is not read as one."""
    found = find_conditions("yield_tonnes for 2000 farms, RMSE under 5", [])
    assert not [c for c in found if c.kind == "time"]


def test_an_unnamed_number_lists_the_columns_whose_values_span_it(
    farms: tuple[Path, WarehouseProfile],
) -> None:
    """The candidates are the numeric columns whose range holds the number: trees (50 and
    up) and sqm (2000 and up) cannot be 'more than 10' of anything the goal means."""
    with pytest.raises(ObjectiveError) as caught:
        _read(farms, "yield_tonnes of farms with more than 10 widgets, MAE below 3")
    message = str(caught.value)
    assert "cannot tell which column" in message and "span 10" in message
    for column in ("hives", "vols", "temp", "years_in_coop"):
        assert f"farms.{column}" in message
    for column in ("trees", "sqm", "price"):
        assert f"farms.{column}," not in message and not message.endswith(f"farms.{column}")


def test_the_noun_after_a_number_is_claimed_only_when_it_names_a_column() -> None:
    """A word after the number that names no numeric column stays free (it may name the
    target or a cohort): 'older than 60 churned' keeps 'churned'."""
    names = {"trees", "hives"}.__contains__
    [named] = find_conditions("farms with more than 300 trees", [], names)
    assert named.after == ("trees",) and named.text.endswith("trees")
    [bare] = find_conditions("customers older than 60 churned", [], names)
    assert bare.after == () and bare.text.endswith("60")


def test_a_flag_or_a_verb_after_the_number_is_never_its_column(
    farms: tuple[Path, WarehouseProfile],
) -> None:
    """A 0/1 column is an outcome, not a range's column: 'certified' after the number stays
    free to name the target, as does any past form ('farms above 300 trees defaulted')."""
    names = numeric_namer(farms[1])
    assert names("hives") and names("trees") and not names("certified")
    [condition] = find_conditions("farms with more than 20 hives certified", [], names)
    assert condition.after == ("hives",)
    [condition] = find_conditions("farms above 300 harvested", [], lambda w: True)
    assert condition.after == ()
    # a singular word after a number is a verb or a unit, not what is counted
    [condition] = find_conditions("customers over 60 spend", [], lambda w: w == "spend")
    assert condition.after == ()


def _phrases(profile: WarehouseProfile, text: str) -> list[Phrase]:
    nouns = replace(warehouse_nouns(profile), known=known_words(profile))
    return find_phrases(text, tokenize(text), nouns)


@pytest.mark.parametrize(
    "text",
    [
        "Our audit team wants the yield_tonnes of each farm, MAE below 3",
        "Infer the yield_tonnes of each farm from the rest of the survey, MAE below 3",
        "Rank our farms from best to worst by yield_tonnes",
        "Build a yield_tonnes model for our audit team, MAE below 3",
    ],
)
def test_context_words_are_no_cohort(farms: tuple[Path, WarehouseProfile], text: str) -> None:
    assert _phrases(farms[1], text) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # a value of the data, in any case
        ("yield_tonnes of the farms from the north, MAE below 3", ("north",)),
        # a proper name: resolved or an error, never dropped
        ("yield_tonnes of farms from Tuscany, MAE below 3", ("Tuscany",)),
        # a phrase led by a cohort word, whatever its words
        ("yield_tonnes for organic farms, MAE below 3", ("organic",)),
    ],
)
def test_phrases_that_may_select_rows_are_proposed(
    farms: tuple[Path, WarehouseProfile], text: str, words: tuple[str, ...]
) -> None:
    assert [p.words for p in _phrases(farms[1], text)] == [words]


def test_without_the_warehouse_words_every_phrase_is_proposed() -> None:
    text = "Our audit team wants the yield of each farm"
    assert [p.words for p in find_phrases(text, tokenize(text), Nouns())] == [("audit",)]


def test_known_words_match_forms_of_values(farms: tuple[Path, WarehouseProfile]) -> None:
    known = known_words(farms[1])
    assert known("coastal") and known("valleys") and known("districts") and known("farm")
    assert known("certified")  # a flag column's name selects rows on its own
    assert not known("rest") and not known("audit") and not known("best")
    assert not known("trees")  # a measure's name: 'our trees team' says whose team it is


def test_a_setting_after_the_population_is_no_cohort_but_an_attribute_is(
    farms: tuple[Path, WarehouseProfile],
) -> None:
    """'from the rest of the survey' sets the scene; 'with the highest spend' and a head
    introduced by 'for' ask for rows, so they are proposed (and resolved or refused)."""
    setting = "the yield_tonnes of farms from the rest of the survey, MAE below 3"
    assert _phrases(farms[1], setting) == []
    for text, words in [
        ("yield_tonnes of farms with the highest spend, MAE below 3", ("highest", "spend")),
        ("yield_tonnes for farms from the uplands, MAE below 3", ("uplands",)),
    ]:
        assert [p.words for p in _phrases(farms[1], text)] == [words]
        with pytest.raises(ObjectiveError, match="cannot resolve the cohort"):
            _read(farms, text)


def test_a_calendar_year_is_never_compared_with_a_count(tmp_path: Path) -> None:
    """'more than 10 years of experience' over a table whose only 'year' is the survey's
    calendar year is refused with the candidates, never read as year > 10."""
    path = tmp_path / "survey.duckdb"
    conn = duckdb.connect(str(path))
    try:
        conn.execute(
            "CREATE TABLE respondents AS SELECT i AS respondent_no, 2003 + i % 7 AS year, "
            "20 + i % 45 AS age, round(30 + (i * 17) % 200 / 2.0, 1) AS pay FROM range(300) t(i)"
        )
    finally:
        conn.close()
    profile = profile_warehouse(Warehouse(path))
    read = interpret_objective("Predict pay in 2005, MAE under 5", profile, GoalOverrides())
    assert read.cohort_sql == "year = 2005"
    with pytest.raises(ObjectiveError) as caught:
        interpret_objective(
            "Predict pay for respondents with more than 10 years of experience, MAE under 5",
            profile,
            GoalOverrides(),
        )
    assert "respondents.age" in str(caught.value)
    assert "respondents.year" not in str(caught.value)
