"""Dimensions, composite keys and time on a warehouse of flights.

A flight (the entity, and the label's own table: no cutoff column) references a carrier by a
``code`` key, the weather of its station and hour (a dimension keyed by two columns, matched
on the departure truncated to the hour), and the fare of its carrier, station and day (three
columns, matched on the departure's day). Gate logs are written before and after departure.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from dagster_agentic.features.sql import feature_group_sql, warehouse_ref
from dagster_agentic.goals.objective import Objective
from dagster_agentic.kernel.policy.entity import find_cutoff, resolve_entity
from dagster_agentic.kernel.policy.features import propose_feature_groups
from dagster_agentic.kernel.policy.time_features import entity_time_features
from dagster_agentic.plan.models import FeatureGroup
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import TableProfile, WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse
from dagster_agentic.warehouse.semantics import analyse_schema

FLEET_SQL = """
CREATE TABLE carriers AS
SELECT * FROM (VALUES ('AA', 'orbit'), ('BB', 'orbit'), ('CC', 'star'), ('DD', 'star'),
                      ('EE', 'solo'), ('FF', 'solo')) v(code, alliance);

CREATE TABLE weather AS
SELECT st AS station, TIMESTAMP '2024-03-01' + to_hours(h) AS obs_hour,
       ((h * 7 + length(st)) % 13)::DOUBLE AS wind, CASE WHEN h % 5 = 0 THEN 2.5 ELSE 0 END AS rain
FROM (VALUES ('NORTH'), ('SOUTH'), ('EAST')) v(st), range(0, 240) t(h);

CREATE TABLE fares AS
SELECT c AS carrier, st AS station, DATE '2024-03-01' + d::INTEGER AS day,
       (100 + d * 3 + length(st))::DOUBLE AS price
FROM (VALUES ('AA'), ('BB'), ('CC'), ('DD'), ('EE'), ('FF')) a(c),
     (VALUES ('NORTH'), ('SOUTH'), ('EAST')) b(st), range(0, 10) t(d);

