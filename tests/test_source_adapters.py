"""Source adapters: a repaired version reads raw tables through SQL that fixes what changed,
and the raw tables themselves are never written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.features.adapters import adapted_relation
from dagster_agentic.features.sql import warehouse_ref
from dagster_agentic.guardrails.sql_policy import check_select
from dagster_agentic.plan.models import ColumnFix, RowFilter, SourceAdapter

REF = warehouse_ref("main", "agentic")
IMPUTE_MARCH = ColumnFix(
    kind="impute",
    column="minutes",
    value=5.0,
    data_type="DOUBLE",
    time_column="paid_at",
    since="2024-03-01 00:00:00",
    until="2024-04-01 00:00:00",
)
"""NULL minutes of March 2024 become 5.0 (with an indicator column)."""


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE payments_v2 AS SELECT * FROM (VALUES"
            " (1, 10, '4', 12000.0, 'paid', TIMESTAMP '2024-01-01 10:00', NULL),"
            " (1, 10, '4', 12000.0, 'paid', TIMESTAMP '2024-01-01 10:00', NULL),"
            " (2, 11, '5', 9000.0, 'declined', TIMESTAMP '2024-03-01 03:00', 7.0),"
            " (3, 99, 'x', 1e12, 'refunded', TIMESTAMP '2024-03-02 03:00', NULL))"
            " AS t(payment_id, customer_id, score, amount_eur, status, paid_at, minutes)"
        )
        conn.execute(
            "CREATE TABLE customers AS SELECT * FROM (VALUES (10), (11)) AS t(customer_id)"
        )
    return path


def _rows(path: Path, adapter: SourceAdapter) -> list[tuple[object, ...]]:
    relation = adapted_relation(adapter, REF)
    check_select(
        f"SELECT * FROM {relation} AS t",
        allowed_tables={"main.payments_v2", "main.customers"},
        label="adapter",
    )
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(f"SELECT * FROM {relation} AS t ORDER BY payment_id").fetchall()


def test_each_fix_reads_the_table_as_the_plan_expects(warehouse: Path) -> None:
    adapter = SourceAdapter(
        table="payments",
        read_from="payments_v2",
        columns=(
            ColumnFix(kind="rename", column="amount", source="amount_eur"),
            ColumnFix(kind="scale", column="amount", factor=0.001, data_type="DOUBLE"),
            ColumnFix(kind="cast", column="score", data_type="INTEGER"),
            ColumnFix(
                kind="relabel",
                column="status",
                mapping=(("declined", "failed"), ("paid", "succeeded")),
            ),
            ColumnFix(kind="shift_time", column="paid_at", since="2024-02-01 00:00:00", hours=7),
            IMPUTE_MARCH,
        ),
        keep=(
            RowFilter(kind="within", column="amount", min_value=0.0, max_value=1e6),
            RowFilter(
                kind="in_parent",
                column="customer_id",
                parent_table="customers",
                parent_column="customer_id",
            ),
        ),
        dedupe_on="payment_id",
        dedupe_order=("payment_id", "paid_at"),
    )
    rows = _rows(warehouse, adapter)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        columns = [
            row[0]
            for row in conn.execute(
                f"DESCRIBE SELECT * FROM {adapted_relation(adapter, REF)}"
            ).fetchall()
        ]
        raw = conn.execute("SELECT count(*) FROM payments_v2").fetchone()
    by_name = [dict(zip(columns, row, strict=True)) for row in rows]
    assert [r["payment_id"] for r in by_name] == [1, 2]  # one copy of 1; 3 is quarantined
    assert by_name[0]["amount"] == pytest.approx(12.0) and by_name[0]["status"] == "succeeded"
    assert by_name[0]["score"] == 4 and by_name[1]["status"] == "failed"
    assert str(by_name[0]["paid_at"]) == "2024-01-01 10:00:00"  # before the switch: as it was
    assert str(by_name[1]["paid_at"]) == "2024-03-01 10:00:00"  # after it: shifted back
    assert by_name[0]["minutes"] is None and by_name[0]["minutes__imputed"] is False
    assert by_name[1]["minutes"] == 7.0
    assert "amount_eur" not in columns
    assert raw == (4,)  # the raw table is untouched


def test_impute_fills_only_the_burst_window(warehouse: Path) -> None:
    adapter = SourceAdapter(
        table="payments_v2",
        columns=(IMPUTE_MARCH,),
    )
    rows = _rows(warehouse, adapter)
    minutes = [(r[0], r[-2], r[-1]) for r in rows]
    assert minutes == [(1, None, False), (1, None, False), (2, 7.0, False), (3, 5.0, True)]


def test_an_adapter_without_fixes_is_the_renamed_table_itself() -> None:
    assert adapted_relation(SourceAdapter(table="events", read_from="events_v2"), REF) == (
        '"main"."events_v2"'
    )
