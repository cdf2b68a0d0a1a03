"""A relative clause on the population that names rows is read or refused, never dropped;
numbers listed after a column's noun ('satisfaction 4 or 5') are each read."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse


@pytest.fixture(scope="module")
def charity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    """Volunteers, their weekly rota (a child table) and whether they quit."""
    path = tmp_path_factory.mktemp("clauses") / "charity.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE volunteers AS SELECT 500 + i AS volunteer_no,"
            " 18 + (i * 7) % 60 AS age,"
            " 1 + (i * 3) % 5 AS satisfaction,"
            " ['north', 'south', 'east'][1 + i % 3] AS branch,"
            " CASE WHEN (i * 11) % 7 < 2 THEN 1 ELSE 0 END AS quit"
            " FROM range(900) t(i)"
        )
        conn.execute(
            "CREATE TABLE rota_weeks AS SELECT 500 + i AS volunteer_no, w AS week_no,"
            " CASE WHEN (i + w) % 3 = 0 THEN 'yes' ELSE 'no' END AS turned_up"
            " FROM range(900) t(i), range(1, 9) s(w)"
        )
    return path, profile_warehouse(Warehouse(path))


def _read(profile: WarehouseProfile, text: str) -> Objective:
    return interpret_objective(text, profile, GoalOverrides())


def _count(path: Path, where: str) -> int:
    with duckdb.connect(str(path), read_only=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM volunteers WHERE {where}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    "objective",
    [
        "Predict which volunteers quit, ROC AUC 0.7, for people who had a shift in their"
        " first week.",
        "Which volunteers will quit? Only for volunteers that came along every fortnight."
        " Recall of 0.6.",
    ],
)
def test_a_clause_no_column_reads_is_refused_and_quoted(
    charity: tuple[Path, WarehouseProfile], objective: str
) -> None:
    _, profile = charity
    with pytest.raises(ObjectiveError) as raised:
        _read(profile, objective)
    message = str(raised.value)
    clause = objective.split(" who " if " who " in objective else " that ")[1].split(".")[0]
    assert clause.split()[0] in message and "answered without it" in message
    assert "cohort=" in (raised.value.fix or "")


def test_a_clause_about_the_outcome_is_the_target_not_a_cohort(
    charity: tuple[Path, WarehouseProfile],
) -> None:
    _, profile = charity
    objective = _read(profile, "Flag the volunteers who will quit, at 0.6 recall")
    assert objective.target_column == "quit" and objective.cohort_sql is None


def test_a_clause_a_condition_reads_is_the_cohort(
    charity: tuple[Path, WarehouseProfile],
) -> None:
    path, profile = charity
    objective = _read(
        profile, "Predict which volunteers quit for those who are older than 40; F1 0.5"
    )
    assert objective.cohort_sql is not None
    assert _count(path, objective.cohort_sql) == _count(path, "age > 40")


@pytest.mark.parametrize(
    ("words", "values"),
    [("satisfaction 4 or 5", (4, 5)), ("satisfaction 1, 2 or 3", (1, 2, 3))],
)
def test_listed_numbers_after_a_columns_noun_are_each_read(
    charity: tuple[Path, WarehouseProfile], words: str, values: tuple[int, ...]
) -> None:
    path, profile = charity
    objective = _read(profile, f"quit | volunteers with {words} | recall 0.6")
    assert objective.cohort_sql is not None and " IN (" in objective.cohort_sql
    listed = ", ".join(map(str, values))
    assert _count(path, objective.cohort_sql) == _count(path, f"satisfaction IN ({listed})")
    assert any(f"{listed} are in the range" in line for line in objective.rationale)


@pytest.mark.parametrize(
    ("objective", "where"),
    [
        ("quit | north or east | recall 0.6", "branch IN ('north', 'east')"),
        ("quit | south, older than 40 | F1 0.5", "branch = 'south' AND age > 40"),
    ],
)
def test_a_field_of_values_in_a_goal_written_in_fields_is_the_cohort(
    charity: tuple[Path, WarehouseProfile], objective: str, where: str
) -> None:
    path, profile = charity
    read = _read(profile, objective)
    assert read.target_column == "quit" and read.cohort_sql is not None
    assert _count(path, read.cohort_sql) == _count(path, where)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    """Market stalls: a fee, a floor area and a rating, none named by the goals below."""
    path = tmp_path_factory.mktemp("clauses") / "market.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE stalls AS SELECT 100 + i AS stall_no,"
            " 200 + (i * 37) % 700 AS pitch_fee, 2 + (i * 7) % 39 AS stand_m2,"
            " 1 + (i * 3) % 5 AS rating, CASE WHEN (i * 13) % 9 < 4 THEN 1 ELSE 0 END AS renewed"
            " FROM range(800) t(i)"
        )
    return path, profile_warehouse(Warehouse(path))


def test_a_bare_bound_reads_the_one_column_whose_values_span_it(
    market: tuple[Path, WarehouseProfile],
) -> None:
    path, profile = market
    read = _read(profile, "renewed | stalls over 500 | recall 0.6")
    assert read.cohort_sql == "pitch_fee > 500"
    assert any("the only numeric column whose values span 500" in n for n in read.rationale)
    with duckdb.connect(str(path), read_only=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM stalls WHERE {read.cohort_sql}").fetchone()
    assert row is not None and 0 < row[0] < 800


def test_a_bare_bound_two_columns_span_is_refused_naming_both(
    market: tuple[Path, WarehouseProfile],
) -> None:
    _, profile = market
    with pytest.raises(ObjectiveError) as raised:
        _read(profile, "renewed | stalls over 4 | recall 0.6")
    assert "stalls.rating" in str(raised.value) and "stalls.stand_m2" in str(raised.value)


def test_each_clause_joined_by_or_who_must_be_read(
    charity: tuple[Path, WarehouseProfile],
) -> None:
    _, profile = charity
    with pytest.raises(ObjectiveError) as raised:
        _read(
            profile,
            "Predict which volunteers quit, F1 0.5, among volunteers whose rota keeps changing"
            " or who are older than 40",
        )
    assert "whose rota keeps changing" in str(raised.value)


def test_a_name_before_a_noun_the_target_shares_is_a_cohort_to_read_or_refuse(
    tmp_path: Path,
) -> None:
    """'Lusitanian guests' ends on a word of ``is_repeat_guest``; the name picks rows, so it
    is never taken for a description of the outcome and dropped."""
    path = tmp_path / "inn.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE stays AS SELECT 'S' || lpad(CAST(i AS VARCHAR), 5, '0') AS stay_ref,"
            " 1 + i % 9 AS nights, ['PRT', 'ESP', 'GBR'][1 + i % 3] AS country_code,"
            " CASE WHEN (i * 7) % 10 < 2 THEN 1 ELSE 0 END AS is_repeat_guest"
            " FROM range(600) t(i)"
        )
    profile = profile_warehouse(Warehouse(path))
    with pytest.raises(ObjectiveError) as raised:
        _read(
            profile,
            "predict whether a stay is from a repeat guest, only for Lusitanian guests."
            " precision 0.7",
        )
    assert "Lusitanian" in str(raised.value)
    plain = _read(profile, "predict whether a stay is from a repeat guest; precision 0.7")
    assert plain.target_column == "is_repeat_guest" and plain.cohort_sql is None


def test_a_list_is_read_whole_only_where_the_column_spans_each_number(
    charity: tuple[Path, WarehouseProfile],
) -> None:
    """'satisfaction 4 and 2023': 2023 is no satisfaction score, so the list stops at 4 and
    the year is left to be read (or refused) on its own."""
    _, profile = charity
    with pytest.raises(ObjectiveError) as raised:
        _read(profile, "quit | volunteers with satisfaction 4 and 2023 | recall 0.6")
    assert "2023" in str(raised.value)


def test_a_name_opening_rows_a_participle_places_is_read_or_refused(
    charity: tuple[Path, WarehouseProfile],
) -> None:
    """'Bramley volunteers placed in the north': the north is read, and the name before the
    rows the participle places, which no column holds, is refused rather than dropped."""
    _, profile = charity
    with pytest.raises(ObjectiveError) as raised:
        _read(
            profile,
            "Can we tell how satisfied Bramley volunteers placed in the north are? RMSE below 1",
        )
    assert "Bramley" in str(raised.value)
