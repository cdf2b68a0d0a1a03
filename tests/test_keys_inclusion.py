"""Parents ranked by value inclusion, and tables one-to-one with the entity read as its own.

Small DuckDB warehouses with naming habits of their own: every key named ``id``; a label
table keyed ``rider_ref`` holding only some riders next to children whose ``rider_ref`` holds
every rider; three tables holding the same keys; an entity tied to a profile table through a
second unique column; a long table with one row per entity and term. Each must give the
entity every table that describes it, and no coincidence of numbered ids may take a child.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.features.sql import feature_group_sql, warehouse_ref
from dagster_agentic.goals.objective import Objective, TaskType
from dagster_agentic.kernel.policy.features import left_out_sources, propose_feature_groups
from dagster_agentic.plan.models import FeatureGroup
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse
from dagster_agentic.warehouse.semantics import analyse_schema

# Every key is named ``id``; Dues has one row per member under an id of its own; Terms has
# one row per member and term.
GUILD_SQL = """
CREATE TABLE Members AS
SELECT (700 + i)::BIGINT AS id, ['north', 'south', 'east'][1 + i % 3] AS Region,
       (20 + i % 40)::BIGINT AS Age
FROM range(0, 300) t(i);

CREATE TABLE Dues AS
SELECT (90000 + i * 3)::BIGINT AS id, (700 + (i * 7) % 300)::BIGINT AS member_id,
       (i % 50) * 1.5 AS Owed, (i % 4)::BIGINT AS LateCount
FROM range(0, 300) t(i);

CREATE TABLE Standing AS SELECT id AS member_id, (Age % 3 = 0) AS lapsed FROM Members;

CREATE TABLE Terms AS
SELECT (5000 + m * 2 + k)::BIGINT AS id, (700 + m)::BIGINT AS member_id,
       ['spring', 'autumn'][1 + k] AS Term, (m % 10 + k * 5)::DOUBLE AS Hours
FROM range(0, 300) a(m), range(0, 2) b(k);
"""

# A label table for 88 of 120 riders keyed ``rider_ref``; race lines of every rider under the
# same column name; fines of labelled riders only; bikes of which some are missing.
LEAGUE_SQL = """
CREATE TABLE rider AS
SELECT 'R' || lpad(i::VARCHAR, 3, '0') AS rider_code, ['road', 'track'][1 + i % 2] AS discipline,
       (i % 15)::BIGINT AS seasons
FROM range(0, 120) t(i);

CREATE TABLE prize AS
SELECT rider_code AS rider_ref, seasons * 10.0 + 3 AS prize_money FROM rider WHERE seasons % 4 <> 0;

CREATE TABLE bike AS
SELECT 'B' || lpad(i::VARCHAR, 3, '0') AS bike_ref, ['steel', 'carbon'][1 + i % 2] AS frame
FROM range(0, 40) t(i);

CREATE TABLE race_line AS
SELECT 'L' || lpad(i::VARCHAR, 4, '0') AS race_line_code,
       'R' || lpad((i % 120)::VARCHAR, 3, '0') AS rider_ref,
       'B' || lpad((i % 50)::VARCHAR, 3, '0') AS bike_ref,
       (i % 9)::BIGINT AS podiums
FROM range(0, 360) t(i);

CREATE TABLE fine AS
SELECT 'F' || lpad((row_number() OVER (ORDER BY rider_ref, k))::VARCHAR, 4, '0') AS fine_code,
       rider_ref, (k + 1) * 5.0 AS amount
FROM prize, range(0, 2) b(k);
"""

# Three tables hold the same staff numbers; reviews reference them by the shared name.
TRIO_SQL = """
CREATE TABLE Staff AS
SELECT (1000 + i * 3)::BIGINT AS staff_no, ['ops', 'sales'][1 + i % 2] AS unit,
       (i % 30)::BIGINT AS tenure, (i % 7)::BIGINT AS grade, (i % 2 = 0) AS remote
FROM range(0, 200) t(i);

CREATE TABLE Pay AS SELECT staff_no, (tenure * 100 + 2000)::DOUBLE AS salary FROM Staff;

CREATE TABLE Leavers AS SELECT staff_no, (grade < 2) AS has_left FROM Staff;

CREATE TABLE Reviews AS
SELECT (i + 1)::BIGINT AS review_no, (1000 + (i % 200) * 3)::BIGINT AS staff_no,
       (i % 5)::BIGINT AS stars
FROM range(0, 600) t(i);
"""

# The entity (tickets) holds a second unique column, fan_code, that fans and fan_scores are
# keyed by: both describe the ticket's one fan.
ARENA_SQL = """
CREATE TABLE tickets AS
SELECT 'T' || lpad(i::VARCHAR, 4, '0') AS ticket_code, 'F' || lpad(i::VARCHAR, 4, '0') AS fan_code,
       (10 + i % 40)::DOUBLE AS price, (i % 5 = 0) AS refunded
FROM range(0, 150) t(i);

