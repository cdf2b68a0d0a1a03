"""No false alarms: benign warehouse changes after a green run fail no check and degrade nothing.

Each test starts from a goal run green on a real DuckDB file, applies one change that any
warehouse sees in ordinary life (a new column, a new table, columns in another order, a
widened type, new rows at the usual rate) and runs the goal again headless. No check may
fail, no healing may start, and the goal stays healthy. The first run itself proves that a
version's expectations hold on the data it was planned on, on a warehouse holding every
kind of DuckDB column (:mod:`tests.typed_warehouse`), and the example warehouse is checked
with the change users reported (a new BOOLEAN column) plus a widening and a reordering.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dagster_agentic.goals.spec import Goal
from dagster_agentic.healing.health import read_health
from dagster_agentic.healing.loop import failed_data_checks
from dagster_agentic.runner import RunSummary, run_goal

from .conftest import loop_instance, make_goal
from .typed_warehouse import OBJECTIVE, build_typed_warehouse


@dataclass(frozen=True)
class Green:
    work: Path
    snapshot: Path
    first: RunSummary


def _typed_goal(warehouse: Path) -> Goal:
    return Goal(name="cancel", objective=OBJECTIVE, warehouse=warehouse)


def _run(goal: Goal) -> RunSummary:
    with loop_instance() as instance:
        return run_goal(goal, instance=instance, log_level="ERROR")


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory) -> Green:
    root = tmp_path_factory.mktemp("benign_typed")
    work = root / "work"
    work.mkdir()
    build_typed_warehouse(work / "warehouse.duckdb")
    first = _run(_typed_goal(work / "warehouse.duckdb"))
    snapshot = root / "snapshot"
    shutil.copytree(work, snapshot)
    return Green(work, snapshot, first)


@pytest.fixture
def restored(typed: Green) -> Iterator[Path]:
    shutil.rmtree(typed.work)
    shutil.copytree(typed.snapshot, typed.work)
    yield typed.work / "warehouse.duckdb"


def _assert_green(summary: RunSummary, goal: Goal) -> None:
    assert summary.success, summary.render()
    assert failed_data_checks(summary) == [], summary.render()
    assert summary.healing is None, summary.render()
    assert read_health(goal)["status"] == "healthy"


def test_a_version_holds_on_the_data_it_was_planned_on_for_every_column_type(
    typed: Green,
) -> None:
    summary = typed.first
    _assert_green(summary, _typed_goal(typed.work / "warehouse.duckdb"))
    raw = [name for name in summary.checks if name.startswith("cancel/sources:")]
    dbt = [name for name in summary.checks if name.startswith("features/")]
    assert len(raw) > 100 and dbt  # the raw suite and the dbt tests both ran
    with duckdb.connect(str(typed.snapshot / "warehouse.duckdb"), read_only=True) as conn:
        types = {
            str(row[0]).split("(")[0].split("[")[0]
            for row in conn.execute(
                "SELECT data_type FROM information_schema.columns WHERE table_name = 'accounts'"
            ).fetchall()
        }
    assert {"BOOLEAN", "HUGEINT", "UBIGINT", "FLOAT", "DECIMAL", "TIME", "INTERVAL"} <= types
    assert {"UUID", "BLOB", "ENUM", "VARCHAR", "STRUCT", "MAP", "TIMESTAMP WITH TIME ZONE"} <= types
    # Checks on the odd columns ran and held: NaN in a range, booleans and enums in a set.
    for check in (
        "accounts__double_ratio__between",
        "accounts__is_pro__accepted_values",
        "accounts__tier__accepted_values",
        "accounts__huge_count__column_type",
    ):
        assert summary.checks.get(f"cancel/sources:{check}") is True, check


def _new_boolean_column(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("ALTER TABLE accounts ADD COLUMN opted_in BOOLEAN")
    conn.execute("UPDATE accounts SET opted_in = (account_id % 3 = 1)")


def _new_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        "CREATE TABLE referrals AS SELECT account_id, 'friend' AS source, TRUE AS counted"
        " FROM accounts WHERE account_id % 4 = 0"
    )


def _reordered_columns(conn: duckdb.DuckDBPyConnection) -> None:
    columns = [
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'sessions'"
            " ORDER BY ordinal_position DESC"
        ).fetchall()
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    conn.execute(f"CREATE TABLE sessions_reordered AS SELECT {listed} FROM sessions")
    conn.execute("DROP TABLE sessions")
    conn.execute("ALTER TABLE sessions_reordered RENAME TO sessions")


def _widened_types(conn: duckdb.DuckDBPyConnection) -> None:
    for table, column, wider in (
        ("accounts", "tiny_score", "SMALLINT"),
        ("accounts", "uint_level", "UBIGINT"),
        ("accounts", "float_ratio", "DOUBLE"),
        ("accounts", "credit", "DECIMAL(14, 3)"),
        ("sessions", "charge", "DECIMAL(18, 4)"),
        ("sessions", "session_ref", "HUGEINT"),
    ):
        conn.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {wider}")


def _new_rows_at_the_usual_rate(conn: duckdb.DuckDBPyConnection) -> None:
    """A week more of sessions, like the last week's, for the same accounts."""
    conn.execute(
        "INSERT INTO sessions SELECT session_ref + 10000000, account_id,"
        " began + INTERVAL 7 DAY, seconds_used, succeeded, channel, bytes_sent, charge"
        " FROM sessions WHERE began >= (SELECT max(began) FROM sessions) - INTERVAL 7 DAY"
    )


CHANGES: dict[str, Callable[[duckdb.DuckDBPyConnection], None]] = {
    "new_boolean_column": _new_boolean_column,
    "new_table": _new_table,
    "reordered_columns": _reordered_columns,
    "widened_types": _widened_types,
    "new_rows_at_the_usual_rate": _new_rows_at_the_usual_rate,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_benign_change_fails_no_check(change: str, typed: Green, restored: Path) -> None:
    assert typed.first.success, typed.first.render()
    with duckdb.connect(str(restored)) as conn:
        CHANGES[change](conn)
    goal = _typed_goal(restored)
    _assert_green(_run(goal), goal)


def test_the_example_warehouse_takes_a_release_of_benign_changes(
    warehouse_copy: Path,
) -> None:
    goal = make_goal(warehouse_copy)
    _assert_green(_run(goal), goal)
    with duckdb.connect(str(warehouse_copy)) as conn:
        conn.execute("ALTER TABLE customers ADD COLUMN newsletter BOOLEAN")
        conn.execute("UPDATE customers SET newsletter = (hash(customer_id) % 2 = 0)")
        conn.execute("CREATE TABLE app_installs AS SELECT customer_id, 'ios' AS os FROM customers")
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = 'payments'"
            ).fetchall()
        )
        for column, data_type in types.items():
            wider = {"INTEGER": "BIGINT", "FLOAT": "DOUBLE"}.get(data_type)
            if wider:
                conn.execute(f'ALTER TABLE payments ALTER COLUMN "{column}" TYPE {wider}')
        listed = ", ".join(f'"{c}"' for c in reversed(list(types)))
        conn.execute(f"CREATE TABLE payments_reordered AS SELECT {listed} FROM payments")
        conn.execute("DROP TABLE payments")
        conn.execute("ALTER TABLE payments_reordered RENAME TO payments")
    _assert_green(_run(goal), goal)
