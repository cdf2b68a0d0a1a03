"""Category values written in other forms, negated lists, group nouns and child rows, on a
real warehouse.

A small DuckDB warehouse of a cycling club: riders of clubs (a parent table whose kinds are
'women', 'men', 'mixed'), a flag of self-coached riders named 'selfcoach', a home zone
(proper names with demonyms: 'Westria' -> 'Westrian'), a sex coded 'F'/'M', a usual ride day
stored as 'Mon' .. 'Sun', a squad ('Alpha', 'Beta'), and two children with several rows per
rider: fines, and laps on numbered tracks. Every reading is checked by the rows its cohort
selects, against a predicate written by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.claims import unclaimed_values
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.kernel.policy.sql import check_cohort_sql
from dagster_agentic.kernel.policy.text import derives_from, tokenize
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse


@dataclass(frozen=True)
class Club:
    path: Path
    profile: WarehouseProfile


@pytest.fixture(scope="module")
def club(tmp_path_factory: pytest.TempPathFactory) -> Club:
    path = tmp_path_factory.mktemp("reading_values2") / "club.duckdb"
    conn = duckdb.connect(str(path))
    try:
        conn.execute(
            """
            CREATE TABLE clubs AS SELECT * FROM (VALUES
                ('C1', 'women'), ('C2', 'men'), ('C3', 'mixed')
            ) v(club_code, club_kind)
            """
        )
        conn.execute(
            """
            CREATE TABLE riders AS
            SELECT i AS rider_id,
                   ['C1', 'C2', 'C3'][1 + (i // 2) % 3] AS club_ref,
                   CASE WHEN i % 7 < 2 THEN 'yes' ELSE 'no' END AS selfcoach,
                   ['Westria', 'Ostmark', 'Kelvia', 'Sudland'][1 + i % 4] AS zone,
                   CASE WHEN i % 3 = 0 THEN 'F' ELSE 'M' END AS sex,
                   ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][1 + (i // 4) % 7] AS ride_day,
                   CASE WHEN i % 5 < 2 THEN 'Alpha' ELSE 'Beta' END AS squad,
                   (i * 13) % 7 < 3 AS quit
            FROM range(420) t(i)
            """
        )
        conn.execute(
            """
            CREATE TABLE rider_fines AS
            SELECT row_number() OVER () AS fine_no, i AS rider_id,
                   5 + (i * 7 + k * 3) % 20 AS amount
            FROM range(420) t(i), range(2) r(k)
            WHERE i % 6 = 1 OR (i % 6 = 2 AND k = 0)
            """
        )
        conn.execute(
            """
            CREATE TABLE rider_laps AS
            SELECT row_number() OVER () AS lap_no, i AS rider_id, 1 + (i + k) % 9 AS track_no
            FROM range(420) t(i), range(2) r(k)
            """
        )
    finally:
        conn.close()
    return Club(path, profile_warehouse(Warehouse(path)))


def _read(club: Club, text: str) -> Objective:
    objective = interpret_objective(text, club.profile, GoalOverrides(target="riders.quit"))
    assert objective.entity_table == "riders"
    return objective


def _rows(club: Club, text: str, expected: str) -> None:
    objective = _read(club, text)
    sql = objective.cohort_sql
    assert sql is not None, objective.rationale
    entity = club.profile.table("riders")
    assert entity is not None
    assert check_cohort_sql(sql, entity, club.profile) == sql
    with duckdb.connect(str(club.path), read_only=True) as conn:
        ours = conn.execute(f"SELECT count(*) FROM riders WHERE {sql}").fetchone()
        differ = conn.execute(
            f"SELECT count(*) FROM riders WHERE ({sql}) IS DISTINCT FROM ({expected})"
        ).fetchone()
    assert ours is not None and differ is not None
    assert 0 < ours[0] < 420, sql
    assert differ[0] == 0, (sql, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an adjective of a stored name, with and without a cohort word before it
        ("Which Westrian riders will quit? Recall of 0.6", "zone = 'Westria'"),
        ("Kelvian riders: predict quitting, recall 0.6", "zone = 'Kelvia'"),
        ("quitting, Kelvian riders, recall 0.6", "zone = 'Kelvia'"),
        # a negation governs the whole list it introduces
        (
            "Predict quitting for riders outside Westria and the Ostmark, recall 0.6",
            "zone NOT IN ('Westria', 'Ostmark')",
        ),
        (
            "Predict quitting for riders not in Westria or Kelvia, recall 0.6",
            "zone NOT IN ('Westria', 'Kelvia')",
        ),
        (
            "Predict quitting for riders excluding Westria, Ostmark and Kelvia, recall 0.6",
            "zone = 'Sudland'",
        ),
        # general words for several values, values listed with a slash in brackets
        ("quitting, weekend riders (Sat/Sun), recall 0.6", "ride_day IN ('Sat', 'Sun')"),
        ("quitting for weekday riders, recall 0.6", "ride_day NOT IN ('Sat', 'Sun')"),
        ("quitting, Sat/Sun riders, recall 0.6", "ride_day IN ('Sat', 'Sun')"),
        (
            "quitting for weekend riders, i.e. Sat and Sun, recall 0.6",
            "ride_day IN ('Sat', 'Sun')",
        ),
        (
            "quitting for riders except on Sat/Sun, recall 0.6",
            "ride_day NOT IN ('Sat', 'Sun')",
        ),
        ("Which women will quit? Recall of 0.6", "sex = 'F'"),
        # the entity's own column over a parent's same word; the parent when its noun follows
        ("Predict each woman's quitting, recall 0.6", "sex = 'F'"),
        (
            "Predict quitting for riders of women clubs, recall 0.6",
            "club_ref IN (SELECT club_code FROM clubs WHERE club_kind = 'women')",
        ),
        # a flag whose name runs the words' leading letters together
        ("Predict quitting for self-coached riders, recall 0.6", "selfcoach = 'yes'"),
        ("Predict quitting for men, recall 0.6", "sex = 'M'"),
        # a value before a noun of a group is still a cohort
        ("quitting, Alpha group, recall 0.6", "squad = 'Alpha'"),
        ("quitting, Beta squad only, recall 0.6", "squad = 'Beta'"),
        # a number of a child's integer column the noun names: 'has such a row'
        (
            "Predict quitting for riders who rode track 3, recall 0.6",
            "rider_id IN (SELECT rider_id FROM rider_laps WHERE track_no = 3)",
        ),
        # a numeric condition on a child's column the words name
        (
            "Predict quitting for riders whose fine amount went above 10, recall 0.6",
            "rider_id IN (SELECT rider_id FROM rider_fines WHERE amount > 10)",
        ),
        # no row in a child table the words name
        (
            "Predict quitting for riders without any fines, recall 0.6",
            "rider_id NOT IN (SELECT rider_id FROM rider_fines)",
        ),
    ],
)
def test_cohort_in_other_forms(club: Club, text: str, expected: str) -> None:
    _rows(club, text, expected)


def test_an_aside_that_selects_other_rows_is_an_error(club: Club) -> None:
    with pytest.raises(ObjectiveError) as raised:
        _read(club, "quitting, weekend riders (Fri/Sat), recall 0.6")
    assert "weekend" in str(raised.value) and "Fri" in str(raised.value)


def test_an_absence_the_data_cannot_name_lists_the_child_tables(club: Club) -> None:
    with pytest.raises(ObjectiveError) as raised:
        _read(club, "Predict quitting for riders without any warnings, recall 0.6")
    assert "warnings" in str(raised.value) and "rider_fines" in str(raised.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("Which riders sent by our Acme agency will quit? Recall of 0.6", "Acme"),
        ("Which riders recruited by the regional office will quit? Recall of 0.6", "regional"),
    ],
)
def test_a_participle_cohort_the_data_cannot_read_is_an_error(
    club: Club, text: str, needle: str
) -> None:
    with pytest.raises(ObjectiveError) as raised:
        _read(club, text)
    assert needle in str(raised.value)


def test_the_outcome_verb_after_an_auxiliary_is_no_cohort(club: Club) -> None:
    objective = _read(club, "Which riders will be dropped by the club? Recall of 0.6")
    assert objective.cohort_sql is None


@pytest.mark.parametrize(
    ("word", "value", "expected"),
    [
        ("African", "Africa", True),
        ("Asian", "Asia", True),
        ("European", "Europe", True),
        ("Americans", "Americas", True),
        ("Canadian", "Canada", True),
        ("Japanese", "Japan", True),
        ("Iraqi", "Iraq", True),
        ("German", "Germany", True),
        ("Africa", "Africa", False),  # the name itself is no adjective of it
        ("African", "africa", False),  # a value not written as a name
        ("Asian", "Austria", False),
    ],
)
def test_demonyms(word: str, value: str, expected: bool) -> None:
    assert derives_from(word, value) is expected


@pytest.mark.parametrize(
    ("cohort_sql", "unclaimed"),
    [
        ("ride_day IN ('Sat', 'Sun')", []),  # read already, as part of 'weekend'
        ("ride_day = 'Sat'", ["Sun"]),  # the cohort does not read it: an error follows
        (None, ["Sun"]),
    ],
)
def test_a_value_the_cohort_reads_in_another_form_is_claimed(
    club: Club, cohort_sql: str | None, unclaimed: list[str]
) -> None:
    text = "quitting of weekend riders, above all on Sun, recall 0.6"
    found = unclaimed_values(
        text, tokenize(text), [], club.profile, ("riders", "quit"), cohort_sql=cohort_sql
    )
    assert [written for written, _ in found] == unclaimed
