"""Point in time is proven, not assumed: times that arrive as text or epochs are read as times,
and a table whose time cannot be read is left out, never aggregated across all time.

Every test plans for real (profile, semantics, kernel, guardrails, screening, the leakage
audit, dbt parse) on real DuckDB files: the example warehouse and the shop warehouse, with
their time columns re-encoded in SQL.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_agentic import Goal
from dagster_agentic.agent.planner import LEAKAGE_FILE, load_suite, plan_goal
from dagster_agentic.expectations.validate import validate_suite
from dagster_agentic.features.adapters import adapted_relation, adapted_sources, plan_ref
from dagster_agentic.features.sql import feature_group_sql, warehouse_ref
from dagster_agentic.plan.models import ColumnFix, Plan, SourceAdapter
from dagster_agentic.plan.store import PlanBundle
from dagster_agentic.warehouse.connection import Warehouse, qualified_name
from dagster_agentic.warehouse.times import TIME_FORMATS, read_times, time_expression

from .conftest import EXAMPLE_OBJECTIVE
from .shop_warehouse import OBJECTIVE, build_shop_warehouse


def _sql(con: duckdb.DuckDBPyConnection, statements: str) -> None:
    for statement in statements.strip().split(";"):
        if statement.strip():
            con.execute(statement)


def _parse_fixes(plan: Plan) -> dict[tuple[str, str], ColumnFix]:
    return {
        (a.table, f.column): f for a in plan.sources for f in a.columns if f.kind == "parse_time"
    }


def _group_sql(plan: Plan, name: str) -> str:
    ref = plan_ref(plan, warehouse_ref(plan.warehouse_schema, plan.models_schema))
    return feature_group_sql(plan.objective, plan.group(name), ref)


def _leakage(bundle: PlanBundle) -> dict[str, object]:
    data: dict[str, object] = json.loads((bundle.path / LEAKAGE_FILE).read_text())
    return data


# --- reading times --------------------------------------------------------------------------


def test_text_and_epoch_times_are_measured_with_a_format_from_the_allow_list() -> None:
    con = duckdb.connect()
    _sql(
        con,
        """
        CREATE TABLE t AS SELECT
            strftime(TIMESTAMP '2025-01-01' + INTERVAL (i * 7) HOUR, '%d/%m/%Y %H:%M') AS day_first,
            strftime(TIMESTAMP '2025-01-01' + INTERVAL (i * 7) HOUR, '%m/%d/%Y') AS month_first,
            CAST(epoch(TIMESTAMP '2025-01-01' + INTERVAL (i) HOUR) AS BIGINT) AS secs,
            CAST(epoch_ms(TIMESTAMP '2025-01-01' + INTERVAL (i) HOUR) AS BIGINT) AS millis,
            CAST(TIMESTAMP '2025-01-01' + INTERVAL (i) HOUR AS VARCHAR) AS iso,
            ['web', 'app'][1 + i % 2] AS device,
            5000 + i AS amount
        FROM range(500) AS r(i)
        """,
    )
    columns = [(str(r[0]), str(r[1])) for r in con.execute("DESCRIBE t").fetchall()]
    readings = {r.column: r for r in read_times(con, "t", "t", columns)}
    assert readings["day_first"].format == "%d/%m/%Y %H:%M"
    assert readings["month_first"].format == "%m/%d/%Y"
    assert readings["secs"].epoch_unit == "s" and readings["millis"].epoch_unit == "ms"
    assert readings["iso"].format is None and readings["iso"].epoch_unit is None
    assert "device" not in readings and "amount" not in readings
    assert all(r.format is None or r.format in TIME_FORMATS for r in readings.values())
    # Read back, every encoding gives the same instants as the timestamps it came from.
    first = con.execute(
        "SELECT "
        + ", ".join(
            time_expression(c, format=r.format, epoch_unit=r.epoch_unit)
            for c, r in sorted(readings.items())
        )
        + " FROM t LIMIT 1 OFFSET 1"
    ).fetchone()
    assert first is not None
    assert {str(v)[:10] for v in first} == {"2025-01-01"}


def test_a_format_outside_the_allow_list_is_never_rendered() -> None:
    fix = ColumnFix(kind="parse_time", column="at", format="%d'); DROP TABLE x; --")
    adapter = SourceAdapter(table="t", columns=(fix,))
    with pytest.raises(ValueError, match="allow-list"):
        adapted_relation(adapter, warehouse_ref("main", "agent"))


# --- planning -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reencoded_example(pristine_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example warehouse with three event times in other encodings (same instants)."""
    path = tmp_path_factory.mktemp("reencoded") / "warehouse.duckdb"
    shutil.copy(pristine_warehouse, path)
    with duckdb.connect(str(path)) as con:
        _sql(
            con,
            """
            ALTER TABLE payments ALTER COLUMN paid_at TYPE VARCHAR
                USING strftime(paid_at, '%d/%m/%Y %H:%M');
            ALTER TABLE events ALTER COLUMN event_time TYPE BIGINT
                USING CAST(epoch_ms(event_time) AS BIGINT);
            ALTER TABLE support_tickets ALTER COLUMN created_at TYPE BIGINT
                USING CAST(epoch(created_at) AS BIGINT)
            """,
        )
    return path