CREATE TABLE fans AS
SELECT 'F' || lpad(i::VARCHAR, 4, '0') AS fan_code, ['city', 'county'][1 + i % 2] AS home
FROM range(0, 200) t(i);

CREATE TABLE fan_scores AS
SELECT 'F' || lpad(i::VARCHAR, 4, '0') AS fan_code, (i % 11)::BIGINT AS loyalty
FROM range(0, 200) t(i);
"""


def _build(path: Path, sql: str) -> Path:
    with duckdb.connect(str(path)) as conn:
        conn.execute(sql)
    return path


def _links(profile: WarehouseProfile) -> set[tuple[str, str, str, str]]:
    return {
        (r.child_table, r.child_column, r.parent_table, r.parent_column)
        for r in profile.relationships
    }


def _objective(
    entity: str, key: str, label: str, label_key: str, target: str, task: TaskType = "regression"
) -> Objective:
    binary = task == "binary_classification"
    return Objective(
        task=task,
        entity_table=entity,
        entity_key=key,
        label_table=label,
        label_key=label_key,
        target_column=target,
        positive_value=True if binary else 1,
        metric="roc_auc" if binary else "rmse",
        threshold=0.7 if binary else 10.0,
    )


def _groups(path: Path, profile: WarehouseProfile, objective: Objective) -> dict[str, FeatureGroup]:
    with Warehouse(path).connect(read_only=True) as conn:
        semantics = analyse_schema(conn, profile, objective)
    return {g.name: g for g in propose_feature_groups(objective, profile, semantics)}


def _rows(path: Path, objective: Objective, group: FeatureGroup) -> dict[object, dict[str, object]]:
    sql = feature_group_sql(objective, group, warehouse_ref("main", "main"))
    with duckdb.connect(str(path), read_only=True) as conn:
        result = conn.execute(sql)
        names = [d[0] for d in result.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in result.fetchall()}


@pytest.fixture(scope="module")
def guild(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    path = _build(tmp_path_factory.mktemp("guild") / "guild.duckdb", GUILD_SQL)
    return path, profile_warehouse(Warehouse(path))


@pytest.fixture(scope="module")
def league(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    path = _build(tmp_path_factory.mktemp("league") / "league.duckdb", LEAGUE_SQL)
    return path, profile_warehouse(Warehouse(path))


def test_full_inclusion_beats_a_same_name_subset(league: tuple[Path, WarehouseProfile]) -> None:
    _, profile = league
    links = _links(profile)
    # race_line.rider_ref shares its name with prize.rider_ref, which holds 73% of its values;
    # rider.rider_code holds all of them.
    assert ("race_line", "rider_ref", "rider", "rider_code") in links
    assert ("race_line", "rider_ref", "prize", "rider_ref") not in links
    # Every fine is of a labelled rider: found whole in prize too, yet prize only extends
    # rider one-to-one, and the table extended is the parent.
    assert ("fine", "rider_ref", "rider", "rider_code") in links
    assert ("prize", "rider_ref", "rider", "rider_code") in links
    # A name match that finds 80% of the values and no key holding more stays a (name) link.
    by_slot = {(r.child_table, r.child_column): r for r in profile.relationships}
    assert by_slot[("race_line", "bike_ref")].parent_table == "bike"
    assert by_slot[("race_line", "bike_ref")].evidence == "name"


def test_children_of_the_entity_are_never_left_to_the_label_table(
    league: tuple[Path, WarehouseProfile],
) -> None:
    path, profile = league
    objective = _objective("rider", "rider_code", "prize", "rider_ref", "prize_money")
    groups = _groups(path, profile, objective)
    assert groups["race_line"].kind == "child_aggregates"
    assert groups["race_line"].join_column == "rider_ref"
    rows = _rows(path, objective, groups["race_line"])
    # R005 has race lines 5, 125 and 245: podiums 5, 8 and 2.
    assert rows["R005"]["race_line__n_rows"] == 3
    assert rows["R005"]["race_line__max_podiums"] == 8


def test_one_to_one_tables_under_keys_named_id_are_entity_attributes(
    guild: tuple[Path, WarehouseProfile],
) -> None:
    path, profile = guild
    assert ("Dues", "member_id", "Members", "id") in _links(profile)
    objective = _objective(
        "Members", "id", "Standing", "member_id", "lapsed", "binary_classification"
    )
    groups = _groups(path, profile, objective)
    dues = groups["dues"]
    assert dues.kind == "entity_attributes"
    assert (dues.source_table, dues.join_column, dues.via) == ("Dues", "member_id", None)
    assert {f.name for f in dues.features} == {"owed", "latecount"}
    assert "one-to-one" in dues.rationale and "static" in dues.rationale
    assert "Dues.member_id is unique" in dues.rationale
    rows = _rows(path, objective, dues)
    assert len(rows) == 300
    # Member 714 is Dues row i = 2 (2 * 7 = 14): Owed 3.0, LateCount 2.
    assert (rows[714]["dues__owed"], rows[714]["dues__latecount"]) == (3.0, 2)
    # Dues is not aggregated as a child, and its own id is never a feature.
    assert not any(
        g.kind != "entity_attributes" and g.source_table == "Dues" for g in groups.values()
    )
    assert not any("90000" in f.expression or f.name == "id" for f in dues.features)


def test_a_long_table_is_read_per_value_of_its_category(
    guild: tuple[Path, WarehouseProfile],
) -> None:
    path, profile = guild
    objective = _objective(
        "Members", "id", "Standing", "member_id", "lapsed", "binary_classification"
    )
    terms = _groups(path, profile, objective)["terms"]
    names = {f.name for f in terms.features}
    assert {"avg_hours_term_spring", "avg_hours_term_autumn"} <= names
    rows = _rows(path, objective, terms)
    # Member 713 (m = 13): 3 hours in spring, 8 in autumn.
    assert rows[713]["terms__avg_hours_term_spring"] == 3.0
    assert rows[713]["terms__avg_hours_term_autumn"] == 8.0


def test_keys_held_by_three_tables_link_to_the_widest(tmp_path: Path) -> None:
    path = _build(tmp_path / "trio.duckdb", TRIO_SQL)
    profile = profile_warehouse(Warehouse(path))
    links = _links(profile)
    assert {
        ("Pay", "staff_no", "Staff", "staff_no"),
        ("Leavers", "staff_no", "Staff", "staff_no"),
        ("Reviews", "staff_no", "Staff", "staff_no"),
    } <= links
    assert not any(parent in ("Pay", "Leavers") for _, _, parent, _ in links)
    objective = _objective(
        "Staff", "staff_no", "Leavers", "staff_no", "has_left", "binary_classification"
    )
    groups = _groups(path, profile, objective)
    assert groups["pay"].kind == "entity_attributes"
    assert [f.name for f in groups["pay"].features] == ["salary"]
    assert groups["reviews"].kind == "child_aggregates"
    # The label table is never read as an attribute.
    assert not any(g.source_table == "Leavers" for g in groups.values())


def test_tables_tied_through_another_unique_column_of_the_entity(tmp_path: Path) -> None:
    path = _build(tmp_path / "arena.duckdb", ARENA_SQL)
    profile = profile_warehouse(Warehouse(path))
    objective = _objective(
        "tickets", "ticket_code", "tickets", "ticket_code", "refunded", "binary_classification"
    )
    groups = _groups(path, profile, objective)
    for name in ("fans", "fan_scores"):
        group = groups[name]
        assert group.kind == "entity_attributes"
        assert group.via is not None
        assert (group.via.table, group.via.key_column) == ("tickets", "fan_code")
        assert "found by tickets.fan_code" in group.rationale
    # fans is read whole in its own group, not also as a two-column lookup of tickets.
    assert not groups["tickets"].lookups
    fans = _rows(path, objective, groups["fans"])
    scores = _rows(path, objective, groups["fan_scores"])
    assert len(fans) == len(scores) == 150
    assert fans["T0013"]["fans__home"] == "county"
    assert scores["T0013"]["fan_scores__loyalty"] == 2


# Orders of customers of whom a quarter were deleted; products numbered 1..500 hold every
# customer number by chance.
DEPOT_SQL = """
CREATE TABLE customers AS
SELECT i::BIGINT AS id, ['a', 'b'][1 + i % 2] AS segment FROM range(1, 401) t(i) WHERE i % 4 <> 0;

