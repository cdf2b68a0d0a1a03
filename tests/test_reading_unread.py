"""Every word of a goal that names rows is read or refused, never dropped: days of the week
are conditions on a day column or a date, and a yes/no column, a value in lower case or a day
word that no cohort reads is an error naming the columns."""

from __future__ import annotations

import datetime
from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse

START = datetime.date(2022, 1, 3)


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    path = tmp_path_factory.mktemp("unread") / "club.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE members AS SELECT 1000 + i AS member_no,"
            " CASE WHEN i % 3 = 0 THEN 'Y' ELSE 'N' END AS loyalty_fl,"
            " ['GOLD', 'SILVER', 'BRONZE'][1 + i % 3] AS tier_cd,"
            " DATE '2022-01-03' + CAST(i % 700 AS INTEGER) AS joined_on,"
            " 18 + i % 60 AS age_years,"
            " CASE WHEN (i * 7) % 5 < 2 THEN 'yes' ELSE 'no' END AS renewed"
            " FROM range(2000) t(i)"
        )
    return path, profile_warehouse(Warehouse(path))


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    path = tmp_path_factory.mktemp("unread") / "stores.duckdb"
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE trading_days (day_no INTEGER, dow VARCHAR, takings DOUBLE)")
        conn.executemany(
            "INSERT INTO trading_days VALUES (?, ?, ?)",
            [(i, days[i % 7], 100.0 + (i * 37) % 250) for i in range(1400)],
        )
    return path, profile_warehouse(Warehouse(path))


def _rows(path: Path, table: str, where: str | None) -> int:
    with duckdb.connect(str(path), read_only=True) as conn:
        sql = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def _joined(days: set[int], year: int | None = None) -> int:
    """Members whose join date falls on the ISO days ``days`` (and ``year``), counted here."""
    dates = [START + datetime.timedelta(days=i % 700) for i in range(2000)]
    return sum(d.isoweekday() in days and (year is None or d.year == year) for d in dates)


def test_weekends_are_the_saturdays_and_sundays_of_the_entitys_date(
    members: tuple[Path, WarehouseProfile],
) -> None:
    path, profile = members
    objective = interpret_objective(
        "Which members will renew among those who joined on weekends? F1 of 0.6",
        profile,
        GoalOverrides(),
    )
    assert objective.cohort_sql is not None and "isodow(joined_on)" in objective.cohort_sql
    assert _rows(path, "members", objective.cohort_sql) == _joined({6, 7})
    assert any("day of the week of joined_on" in line for line in objective.rationale)


def test_weekdays_and_a_year_are_both_read_and_share_the_event(
    members: tuple[Path, WarehouseProfile],
) -> None:
    path, profile = members
    objective = interpret_objective(
        "renewal for members who joined on weekdays in 2023, F1 0.6", profile, GoalOverrides()
    )
    assert _rows(path, "members", objective.cohort_sql) == _joined({1, 2, 3, 4, 5}, 2023)


def test_a_negated_day_leaves_that_day_out(members: tuple[Path, WarehouseProfile]) -> None:
    path, profile = members
    objective = interpret_objective(
        "Which members will renew, excluding those who joined on Sundays? F1 0.6",
        profile,
        GoalOverrides(),
    )
    assert _rows(path, "members", objective.cohort_sql) == _joined({1, 2, 3, 4, 5, 6})


def test_a_column_of_day_names_is_read_before_any_date(
    stores: tuple[Path, WarehouseProfile],
) -> None:
    path, profile = stores
    objective = interpret_objective(
        "Predict the takings of each trading day on weekends with an MAE below 40",
        profile,
        GoalOverrides(),
    )
    assert objective.cohort_sql == "dow IN ('Sat', 'Sun')"
    assert _rows(path, "trading_days", objective.cohort_sql) == 400


def test_a_yes_no_column_the_goal_names_but_no_cohort_reads_is_refused(
    members: tuple[Path, WarehouseProfile],
) -> None:
    _, profile = members
    with pytest.raises(ObjectiveError) as caught:
        interpret_objective(
            "Which members will renew? Loyalty matters most, F1 0.6", profile, GoalOverrides()
        )
    message = str(caught.value)
    assert "'Loyalty' (members.loyalty_fl)" in message and "yes/no" in message
    assert "loyalty_fl = 'Y'" in caught.value.fix


def test_a_value_in_lower_case_that_no_cohort_reads_is_refused(
    members: tuple[Path, WarehouseProfile],
) -> None:
    _, profile = members
    with pytest.raises(ObjectiveError) as caught:
        interpret_objective(
            "Which members will renew? F1 of 0.6. We mostly care about gold.",
            profile,
            GoalOverrides(),
        )
    assert "'gold' (members.tier_cd)" in str(caught.value)


def test_a_goal_whose_words_are_all_read_is_not_refused(
    members: tuple[Path, WarehouseProfile],
) -> None:
    path, profile = members
    plain = interpret_objective("Which members will renew? F1 of 0.6", profile, GoalOverrides())
    assert plain.cohort_sql is None and plain.target_column == "renewed"
    flagged = interpret_objective(
        "Which loyalty members will renew? F1 of 0.6", profile, GoalOverrides()
    )
    assert flagged.cohort_sql is not None and "loyalty_fl" in flagged.cohort_sql
    assert _rows(path, "members", flagged.cohort_sql) == 667
