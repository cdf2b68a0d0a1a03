"""A goal's ``exclude_columns``: every entry resolved against a real warehouse or refused with
its fix, and no feature of any kind reads an excluded column."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.agent.exclusions import resolve_exclusions
from dagster_agentic.errors import GoalError
from dagster_agentic.goals.loading import goal_from_attributes
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import Goal
from dagster_agentic.kernel.policy.features import propose_feature_groups
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse
from dagster_agentic.warehouse.semantics import analyse_schema

OBJECTIVE = Objective(
    task="regression",
    entity_table="Trips",
    entity_key="TripRef",
    label_table="Trips",
    label_key="TripRef",
    target_column="FareTotal",
    metric="mae",
    threshold=5.0,
)


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, WarehouseProfile]:
    path = tmp_path_factory.mktemp("exclusions") / "trips.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            'CREATE TABLE "Drivers" AS SELECT 500 + i AS "DriverRef", 3.5 + (i % 7) / 2.0'
            ' AS "Rating" FROM range(40) t(i)'
        )
        conn.execute(
            'CREATE TABLE "Trips" AS SELECT 10000 + i AS "TripRef", 500 + i % 40 AS "DriverRef",'
            ' (i * 37) % 113 / 10.0 AS "DistanceKm", (i * 17) % 90 / 10.0 AS "TipPaid",'
            " ['north', 'south', 'east'][1 + i % 3] AS \"Zone\","
            ' 3 + (i * 37) % 113 / 4.0 + abs(hash(i)) % 1000 / 40.0 AS "FareTotal"'
            " FROM range(600) t(i)"
        )
        conn.execute(
            'CREATE TABLE "Ratings" AS SELECT 90000 + i AS "RatingRef", 10000 + i % 600 AS'
            " \"TripRef\", 1 + i % 5 AS \"Stars\", ['north', 'south', 'east', 'west'][1 + i % 4]"
            ' AS "Zone" FROM range(900) t(i)'
        )
    warehouse = Warehouse(path)
    return warehouse, profile_warehouse(warehouse)


def test_entries_resolve_by_table_and_column_or_a_unique_column(
    profile: tuple[Warehouse, WarehouseProfile],
) -> None:
    _, found = profile
    resolved = resolve_exclusions(("trips.tippaid", "Stars"), found, OBJECTIVE)
    assert set(resolved) == {("Trips", "TipPaid"), ("Ratings", "Stars")}
    assert all("exclude_columns" in why for why in resolved.values())


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("TipPayd", "is not a column of the warehouse (did you mean Trips.TipPaid?)"),
        ("Zone", "names a column of several tables: Ratings.Zone, Trips.Zone"),
        ("Trips.FareTotal", "is the target of the goal"),
        ("TripRef", "names a column of several tables"),
        ("Trips.TripRef", "is the entity's key of the goal"),
        ("Nowhere.TipPaid", "is not a column of the warehouse"),
    ],
)
def test_a_wrong_entry_is_refused_with_the_candidates(
    profile: tuple[Warehouse, WarehouseProfile], entry: str, message: str
) -> None:
    _, found = profile
    with pytest.raises(GoalError, match="exclude_columns entry") as raised:
        resolve_exclusions((entry,), found, OBJECTIVE)
    assert message in str(raised.value)
    assert raised.value.fix


def test_no_feature_reads_an_excluded_column_and_the_plan_says_why(
    profile: tuple[Warehouse, WarehouseProfile],
) -> None:
    warehouse, found = profile
    excluded = resolve_exclusions(
        ("Trips.TipPaid", "Ratings.Stars", "Drivers.Rating"), found, OBJECTIVE
    )
    with warehouse.connect(read_only=True) as conn:
        plain = analyse_schema(conn, found, OBJECTIVE)
        semantics = analyse_schema(conn, found, OBJECTIVE, excluded=excluded)
    before = " ".join(
        f.expression for g in propose_feature_groups(OBJECTIVE, found, plain) for f in g.features
    )
    assert all(f'"{c}"' in before for c in ("TipPaid", "Stars", "Rating"))  # read unless excluded
    groups = propose_feature_groups(OBJECTIVE, found, semantics)
    after = " ".join(f.expression for g in groups for f in g.features)
    assert '"TipPaid"' not in after and '"Stars"' not in after and '"Rating"' not in after
    assert '"DistanceKm"' in after
    rationale = " ".join(g.rationale for g in groups)
    assert "TipPaid (excluded by the goal (exclude_columns))" in rationale
    assert "Stars (excluded by the goal (exclude_columns))" in rationale


def test_the_declaration_takes_a_list_or_one_name_and_refuses_an_empty_entry(
    tmp_path: Path,
) -> None:
    base = {
        "name": "fares",
        "objective": "Predict the fare",
        "warehouse": str(tmp_path / "w.duckdb"),
    }
    assert goal_from_attributes({**base, "exclude_columns": "TipPaid"}, None).exclude_columns == (
        "TipPaid",
    )
    listed = goal_from_attributes({**base, "exclude_columns": ["a.b", " c "]}, None)
    assert listed.exclude_columns == ("a.b", "c")
    with pytest.raises(GoalError, match="exclude_columns"):
        goal_from_attributes({**base, "exclude_columns": ["Trips."]}, None)
    # Part of the declaration's dump, so of the plan's fingerprint: changing it plans again.
    goal = Goal(**{**base, "exclude_columns": ("TipPaid",)})  # type: ignore[arg-type]
    assert goal.model_dump()["exclude_columns"] == ("TipPaid",)


def test_a_path_through_an_excluded_key_is_not_read(
    profile: tuple[Warehouse, WarehouseProfile],
) -> None:
    """Which rows an entity reaches through a column is that column's information: excluding
    a foreign key leaves out its dimension and the table joined on it, and says so."""
    from dagster_agentic.kernel.policy.features import left_out_sources

    warehouse, found = profile
    excluded = resolve_exclusions(("Trips.DriverRef", "Ratings.TripRef"), found, OBJECTIVE)
    with warehouse.connect(read_only=True) as conn:
        semantics = analyse_schema(conn, found, OBJECTIVE, excluded=excluded)
    groups = propose_feature_groups(OBJECTIVE, found, semantics)
    assert [g.name for g in groups] == ["trips"]
    assert not groups[0].lookups
    assert '"DriverRef"' not in " ".join(f.expression for f in groups[0].features)
    reasons = left_out_sources(OBJECTIVE, found, semantics)
    assert any("reached through Ratings.TripRef, a leakage suspect" in r for r in reasons), reasons