CREATE TABLE flights AS
SELECT i::INTEGER AS id,
       ['AA', 'BB', 'CC', 'DD', 'EE', 'FF'][1 + i % 6] AS carrier,
       ['NORTH', 'SOUTH', 'EAST'][1 + (i // 6) % 3] AS station,
       TIMESTAMP '2024-03-01' + to_minutes((i * 53) % (239 * 60)) AS depart_at,
       TIMESTAMP '2024-03-01' + to_minutes((i * 53) % (239 * 60) + 95) AS arrived_at,
       (i % 6 IN (0, 3) OR i % 7 = 0) AS late
FROM range(1, 1201) t(i);

CREATE TABLE gate_logs AS
SELECT row_number() OVER ()::INTEGER AS log_no, f.id AS flight_id,
       f.depart_at + to_minutes(k * 20 - 45) AS logged_at, (k * 2)::DOUBLE AS queue
FROM flights AS f, range(0, 1 + f.id % 4) r(k);
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "fleet.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(FLEET_SQL)
    return path


@pytest.fixture(scope="module")
def profile(fleet: Path) -> WarehouseProfile:
    return profile_warehouse(Warehouse(fleet))


def _table(profile: WarehouseProfile, name: str) -> TableProfile:
    table = profile.table(name)
    assert table is not None
    return table


def test_composite_keys_pairs_and_triples(profile: WarehouseProfile) -> None:
    assert _table(profile, "weather").composite_keys == (("station", "obs_hour"),)
    assert _table(profile, "fares").composite_keys == (("carrier", "station", "day"),)
    links = {
        (r.child_table, r.parent_table): (r.child_columns, r.parent_columns, r.buckets)
        for r in profile.composite_relationships
    }
    assert links[("flights", "weather")] == (
        ("station", "depart_at"),
        ("station", "obs_hour"),
        (None, "hour"),
    )
    assert links[("flights", "fares")] == (
        ("carrier", "station", "depart_at"),
        ("carrier", "station", "day"),
        (None, None, "day"),
    )
    # A column named after its table references it by its generic ``code`` key.
    assert ("flights", "carrier", "carriers", "code") in {
        (r.child_table, r.child_column, r.parent_table, r.parent_column)
        for r in profile.relationships
    }


def test_an_event_entity_is_predicted_at_its_own_time(profile: WarehouseProfile) -> None:
    notes: list[str] = []
    flights = _table(profile, "flights")
    entity = resolve_entity(profile, flights, "late", [], None, notes)
    assert (entity.table, entity.key) == ("flights", "id")
    # Departure precedes arrival: the earliest time of the row is the event.
    assert find_cutoff(flights, notes, label_key="id", label_is_entity=True) == "depart_at"
    assert "predicted when the event happens" in notes[-1]
    # Without knowing the label is the entity's own, nothing is assumed.
    assert find_cutoff(flights, [], label_key="id") is None


def test_a_subject_is_not_cut_off_at_its_start(tmp_path: Path) -> None:
    path = tmp_path / "crm.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE Patrons AS SELECT i AS PatronNo,"
            " DATE '2020-01-01' + i::INTEGER AS SignedUp, (i % 3 = 0) AS Gone"
            " FROM range(1, 101) t(i)"
        )
    patrons = _table(profile_warehouse(Warehouse(path)), "Patrons")
    notes: list[str] = []
    assert find_cutoff(patrons, notes, label_is_entity=True) is None
    assert "when the entity began" in notes[-1]
    objective = _objective("Patrons", "PatronNo", "Gone", None)
    column = patrons.column("SignedUp")
    assert column is not None
    [age, *_] = entity_time_features(objective, patrons, column, "event_time")
    # Age to the spine's time when it has one (scoring), else to the latest signup.
    assert age.expression == (
        "date_diff('day', CAST(t.\"SignedUp\" AS TIMESTAMP),"
        " COALESCE(s.cutoff_at, CAST('2020-04-10' AS TIMESTAMP)))"
    )


def _objective(table: str, key: str, target: str, cutoff: str | None) -> Objective:
    return Objective(
        entity_table=table,
        entity_key=key,
        label_table=table,
        label_key=key,
        target_column=target,
        positive_value=True,
        cutoff_column=cutoff,
        metric="roc_auc",
        threshold=0.7,
    )


@pytest.fixture(scope="module")
def planned(fleet: Path, profile: WarehouseProfile) -> tuple[Objective, dict[str, FeatureGroup]]:
    objective = _objective("flights", "id", "late", "depart_at")
    with Warehouse(fleet).connect(read_only=True) as conn:
        semantics = analyse_schema(conn, profile, objective)
    roles = {t.table: t.role for t in semantics.tables}
    assert roles["weather"] == roles["fares"] == roles["carriers"] == "dimension"
    # Recorded after the prediction time on every row: never a feature.
    assert semantics.role("flights", "arrived_at") == "leakage_suspect"
    groups = propose_feature_groups(objective, profile, semantics)
    return objective, {g.name: g for g in groups}


def test_the_foreign_key_stays_a_feature_next_to_its_dimension(
    planned: tuple[Objective, dict[str, FeatureGroup]],
) -> None:
    _, groups = planned
    flights = groups["flights"]
    features = {f.name: f for f in flights.features}
    assert features["carrier"].kind == "categorical"
    assert "carriers_alliance" in features
    assert {lookup.table for lookup in flights.lookups} == {"carriers", "weather", "fares"}
    assert {"weather_wind", "weather_rain", "fares_price"} <= set(features)
    # Time of the event itself; the arrival, written after departure, is never read.
    assert {"depart_at_hour", "depart_at_weekday", "depart_at_month"} <= set(features)
    assert not any("arrived" in f.expression for f in flights.features)
    assert "weather matched on station = station, depart_at (to the hour) = obs_hour" in (
        flights.rationale
    )
    assert "predicted at the entity's own depart_at; left out as leakage suspects: arrived_at" in (
        flights.rationale
    )


def test_feature_sql_joins_the_right_rows_and_stays_point_in_time(
    fleet: Path, planned: tuple[Objective, dict[str, FeatureGroup]]
) -> None:
    objective, groups = planned
    ref = warehouse_ref("main", "main")
    with duckdb.connect(str(fleet), read_only=True) as conn:
        entity_sql = feature_group_sql(objective, groups["flights"], ref)
        rows = conn.execute(f"SELECT * FROM ({entity_sql}) WHERE entity_id IN (7, 50, 1111)")
        names = [d[0] for d in rows.description]
        got = {row[0]: dict(zip(names, row, strict=True)) for row in rows.fetchall()}
        logs_sql = feature_group_sql(objective, groups["gate_logs"], ref)
        logs = dict(
            conn.execute(
                f"SELECT entity_id, gate_logs__n_rows FROM ({logs_sql})"
                " WHERE entity_id IN (7, 50, 1111)"
            ).fetchall()
        )
    carriers = ["AA", "BB", "CC", "DD", "EE", "FF"]
    alliance = {"AA": "orbit", "BB": "orbit", "CC": "star", "DD": "star"}
    stations = ["NORTH", "SOUTH", "EAST"]
    for i in (7, 50, 1111):
        row = got[i]
        carrier, station = carriers[i % 6], stations[(i // 6) % 3]
        minutes = (i * 53) % (239 * 60)
        hour = minutes // 60
        departs = datetime(2024, 3, 1 + hour // 24, hour % 24, minutes % 60)
        assert row["cutoff_at"] == departs
        assert row["flights__carrier"] == carrier
        assert row["flights__carriers_alliance"] == alliance.get(carrier, "solo")
        assert row["flights__weather_wind"] == (hour * 7 + len(station)) % 13
        assert row["flights__weather_rain"] == (2.5 if hour % 5 == 0 else 0.0)
        assert row["flights__fares_price"] == 100 + (hour // 24) * 3 + len(station)
        assert row["flights__depart_at_hour"] == hour % 24
        # Logs at -45, -25, -5, +15 minutes around departure: only those before it count.
        assert logs[i] == min(1 + i % 4, 3)