CREATE TABLE products AS SELECT i::BIGINT AS id, 'p' || i AS label FROM range(1, 501) t(i);

CREATE TABLE orders AS
SELECT i::BIGINT AS order_no, (1 + i % 400)::BIGINT AS customer_id, (i % 7)::BIGINT AS qty
FROM range(0, 1200) t(i);
"""


def test_a_column_named_after_its_parent_keeps_it_when_values_are_missing(
    tmp_path: Path,
) -> None:
    path = _build(tmp_path / "depot.duckdb", DEPOT_SQL)
    profile = profile_warehouse(Warehouse(path))
    by_slot = {(r.child_table, r.child_column): r for r in profile.relationships}
    link = by_slot[("orders", "customer_id")]
    # 75% found in customers; products.id holds all, but any 1..400 fits in 1..500.
    assert (link.parent_table, link.evidence, link.inclusion) == ("customers", "name", 0.75)


def test_a_one_to_one_table_found_through_an_excluded_column_is_left_out(tmp_path: Path) -> None:
    path = _build(tmp_path / "arena.duckdb", ARENA_SQL)
    profile = profile_warehouse(Warehouse(path))
    objective = _objective(
        "tickets", "ticket_code", "tickets", "ticket_code", "refunded", "binary_classification"
    )
    with Warehouse(path).connect(read_only=True) as conn:
        semantics = analyse_schema(
            conn, profile, objective, excluded={("tickets", "fan_code"): "declared unusable"}
        )
    groups = {g.source_table for g in propose_feature_groups(objective, profile, semantics)}
    assert groups == {"tickets"}
    assert "left out fans: it is found through tickets.fan_code, a leakage suspect" in (
        left_out_sources(objective, profile, semantics)
    )