@pytest.fixture(scope="module")
def reencoded_plan(reencoded_example: Path, tmp_path_factory: pytest.TempPathFactory) -> PlanBundle:
    goal = Goal(
        name="churn",
        objective=EXAMPLE_OBJECTIVE,
        warehouse=reencoded_example,
        state_dir=tmp_path_factory.mktemp("state"),
    )
    return plan_goal(goal)


def test_a_plan_reads_text_and_epoch_times_through_parse_time(reencoded_plan: PlanBundle) -> None:
    plan = reencoded_plan.plan
    fixes = _parse_fixes(plan)
    assert fixes[("payments", "paid_at")].format == "%d/%m/%Y %H:%M"
    assert fixes[("events", "event_time")].epoch_unit == "ms"
    assert fixes[("support_tickets", "created_at")].epoch_unit == "s"
    times = {
        g.source_table: g.time_column for g in plan.feature_groups if g.kind != "entity_attributes"
    }
    # The re-encoded tables are read through their parsed times; every other aggregated table
    # (which ones the selection keeps depends on the screening) through its own time.
    assert {t: times.get(t) for t in ("payments", "events", "support_tickets")} == {
        "payments": "paid_at",
        "events": "event_time",
        "support_tickets": "created_at",
    }
    assert all(time is not None for time in times.values())
    sql = _group_sql(plan, "payments")
    assert "try_strptime(CAST(\"paid_at\" AS VARCHAR), '%d/%m/%Y %H:%M')" in sql
    assert 't."paid_at" < s.cutoff_at' in sql
    assert "epoch_ms(" in _group_sql(plan, "events")
    audit = _leakage(reencoded_plan)
    assert audit["passed"] is True, audit["summary"]
    assert "epoch milliseconds" in str(audit["summary"])


def test_the_suite_of_a_parsed_plan_holds_on_the_data_it_was_planned_on(
    reencoded_plan: PlanBundle, reencoded_example: Path
) -> None:
    results = validate_suite(
        Warehouse(reencoded_example),
        load_suite(reencoded_plan),
        relations=adapted_sources(reencoded_plan.plan),
    )
    failed = [f"{r.expectation.name}: {r.message}" for r in results if not r.passed]
    assert results and not failed


def test_parsed_features_equal_the_features_of_the_original_timestamps(
    reencoded_plan: PlanBundle, pristine_warehouse: Path, reencoded_example: Path
) -> None:
    """Epoch columns hold the same instants: their features are the timestamps' features."""
    plan = reencoded_plan.plan
    parsed_sql = _group_sql(plan, "events")
    original = plan.model_copy(update={"sources": ()})
    original_sql = _group_sql(original, "events")
    with duckdb.connect(str(reencoded_example), read_only=True) as con:
        parsed = con.execute(parsed_sql + " ORDER BY ALL").fetchall()
    with duckdb.connect(str(pristine_warehouse), read_only=True) as con:
        plain = con.execute(original_sql + " ORDER BY ALL").fetchall()
    assert len(parsed) == len(plain) > 1000
    assert parsed == plain


