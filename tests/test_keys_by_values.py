"""Keys and entities found by values and uniqueness, whatever the names.

Three small DuckDB warehouses with naming habits of their own (CamelCase, ``*_ref`` and
``code`` keys, no naming relation at all) and coincidental integer columns that must never
become foreign keys.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import GoalError
from dagster_agentic.kernel.policy.entity import find_cutoff, resolve_entity
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import TableProfile, WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse

# CamelCase, keys that share no word with their parents, ids that are not a dense sequence.
CLUB_SQL = """
CREATE TABLE Branches AS
SELECT i::INTEGER AS code, 'branch ' || i AS BranchName FROM range(1, 26) t(i);

CREATE TABLE Accounts AS
SELECT (1000 + i * 7)::INTEGER AS AccountID,
       ['gold', 'silver', 'basic'][1 + i % 3] AS Tier,
       (18 + i % 60)::INTEGER AS Age,
       (1 + (i * 11) % 25)::INTEGER AS HomeBranch,
       DATE '2023-01-01' + (i % 400)::INTEGER AS OpenedOn
FROM range(0, 300) t(i);

-- One row per entity, for 240 of the 300 accounts, keyed by a name unrelated to Accounts.
CREATE TABLE lapse_flags AS
SELECT AccountID AS member_ref, (Age % 4 = 0) AS lapsed
FROM Accounts WHERE AccountID % 5 <> 0;

CREATE TABLE Visits AS
SELECT i::INTEGER AS VisitNo,
       (1000 + ((i * 13) % 300) * 7)::INTEGER AS Who,
       (1 + i % 6)::INTEGER AS PartySize,
       (5 + i % 170)::INTEGER AS Minutes,
       TIMESTAMP '2024-01-01' + to_minutes(i * 97) AS VisitedAt
FROM range(1, 3001) t(i);

-- Scattered ids that all fall inside Visits.VisitNo's 1..3000, yet unrelated.
CREATE TABLE Coupons AS
SELECT (5 + i * 30)::INTEGER AS CouponNo, (i % 3)::INTEGER AS kind FROM range(0, 100) t(i);

-- Numbered 1..400: inside Visits.VisitNo (1..3000) by construction, yet unrelated.
CREATE TABLE Promotions AS
SELECT i::INTEGER AS PromoNo, (i % 30)::DOUBLE AS discount FROM range(1, 401) t(i);
"""

# Text keys named ``code``/``pupil``; label tables of every shape.
SCHOOL_SQL = """
CREATE TABLE students AS
SELECT 'S' || lpad(i::VARCHAR, 4, '0') AS code,
       ['art', 'math', 'bio'][1 + i % 3] AS stream,
       (i % 9)::INTEGER AS absences,
       (i % 3 = 0) AS passed
FROM range(0, 150) t(i);

-- Exactly every student once: the two key sets are equal.
CREATE TABLE final_marks AS
SELECT code AS pupil, (absences < 4) AS honours FROM students;

-- One row for 100 of the students, keyed by a name of its own.
CREATE TABLE appeals AS
SELECT code AS who, (absences % 2 = 0) AS upheld FROM students WHERE absences < 6;

-- One row per student and term: (learner, term_start) is the key.
CREATE TABLE term_results AS
SELECT s.code AS learner, DATE '2024-01-01' + INTERVAL (t * 4) MONTH AS term_start,
       ((s.absences + t) % 2 = 0) AS promoted
