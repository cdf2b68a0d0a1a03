"""Category values read from a goal's words the way people write them, on a real warehouse.

The warehouse is a small real DuckDB file of a works crew: an entity table whose category
values are stored in several conventions (numbered '2. Night', UPPER_SNAKE 'NORTH_YARD', short
day names 'Thu', one-letter grades, state codes, YES/NO plans named in contractions), a depot
dimension one hop away with multi-word unique names, a child with several trades per crew
member, and a child that lists every week for everyone. Each phrasing is checked for the rows
its cohort selects, by DuckDB, against a predicate written by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.categories import children, match_phrase, norm, places
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.kernel.policy.sql import check_cohort_sql
from dagster_agentic.kernel.policy.text import abbreviates, lemma
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse

_DAYS = "['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']"


def _works(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        """
        CREATE TABLE depots AS SELECT * FROM (VALUES
            ('HN', 'Harbour Depot North', 'Coastal'), ('HS', 'Harbour Depot South', 'Coastal'),
            ('IN', 'Inland Depot North', 'Interior'), ('IS', 'Inland Depot South', 'Interior')
        ) v(depot_code, depot_name, zone)
        """
    )
    conn.execute(
        f"""
        CREATE TABLE crew AS
        SELECT
            i AS crew_no,
            ['HN', 'HS', 'IN', 'IS'][1 + i % 4] AS depot_ref,
            CASE WHEN i % 5 < 3 THEN 'Harbour' ELSE 'Inland' END AS next_depot,
            ['walk', 'cycle', 'drive', 'transit'][1 + (i // 3) % 4] AS commute_mode,
            ['1. Day', '2. Night', '3. Swing'][1 + i % 3] AS shift,
            ['NORTH_YARD', 'SOUTH_YARD', 'EAST_YARD'][1 + (i // 2) % 3] AS site,
            {_DAYS}[1 + (i // 5) % 7] AS weekday,
            ['A', 'B', 'C', 'D', 'F', 'M', 'T', 'W'][1 + (i // 7) % 8] AS grade,
            ['CA', 'NY', 'TX', 'WA', 'OR'][1 + (i // 11) % 5] AS region_cd,
            CASE WHEN i % 6 = 0 THEN 'YES' ELSE 'NO' END AS INTL_ROTATION,
            CASE WHEN i % 4 = 1 THEN 'YES' ELSE 'NO' END AS PENSION_PLAN,
            ['Research & Development', 'Operations', 'Logistics'][1 + (i // 13) % 3] AS dept,
            20 + (i * 7) % 45 AS age,
            (i * 11) % 9 < 3 AS resigned
        FROM range(480) t(i)
        """
    )
    conn.execute(
        """
        CREATE TABLE crew_trades AS
        SELECT row_number() OVER () AS trade_no, i AS crew_no,
               ['Electrician', 'Welder', 'Rigger', 'Crane operator'][1 + (i + k) % 4] AS trade
        FROM range(480) t(i), range(3) r(k)
        WHERE k <= i % 3
        """
    )
    conn.execute(
        """
        CREATE TABLE crew_weeks AS
        SELECT row_number() OVER () AS week_no, i AS crew_no, 'week ' || (k + 1) AS week_label,
               CASE WHEN (i + k) % 3 = 0 THEN 'on call' ELSE 'off duty' END AS duty,
               (i * k) % 40 AS hours
        FROM range(480) t(i), range(2) r(k)
        """
    )
    conn.execute(
        """
        CREATE TABLE crew_certificates AS
        SELECT row_number() OVER () AS certificate_no, i AS crew_no,
               CASE WHEN k = 0 THEN 'Safety induction' ELSE 'First aid' END AS certificate
        FROM range(480) t(i), range(2) r(k)
        WHERE k = 0 OR i % 4 = 0
        """
    )


@dataclass(frozen=True)
class Yard:
    path: Path
    profile: WarehouseProfile


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> Yard:
    path = tmp_path_factory.mktemp("reading_values") / "works.duckdb"
    conn = duckdb.connect(str(path))
    try:
        _works(conn)
    finally:
        conn.close()
    return Yard(path, profile_warehouse(Warehouse(path)))


def _read(yard: Yard, text: str) -> Objective:
    objective = interpret_objective(text, yard.profile, GoalOverrides())
    assert objective.target_column == "resigned"
    assert objective.entity_table == "crew"
    return objective


def _rows(yard: Yard, objective: Objective, expected: str) -> int:
    """Rows the cohort selects: exactly those of ``expected``, some but not all."""
    assert objective.cohort_sql is not None
    entity = yard.profile.table("crew")
    assert entity is not None
    assert check_cohort_sql(objective.cohort_sql, entity, yard.profile) == objective.cohort_sql
    with duckdb.connect(str(yard.path), read_only=True) as conn:
        ours = conn.execute(f"SELECT count(*) FROM crew WHERE {objective.cohort_sql}").fetchone()
        differ = conn.execute(
            f"SELECT count(*) FROM crew WHERE ({objective.cohort_sql}) IS DISTINCT FROM "
            f"({expected})"
        ).fetchone()
    assert ours is not None and differ is not None
    assert 0 < ours[0] < 480, objective.cohort_sql
    assert differ[0] == 0, (objective.cohort_sql, expected)
    return int(ours[0])


_TRADE = "crew_no IN (SELECT crew_no FROM crew_trades WHERE trade = '{}')"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # derived word forms: agent nouns, plurals, numbered prefixes, values as stored
        ("Which cyclists will resign? Recall of 0.6", "commute_mode = 'cycle'"),
        ("For walkers, predict who will resign with a recall of 0.6", "commute_mode = 'walk'"),
        ("Predict which crew who are drivers will resign, recall 0.6", "commute_mode = 'drive'"),
        ("Which night workers will resign? recall 0.6", "shift = '2. Night'"),
        ("Predict resignation for crew who work 2. Night, recall 0.6", "shift = '2. Night'"),
        ("Predict resignation for crew on the swing shift, recall 0.6", "shift = '3. Swing'"),
        ("Predict resignation for crew at NORTH_YARD, recall 0.6", "site = 'NORTH_YARD'"),
        ("Predict resignation for crew at the north yard, recall 0.6", "site = 'NORTH_YARD'"),
        (
            "Predict resignation in research and development, recall 0.6",
            "dept = 'Research & Development'",
        ),
        # a value held in a child with several rows per crew member
        ("For electricians, predict resignation with recall 0.6", _TRADE.format("Electrician")),
        (
            "Predict resignation of crane operators, recall 0.6",
            _TRADE.format("Crane operator"),
        ),
        (
            "Which night welders will resign? recall 0.6",
            "shift = '2. Night' AND " + _TRADE.format("Welder"),
        ),
        (
            "Predict resignation for crew who are not riggers, recall 0.6",
            "NOT " + _TRADE.format("Rigger"),
        ),
        # the column a value belongs to: the longest whole value, a spelled-out short form,
        # a literal value over the country it also spells
        (
            "Predict resignation for crew at the harbour depot north, recall 0.6",
            "depot_ref IN (SELECT depot_code FROM depots WHERE depot_name = 'Harbour Depot North')",
        ),
        (
            "Predict resignation for crew of Inland Depot South, recall 0.6",
            "depot_ref = 'IS'",
        ),
        ("Predict resignation for crew working on Thursdays, recall 0.6", "weekday = 'Thu'"),
        ("Predict resignation for crew in CA, recall 0.6", "region_cd = 'CA'"),
        ("Predict resignation for crew in TX and CA, recall 0.6", "region_cd IN ('TX', 'CA')"),
        # a yes/no flag named by a paraphrase or by its name
        (
            "Predict resignation for crew on the international rotation, recall 0.6",
            "INTL_ROTATION = 'YES'",
        ),
        (
            "Predict resignation for crew with INTL_ROTATION yes, recall 0.6",
            "INTL_ROTATION = 'YES'",
        ),
        (
            "Predict resignation for crew whose PENSION_PLAN is YES, recall 0.6",
            "PENSION_PLAN = 'YES'",
        ),
    ],
)
def test_cohort_values_as_written(yard: Yard, text: str, expected: str) -> None:
    _rows(yard, _read(yard, text), expected)


def test_a_child_value_reads_as_having_such_a_row(yard: Yard) -> None:
    objective = _read(yard, "For electricians, predict resignation with recall 0.6")
    assert "has a crew_trades row where" in objective.cohort_description
    assert any("at least one such row" in line for line in objective.rationale)


def test_a_child_value_every_entity_holds_selects_nobody_in_particular(yard: Yard) -> None:
    """Every crew member has a safety induction: that value cannot narrow the population;
    first aid, held by a quarter of them, does."""
    crew = yard.profile.table("crew")
    assert crew is not None
    found = children(yard.profile, crew)
    label = ("crew", "resigned")
    assert not match_phrase(("safety", "induction"), None, found, label, frozenset())
    objective = _read(yard, "Predict resignation for crew with first aid, recall 0.6")
    _rows(
        yard,
        objective,
        "crew_no IN (SELECT crew_no FROM crew_certificates WHERE certificate = 'First aid')",
    )


def test_a_child_keyed_by_the_entity_and_a_category_is_not_searched(yard: Yard) -> None:
    """crew_weeks has one row per crew member and week: 'on call' of which week?"""
    crew = yard.profile.table("crew")
    assert crew is not None
    assert {s.table.name for s in children(yard.profile, crew)} == {
        "crew_trades",
        "crew_certificates",
    }
    with pytest.raises(ObjectiveError):
        _read(yard, "Predict resignation for crew on call, recall 0.6")


def test_a_qualifier_the_data_does_not_hold_is_an_error(yard: Yard) -> None:
    """'senior' names nothing: reading only 'electricians' would answer a broader question."""
    with pytest.raises(ObjectiveError) as caught:
        _read(yard, "For senior electricians, predict resignation with recall 0.6")
    message = str(caught.value)
    assert "'senior'" in message and "Electrician" in message


def test_a_value_spelled_nowhere_is_an_error(yard: Yard) -> None:
    with pytest.raises(ObjectiveError, match="plumbers"):
        _read(yard, "Predict resignation for crew at the plumbers depot, recall 0.6")


def test_the_description_claims_only_what_the_sql_does(yard: Yard) -> None:
    objective = _read(yard, "For cyclists aged 30 to 45, predict resignation with recall 0.6")
    _rows(yard, objective, "commute_mode = 'cycle' AND age BETWEEN 30 AND 45")
    description = objective.cohort_description
    assert "cyclists (" in description and "aged 30 to 45 (" in description
    assert "cyclists aged" not in description


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("renters", "rent"),
        ("freelancers", "freelance"),
        ("condos", "Condo"),
        ("scientists", "scientist"),
        ("categories", "category"),
        ("shelves", "shelf"),
        ("runners", "run"),
    ],
)
def test_lemma_meets_inflected_and_derived_forms(a: str, b: str) -> None:
    assert lemma(a) == lemma(b)


@pytest.mark.parametrize(("a", "b"), [("status", "stat"), ("users", "us"), ("class", "clas")])
def test_lemma_keeps_words_that_are_not_plurals(a: str, b: str) -> None:
    assert lemma(a) != lemma(b)


@pytest.mark.parametrize(
    ("short", "word", "expected"),
    [
        ("intl", "international", True),
        ("msgs", "messages", True),
        ("amt", "amount", True),
        ("yrs", "years", True),
        ("plan", "planet", False),
        ("cd", "code", False),
        ("int", "international", False),
    ],
)
def test_contractions(short: str, word: str, expected: bool) -> None:
    assert abbreviates(short, word) is expected


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        ("2. Married", "married"),
        ("(3) Other", "other"),
        ("ELK_GROVE", "Elk Grove"),
        ("Latin America & the Caribbean", "latin america and the caribbean"),
    ],
)
def test_norm_reads_values_as_stored(stored: str, written: str) -> None:
    assert norm(stored) == norm(written)


def test_a_year_like_value_keeps_its_number() -> None:
    assert norm("2019 season") == "2019 season"
    assert norm("3.5 stars") == "3 5 stars"


def test_places_are_unchanged_for_ranges(yard: Yard) -> None:
    """Numeric conditions still read only the entity and the tables one hop away."""
    crew = yard.profile.table("crew")
    assert crew is not None
    assert {s.table.name for s in places(yard.profile, crew)} == {"crew", "depots"}
