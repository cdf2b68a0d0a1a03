"""Open ranges after a numbered value, negations of a verb, and conditions on a child row
per option, read against real profiled warehouses of their own naming.

Two small DuckDB files: a league (players with a season number and a ``male`` flag, a child
of awards with several rows per player, outcomes in a label table) and a grocery panel
(baskets, a child of offers with one row per basket and chain holding a ``promoted`` flag
and a price, the chosen chain in a label table). Each reading is checked for its predicate
and for the rows DuckDB selects with it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse

Built = tuple[Path, WarehouseProfile]


def _league(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        """
        CREATE TABLE players AS
        SELECT 'P' || lpad(CAST(i AS VARCHAR), 4, '0') AS player_ref,
               1 + i % 12 AS season_no, CAST(i % 2 AS INTEGER) AS male,
               20 + i % 25 AS age
        FROM range(480) t(i)
        """
    )
    conn.execute(
        """
        CREATE TABLE awards AS
        SELECT row_number() OVER () AS award_id, p.player_ref,
               CASE (hash(p.player_ref) + k) % 3 WHEN 0 THEN 'MVP' WHEN 1 THEN 'ALL STAR'
                    ELSE 'ROOKIE' END AS award
        FROM players p, range(2) r(k)
        WHERE (hash(p.player_ref) % 4) <> 0
        """
    )
    conn.execute(
        """
        CREATE TABLE outcomes AS
        SELECT player_ref, CASE WHEN hash(player_ref) % 3 = 0 THEN 'yes' ELSE 'no' END
               AS retired
        FROM players
        """
    )


def _grocery(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        """
        CREATE TABLE baskets AS
        SELECT i AS basket_id, 1 + i % 40 AS shopper_id FROM range(1, 901) t(i)
        """
    )
    conn.execute(
        """
        CREATE TABLE offers AS
        SELECT b.basket_id, c.chain,
               CAST((b.basket_id * 7 + c.k) % 5 = 0 AS INTEGER) AS promoted,
               round(2 + ((b.basket_id * 13 + c.k * 5) % 40) / 10.0, 1) AS price_per_kg
        FROM baskets b,
             (VALUES ('ACME', 1), ('ZENITH', 2), ('ORBIT', 3)) c(chain, k)
        """
    )
    conn.execute(
        """
        CREATE TABLE picked AS
        SELECT basket_id, CASE basket_id % 3 WHEN 0 THEN 'ACME' WHEN 1 THEN 'ZENITH'
               ELSE 'ORBIT' END AS chain
        FROM baskets
        """
    )


def _build(tmp: pytest.TempPathFactory, name: str, make: object) -> Built:
    path = tmp.mktemp("reading_values4") / f"{name}.duckdb"
    conn = duckdb.connect(str(path))
    try:
        make(conn)  # type: ignore[operator]
    finally:
        conn.close()
    return path, profile_warehouse(Warehouse(path))


@pytest.fixture(scope="module")
def league(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory, "league", _league)


@pytest.fixture(scope="module")
def grocery(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory, "grocery", _grocery)


def _read(built: Built, text: str) -> Objective:
    return interpret_objective(text, built[1], GoalOverrides())


def _rows(built: Built, table: str, where: str) -> int:
    conn = duckdb.connect(str(built[0]), read_only=True)
    try:
        row = conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()
    finally:
        conn.close()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("words", "sql"),
    [
        ("for season 5 onwards", "season_no >= 5"),
        ("for season 5 and up", "season_no >= 5"),
        ("for season 4 or later", "season_no >= 4"),
        ("for season 10+", "season_no >= 10"),
        ("for season 6 or earlier", "season_no <= 6"),
        ("for players after season 6", "season_no > 6"),
        ("from season 3 on,", "season_no >= 3"),
        ("for season 3 to 6", "season_no BETWEEN 3 AND 6"),
        ("for season 5", "season_no = 5"),
    ],
)
def test_an_open_range_after_a_numbered_value(league: Built, words: str, sql: str) -> None:
    objective = _read(league, f"Predict whether a player has retired, {words} F1 of 0.5.")
    assert objective.cohort_sql == sql
    assert _rows(league, "players", objective.cohort_sql) == _rows(league, "players", sql)


@pytest.mark.parametrize(
    "words",
    [
        "who were never named MVP",
        "who have never been named MVP",
        "that were never MVP",
        "who weren't named MVP",
    ],
)
def test_a_negated_verb_inverts_a_child_row_cohort(league: Built, words: str) -> None:
    objective = _read(league, f"For players {words}, predict whether they retired. F1 of 0.5.")
    sql = objective.cohort_sql
    assert sql is not None and sql.startswith("NOT (") and "'MVP'" in sql
    never = "player_ref NOT IN (SELECT player_ref FROM awards WHERE award = 'MVP')"
    assert _rows(league, "players", sql) == _rows(league, "players", never)


def test_the_same_words_without_the_negation_keep_the_cohort(league: Built) -> None:
    objective = _read(league, "For players who were named MVP, predict retirement. F1 of 0.5.")
    assert objective.cohort_sql is not None and not objective.cohort_sql.startswith("NOT")


def test_a_verb_with_its_own_object_does_not_negate_the_value(league: Built) -> None:
    # 'never missed a game' negates the game, not the award after it.
    objective = _read(
        league, "For players who never missed a game as MVP, predict retirement. F1 of 0.5."
    )
    assert objective.cohort_sql is not None and not objective.cohort_sql.startswith("NOT")


@pytest.mark.parametrize(
    ("words", "value"),
    [("for men over 30", 1), ("for women over 30", 0), ("which men over 30", 1)],
)
def test_a_word_for_one_sex_reads_a_flag_named_for_either(
    league: Built, words: str, value: int
) -> None:
    objective = _read(league, f"Predict retirement {words}. F1 of 0.5.")
    assert objective.cohort_sql == f"male = {value} AND age > 30"


@pytest.mark.parametrize(
    ("words", "chain", "negated"),
    [
        ("When Acme is promoted, predict", "ACME", False),
        ("Whenever Orbit is promoted, predict", "ORBIT", False),
        ("For baskets where Zenith is not promoted, predict", "ZENITH", True),
        ("While Zenith was being promoted, predict", "ZENITH", False),
    ],
)
def test_a_flag_read_on_the_row_of_the_option_the_value_names(
    grocery: Built, words: str, chain: str, negated: bool
) -> None:
    objective = _read(grocery, f"{words} which chain the shopper picks. Accuracy 0.6.")
    sql = objective.cohort_sql
    assert sql is not None and f"chain = '{chain}'" in sql and "promoted" in sql
    flag = "promoted <> 1" if negated else "promoted = 1"
    meant = f"basket_id IN (SELECT basket_id FROM offers WHERE chain = '{chain}' AND {flag})"
    assert _rows(grocery, "baskets", sql) == _rows(grocery, "baskets", meant)
    assert 0 < _rows(grocery, "baskets", sql) < 900