FROM students AS s, range(0, 3) r(t);
"""


def _build(path: Path, sql: str) -> WarehouseProfile:
    with duckdb.connect(str(path)) as conn:
        conn.execute(sql)
    return profile_warehouse(Warehouse(path))


@pytest.fixture(scope="module")
def club(tmp_path_factory: pytest.TempPathFactory) -> WarehouseProfile:
    return _build(tmp_path_factory.mktemp("club") / "club.duckdb", CLUB_SQL)


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> WarehouseProfile:
    return _build(tmp_path_factory.mktemp("school") / "school.duckdb", SCHOOL_SQL)


def _links(profile: WarehouseProfile) -> set[tuple[str, str, str, str]]:
    return {
        (r.child_table, r.child_column, r.parent_table, r.parent_column)
        for r in profile.relationships
    }


def _table(profile: WarehouseProfile, name: str) -> TableProfile:
    table = profile.table(name)
    assert table is not None
    return table


def test_foreign_keys_by_values_whatever_the_names(club: WarehouseProfile) -> None:
    assert _links(club) == {
        ("lapse_flags", "member_ref", "Accounts", "AccountID"),
        ("Visits", "Who", "Accounts", "AccountID"),
        ("Accounts", "HomeBranch", "Branches", "code"),
    }
    by_slot = {(r.child_table, r.child_column): r for r in club.relationships}
    assert by_slot[("lapse_flags", "member_ref")].evidence == "values"
    assert by_slot[("lapse_flags", "member_ref")].inclusion == 1.0


def test_coincidental_integers_are_not_keys(club: WarehouseProfile) -> None:
    children = {(r.child_table, r.child_column) for r in club.relationships}
    # PartySize (1..6) fits in every id range; Age (18..77) spans too little of 1..3000;
    # Promotions.PromoNo (1..400) and Branches.code (1..25) are numbered sequences that lie
    # inside VisitNo's 1..3000 only because both count from one; Coupons.CouponNo (100
    # scattered values in 5..2975) is found in 1..3000 as any such integers would be.
    for slot in [
        ("Coupons", "CouponNo"),
        ("Visits", "PartySize"),
        ("Accounts", "Age"),
        ("Promotions", "PromoNo"),
        ("Branches", "code"),
        ("Visits", "VisitNo"),
    ]:
        assert slot not in children, slot


def test_equal_key_sets_link_once_towards_the_hub(school: WarehouseProfile) -> None:
    # final_marks.pupil and students.code hold the same 150 values: one link, to students.
    assert ("final_marks", "pupil", "students", "code") in _links(school)
    assert ("students", "code", "final_marks", "pupil") not in _links(school)
    # term_results.learner repeats each student three times: an ordinary foreign key. Both
    # it and appeals.who are found in final_marks too; the extended table is their parent.
    assert ("term_results", "learner", "students", "code") in _links(school)
    assert ("appeals", "who", "students", "code") in _links(school)


def test_composite_key_of_entity_and_time(school: WarehouseProfile) -> None:
    assert _table(school, "term_results").composite_keys == (("learner", "term_start"),)
    # Tables with a single-column key are never searched.
    assert _table(school, "students").composite_keys == ()


def test_label_in_the_entity_table(school: WarehouseProfile) -> None:
    notes: list[str] = []
    entity = resolve_entity(school, _table(school, "students"), "passed", [], None, notes)
    assert (entity.table, entity.key, entity.label_key) == ("students", "code", "code")


def test_one_row_per_entity_under_any_key_name(club: WarehouseProfile) -> None:
    notes: list[str] = []
    label = _table(club, "lapse_flags")
    entity = resolve_entity(club, label, "lapsed", [], None, notes)
    assert (entity.table, entity.key, entity.label_key) == ("Accounts", "AccountID", "member_ref")
    assert notes[-1] == (
        "entity Accounts.AccountID: lapse_flags.member_ref references it"
        " (100% of its values, whatever the names)"
    )
    assert find_cutoff(label, notes, label_key="member_ref") is None


def test_equal_key_sets_resolve_to_the_entity(school: WarehouseProfile) -> None:
    notes: list[str] = []
    entity = resolve_entity(school, _table(school, "final_marks"), "honours", [], None, notes)
    assert (entity.table, entity.key, entity.label_key) == ("students", "code", "pupil")


def test_one_row_per_entity_and_time_takes_its_time_as_cutoff(school: WarehouseProfile) -> None:
    notes: list[str] = []
    label = _table(school, "term_results")
    entity = resolve_entity(school, label, "promoted", [], None, notes)
    assert (entity.table, entity.key, entity.label_key) == ("students", "code", "learner")
    assert find_cutoff(label, notes, label_key="learner") == "term_start"
    assert "one row per entity and term_start" in notes[-1]


def test_entity_override_is_honoured_over_a_one_to_one_link(club: WarehouseProfile) -> None:
    notes: list[str] = []
    label = _table(club, "lapse_flags")
    entity = resolve_entity(club, label, "lapsed", [], "accounts", notes)
    assert (entity.table, entity.label_key) == ("Accounts", "member_ref")
    with pytest.raises(GoalError, match="not reachable"):
        resolve_entity(club, label, "lapsed", [], "Promotions", notes)


def test_override_reads_an_extension_the_other_way(school: WarehouseProfile) -> None:
    # The label sits in students; final_marks extends it one-to-one: a key path both ways.
    notes: list[str] = []
    entity = resolve_entity(school, _table(school, "students"), "passed", [], "final_marks", notes)
    assert (entity.table, entity.key, entity.label_key) == ("final_marks", "pupil", "code")


def test_override_reaches_an_extension_through_the_table_it_extends(
    school: WarehouseProfile,
) -> None:
    # appeals.who references students; final_marks holds the same keys as students.
    notes: list[str] = []
    entity = resolve_entity(school, _table(school, "appeals"), "upheld", [], "final_marks", notes)
    assert (entity.table, entity.key, entity.label_key) == ("final_marks", "pupil", "who")
    assert notes[-1] == "entity final_marks.pupil from overrides.entity_table"
