"""A column of a few text codes is linked to the dimension keyed by them, whatever either is
called; the label table holding it stays a label table, and the code column may be the
outcome, its dimension's names read as the classes, not as a cohort."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse

CODES = ["KAY", "CNO", "SUP", "RFT"]
NAMES = ["kayak", "canoe", "paddle board", "raft"]


@pytest.fixture(scope="module")
def rentals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    path = tmp_path_factory.mktemp("codes") / "rentals.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE craft_types (craft_code VARCHAR, craft_label VARCHAR)")
        conn.executemany(
            "INSERT INTO craft_types VALUES (?, ?)", list(zip(CODES, NAMES, strict=True))
        )
        conn.execute(
            "CREATE TABLE paddlers AS SELECT 500 + i AS paddler_ref, 18 + i % 50 AS age,"
            " (i * 7) % 30 AS trips_last_year FROM range(800) t(i)"
        )
        conn.execute(
            "CREATE TABLE quotes AS SELECT i AS quote_no, 500 + i % 800 AS paddler_ref,"
            f" {CODES!r}[1 + i % 4] AS craft_code, 20.0 + (i * 13) % 60 AS price"
            " FROM range(3200) t(i)"
        )
        conn.execute(
            "CREATE TABLE picks AS SELECT 500 + i AS paddler_ref,"
            f" {CODES!r}[1 + (i * 3 + i // 7) % 4] AS picked FROM range(800) t(i)"
        )
    return path, profile_warehouse(Warehouse(path))


def test_a_code_column_links_to_its_dimension_by_values_alone(
    rentals: tuple[Path, WarehouseProfile],
) -> None:
    _, profile = rentals
    links = {
        (r.child_table, r.child_column): (r.parent_table, r.parent_column, r.evidence)
        for r in profile.relationships
    }
    assert links[("picks", "picked")] == ("craft_types", "craft_code", "values")
    # The label table still extends the paddlers, not the other way round.
    assert links[("picks", "paddler_ref")][0] == "paddlers"
    assert ("paddlers", "paddler_ref") not in links


def test_the_code_column_is_the_outcome_and_its_names_are_its_classes(
    rentals: tuple[Path, WarehouseProfile],
) -> None:
    _, profile = rentals
    objective = interpret_objective(
        "Predict which craft each paddler picks: kayak, canoe, paddle board or raft."
        " Accuracy of at least 40%.",
        profile,
        GoalOverrides(),
    )
    assert (objective.label_table, objective.target_column) == ("picks", "picked")
    assert objective.task == "multiclass_classification"
    assert objective.entity_table == "paddlers" and objective.cohort_sql is None
    assert set(objective.classes) == set(CODES)


def test_two_shared_codes_are_not_enough_for_a_link(tmp_path: Path) -> None:
    path = tmp_path / "flags.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE answers (answer VARCHAR, meaning VARCHAR)")
        conn.execute("INSERT INTO answers VALUES ('Y', 'yes'), ('N', 'no')")
        conn.execute(
            "CREATE TABLE visits AS SELECT i AS visit_no,"
            " CASE WHEN i % 3 = 0 THEN 'Y' ELSE 'N' END AS returned FROM range(300) t(i)"
        )
    profile = profile_warehouse(Warehouse(path))
    assert not [r for r in profile.relationships if r.child_column == "returned"]
