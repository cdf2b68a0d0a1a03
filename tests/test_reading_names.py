"""A dimension's names are vocabulary: listed in the profile, read as a cohort one hop away,
and never ignored when a goal writes them where no cohort word introduces them."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse

PROVINCES = [f"Province{k:02d}" for k in range(57)] + ["Nevada Ridge", "Ohio Plains", "Lakeshore"]


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    path = tmp_path_factory.mktemp("names") / "telecom.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE regions (region_cd VARCHAR, region_label VARCHAR)")
        conn.executemany(
            "INSERT INTO regions VALUES (?, ?)",
            [(f"R{k:02d}", name) for k, name in enumerate(PROVINCES)],
        )
        conn.execute(
            "CREATE TABLE subscribers AS SELECT 'S' || lpad(CAST(i AS VARCHAR), 5, '0') AS sub_id,"
            " 'R' || lpad(CAST(i % 60 AS VARCHAR), 2, '0') AS region_cd,"
            " 'user' || CAST(i AS VARCHAR) || '@mail.test' AS email,"
            " i % 17 AS calls, CASE WHEN i % 5 = 0 THEN 'yes' ELSE 'no' END AS cancelled"
            " FROM range(3000) t(i)"
        )
    return path, profile_warehouse(Warehouse(path))


def test_a_referenced_dimension_lists_every_name_and_an_entity_lists_no_emails(
    profile: tuple[Path, WarehouseProfile],
) -> None:
    _, found = profile
    regions, subscribers = found.table("regions"), found.table("subscribers")
    assert regions is not None and subscribers is not None
    names = regions.column("region_label")
    assert names is not None and {v.value for v in names.values} == set(PROVINCES)
    email = subscribers.column("email")
    assert email is not None and email.values == () and email.top_values == ()
    # A text column of many values (60 region codes) lists them all.
    codes = subscribers.column("region_cd")
    assert codes is not None and len(codes.values) == 60


def test_a_dimension_name_after_a_cohort_word_is_a_cohort_one_hop_away(
    profile: tuple[Path, WarehouseProfile],
) -> None:
    path, found = profile
    objective = interpret_objective(
        "Which subscribers in Ohio Plains will cancel? F1 of 0.6", found, GoalOverrides()
    )
    assert objective.cohort_sql is not None and "region_label" in objective.cohort_sql
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.execute(
            f"SELECT count(*) FROM subscribers WHERE {objective.cohort_sql}"
        ).fetchone()
    assert rows == (50,)


def test_names_no_cohort_reads_are_an_error_not_every_row(
    profile: tuple[Path, WarehouseProfile],
) -> None:
    _, found = profile
    with pytest.raises(ObjectiveError) as raised:
        interpret_objective(
            "Our field team covers Nevada Ridge and Lakeshore. Flag the subscribers that will"
            " cancel so the team can call them; an F1 of 0.6 is enough.",
            found,
            GoalOverrides(),
        )
    message = str(raised.value)
    assert "'Nevada Ridge' (regions.region_label)" in message
    assert "'Lakeshore' (regions.region_label)" in message and "no cohort reads them" in message
    assert raised.value.fix and "cohort=" in raised.value.fix