@pytest.fixture(scope="module")
def shop_variants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop warehouse (lapsed members come back after the cutoff) with visits.started as
    month-first text and purchases.bought_at as epoch seconds."""
    path = build_shop_warehouse(tmp_path_factory.mktemp("shop") / "shop.duckdb")
    with duckdb.connect(str(path)) as con:
        _sql(
            con,
            """
            ALTER TABLE visits ALTER COLUMN started TYPE VARCHAR
                USING strftime(started, '%m/%d/%Y %H:%M:%S');
            ALTER TABLE purchases ALTER COLUMN bought_at TYPE DOUBLE
                USING epoch(bought_at)
            """,
        )
    return path


def test_the_shop_plan_reads_its_encoded_times_and_drops_the_visits_after_the_cutoff(
    shop_variants: Path, tmp_path: Path
) -> None:
    goal = Goal(name="lapse", objective=OBJECTIVE, warehouse=shop_variants, state_dir=tmp_path)
    bundle = plan_goal(goal)
    plan = bundle.plan
    fixes = _parse_fixes(plan)
    assert fixes[("visits", "started")].format == "%m/%d/%Y %H:%M:%S"
    assert fixes[("purchases", "bought_at")].epoch_unit == "s"
    visits = next(g for g in plan.feature_groups if g.source_table == "visits" and not g.via)
    assert visits.time_column == "started"
    assert 't."started" < s.cutoff_at' in _group_sql(plan, visits.name)
    path = next((g for g in plan.feature_groups if g.via is not None), None)
    if path is not None:
        assert path.time_column == "bought_at" and path.via is not None
        assert path.via.time_column == "started"
    audit = _leakage(bundle)
    assert audit["passed"] is True, audit["summary"]
    # The post-cutoff burst of visits is invisible: the last visit is before the cutoff.
    ref = plan_ref(plan, warehouse_ref("main", plan.models_schema))
    with duckdb.connect(str(shop_variants), read_only=True) as con:
        relation = ref("source", "visits")
        latest = con.execute(f"SELECT max(started) FROM {relation}").fetchone()
        assert latest is not None and str(latest[0]) > "2026-01-01"  # the burst is in the data
        if any(f.name == "days_since_last" for f in visits.features):
            column = visits.column_name(
                next(f for f in visits.features if f.name == "days_since_last")
            )
            row = con.execute(
                f'SELECT min("{column}") FROM ({_group_sql(plan, visits.name)})'
            ).fetchone()
            assert row is not None and row[0] is not None and row[0] >= 0


def test_a_child_table_without_a_readable_time_is_left_out_with_the_reason(
    pristine_warehouse: Path, tmp_path: Path
) -> None:
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(pristine_warehouse, path)
    with duckdb.connect(str(path)) as con:
        # A free-text time nobody can parse: the table keeps its rows, but not its time.
        con.execute(
            "ALTER TABLE payments ALTER COLUMN paid_at TYPE VARCHAR"
            " USING 'sometime in ' || strftime(paid_at, '%B')"
        )
    goal = Goal(name="churn", objective=EXAMPLE_OBJECTIVE, warehouse=path, state_dir=tmp_path / "s")
    bundle = plan_goal(goal)
    plan = bundle.plan
    assert "payments" not in {g.source_table for g in plan.feature_groups}
    assert not any(g.via and g.via.table == "payments" for g in plan.feature_groups)
    reasons = [r for r in plan.rationale if r.startswith("left out payments")]
    assert reasons and "not aggregated across all time" in reasons[0]
    audit = _leakage(bundle)
    assert any(str(r).startswith("left out payments") for r in audit["left_out"])  # type: ignore[union-attr]
    assert audit["passed"] is True
    # The other event tables are still read, as of the cutoff.
    assert {g.source_table for g in plan.feature_groups} >= {"events", "support_tickets"}
    # Entity attributes are read as static, and said to be (on the candidates screened).
    candidates = json.loads((bundle.path / "screening.json").read_text())["candidates"]
    entity = next(g for g in candidates if g["kind"] == "entity_attributes")
    assert "static" in entity["rationale"]


def test_a_format_that_does_not_match_reads_null_never_a_wrong_time(
    pristine_warehouse: Path,
) -> None:
    """Read through a format it does not match, a column is NULL: a NULL time fails the cutoff
    comparison, so a misread time can drop rows but never let a later row in."""
    with duckdb.connect(str(pristine_warehouse), read_only=True) as con:
        expression = time_expression('"paid_at"', format="%d/%m/%Y")
        row = con.execute(
            f"SELECT count({expression}), count(*) FROM {qualified_name('main', 'payments')}"
        ).fetchone()
    assert row is not None and row[0] == 0 < row[1]


def test_a_path_through_a_table_without_a_readable_time_is_left_out(tmp_path: Path) -> None:
    """Shop visits lose their time (free text): neither visits nor the purchases reached
    through them can be read as of the cutoff, so both are left out, with the reasons."""
    path = build_shop_warehouse(tmp_path / "shop.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute(
            "ALTER TABLE visits ALTER COLUMN started TYPE VARCHAR"
            " USING 'in the ' || CASE WHEN hour(started) < 12 THEN 'morning' ELSE 'evening' END"
        )
    goal = Goal(name="lapse", objective=OBJECTIVE, warehouse=path, state_dir=tmp_path / "state")
    plan = plan_goal(goal).plan
    assert not any(
        g.source_table in ("visits", "purchases") or g.via is not None for g in plan.feature_groups
    )
    assert any(r.startswith("left out visits") for r in plan.rationale), plan.rationale
    assert any(r.startswith("left out purchases through visits") for r in plan.rationale)
