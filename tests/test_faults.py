"""Tests for the fault-injection suite on real tiny DuckDB warehouses."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from example_churn import faults
from example_churn._faults_cohort import EUROPEAN_CODES
from example_churn._faults_core import Fault
from example_churn.faults import FAULTS, AppliedFault, apply_fault, main
from example_churn.warehouse import CUTOFF_DATE, TABLES

CUTOFF = dt.datetime.combine(CUTOFF_DATE, dt.time())
# Faults whose effect depends on the seed (the others are fully determined by the schema).
RANDOM_FAULTS = {
    "null_burst", "distribution_drift", "extreme_values", "new_category", "new_table",
    "duplicate_rows", "volume_drop", "orphan_keys", "duplicate_labels", "new_bool_column",
    "new_typed_columns",
}  # fmt: skip
# Faults that may legitimately be applied twice (a second drift is still a drift, a second
# week of rows is still new rows).
REAPPLICABLE = {"distribution_drift", "append_rows"}
NEW_TABLES = {"new_table", "unrelated_table"}

Checksums = dict[str, str]


def checksums(path: Path) -> Checksums:
    """Per table: columns with types and nullability, row count, and an order-free row hash."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [n for (n,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {name: _table_checksum(con, name) for name in names}


def _table_checksum(con: duckdb.DuckDBPyConnection, table: str) -> str:
    schema = con.execute(
        "SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ', '"
        " ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = ?",
        [table],
    ).fetchone()[0]
    rows, digest = con.execute(
        f"SELECT count(*), sum(hash(t))::VARCHAR FROM {table} AS t"
    ).fetchone()
    return f"{schema} | {rows} | {digest}"


@contextlib.contextmanager
def opened(path: Path, pristine: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Read-only connection to a faulted file with the pristine warehouse attached as `p`."""
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute(f"ATTACH '{pristine}' AS p (READ_ONLY)")
        yield con


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchone()[0]


def copy_of(source: Path, directory: Path, name: str = "warehouse.duckdb") -> Path:
    target = directory / name
    shutil.copy(source, target)
    return target


@pytest.fixture(scope="module")
def pristine_sums(pristine_warehouse: Path) -> Checksums:
    return checksums(pristine_warehouse)


Applied = tuple[Path, AppliedFault, Checksums]


@pytest.fixture(scope="module")
def applied(
    pristine_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Applied]:
    """Each fault applied once (seed 0) to its own copy, shared read-only by the tests."""
    cache: dict[str, Applied] = {}

    def get(name: str) -> Applied:
        if name not in cache:
            path = copy_of(pristine_warehouse, tmp_path_factory.mktemp(name))
            result = apply_fault(path, name, seed=0)
            cache[name] = (path, result, checksums(path))
        return cache[name]

    return get


# --- every fault -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_changes_its_table_and_nothing_else(
    name: str, applied: Callable[[str], Applied], pristine_sums: Checksums
) -> None:
    _, result, sums = applied(name)
    spec = FAULTS[name]
    assert result.spec == spec and spec.name == name
    assert result.rows_affected > 0
    assert sums != pristine_sums
    for table in set(pristine_sums) - {spec.table, *spec.also}:
        assert sums.get(table) == pristine_sums[table], f"{name} changed {table}"
    for table in spec.also:
        assert sums[table] != pristine_sums[table], f"{name} claims {table} but left it"
    announced = {spec.table, *map(str, result.details.values())}
    assert set(sums) - set(pristine_sums) <= announced, "a new table the result does not name"


@pytest.mark.parametrize("name", list(FAULTS))
def test_spec_is_documented(name: str) -> None:
    spec = FAULTS[name]
    assert spec.description.strip() and spec.expected_remedy.strip()
    assert spec.table in TABLES or name in NEW_TABLES
    assert set(spec.also) <= set(TABLES)
    if spec.column is not None and spec.table in TABLES and not name.startswith("new_"):
        assert spec.column in TABLES[spec.table]


def test_every_fault_has_an_expectation() -> None:
    assert set(faults.EXPECTED_CAUSES) == set(FAULTS)
    assert set(FAULTS) >= faults.BENIGN | faults.MUST_REFUSE
    assert not faults.BENIGN & faults.MUST_REFUSE
    assert all(faults.EXPECTED_CAUSES[name] is None for name in faults.BENIGN)
    classes = [name for names in faults.CLASSES.values() for name in names]
    assert sorted(classes) == sorted(FAULTS)  # every fault in exactly one class
    assert set(faults.CLASSES["benign"]) == faults.BENIGN
    for name, causes in faults.EXPECTED_CAUSE_SETS.items():
        assert faults.EXPECTED_CAUSES[name] in causes and len(causes) >= 2
        assert FAULTS[name].also, f"{name} has several causes but names one table"


@pytest.mark.parametrize("name", list(FAULTS))
def test_same_seed_gives_the_same_file(
    name: str, applied: Callable[[str], Applied], pristine_warehouse: Path, tmp_path: Path
) -> None:
    path = copy_of(pristine_warehouse, tmp_path)
    again = apply_fault(path, name, seed=0)
    _, first, sums = applied(name)
    assert checksums(path) == sums
    assert again == first


@pytest.mark.parametrize("name", sorted(RANDOM_FAULTS))
def test_different_seed_picks_different_rows(
    name: str, applied: Callable[[str], Applied], pristine_warehouse: Path, tmp_path: Path
) -> None:
    path = copy_of(pristine_warehouse, tmp_path)
    apply_fault(path, name, seed=1)
    table = FAULTS[name].table
    assert checksums(path)[table] != applied(name)[2][table]


@pytest.mark.parametrize("name", sorted(set(FAULTS) - REAPPLICABLE))
def test_reapplying_raises_and_leaves_the_file_unchanged(
    name: str, applied: Callable[[str], Applied], tmp_path: Path
) -> None:
    faulted, _, sums = applied(name)
    path = copy_of(faulted, tmp_path)
    with pytest.raises(ValueError, match=r"applied already|already be applied"):
        apply_fault(path, name, seed=0)
    assert checksums(path) == sums


# --- the exact effect of each fault --------------------------------------------------------

Check = Callable[[duckdb.DuckDBPyConnection, AppliedFault], None]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn

    return register


def columns(
    con: duckdb.DuckDBPyConnection, table: str, catalog: str | None = None
) -> dict[str, str]:
    """Column name -> type of `table` in `catalog` (the faulted file by default)."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_catalog = coalesce(?, current_database()) AND table_name = ?"
        " ORDER BY ordinal_position",
        [catalog, table],
    ).fetchall()
    return dict(rows)


def same_rows(con: duckdb.DuckDBPyConnection, left: str, right: str) -> bool:
    """Multiset equality of two queries."""
    diff = f"SELECT count(*) FROM (({left}) EXCEPT ALL ({right}))"
    back = f"SELECT count(*) FROM (({right}) EXCEPT ALL ({left}))"
    return one(con, diff) == 0 and one(con, back) == 0


@check("rename_column")
def check_rename_column(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    cols = columns(con, "payments")
    assert "amount" not in cols and cols["amount_eur"] == "DOUBLE"
    assert list(cols) == [c.replace("amount", "amount_eur") for c in columns(con, "payments", "p")]
    assert same_rows(con, "SELECT * FROM payments", "SELECT * FROM p.payments")
    assert result.details["renamed_to"] == "amount_eur"


@check("change_type")
def check_change_type(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert columns(con, "support_tickets")["satisfaction_score"] == "VARCHAR"
    matches = one(
        con,
        "SELECT count(*) FROM support_tickets AS f JOIN p.support_tickets AS o USING (ticket_id)"
        " WHERE f.satisfaction_score IS NOT DISTINCT FROM CAST(o.satisfaction_score AS VARCHAR)",
    )
    assert matches == one(con, "SELECT count(*) FROM p.support_tickets") == result.rows_affected
    assert one(con, "SELECT count(*) FROM support_tickets WHERE satisfaction_score ~ '^[1-5]$'")


@check("unit_change")
def check_unit_change(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    wrong = one(
        con,
        "SELECT count(*) FROM events AS f JOIN p.events AS o USING (event_id)"
        " WHERE abs(f.duration_seconds - o.duration_seconds * 1000) > 1e-6",
    )
    assert wrong == 0
    assert result.rows_affected == one(con, "SELECT count(*) FROM p.events")


@check("relabel_categories")
def check_relabel_categories(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    pairs = dict(
        con.execute(
            "SELECT DISTINCT o.status, f.status FROM payments AS f JOIN p.payments AS o"
            " USING (payment_id)"
        ).fetchall()
    )
    assert pairs == {"succeeded": "paid", "failed": "declined", "refunded": "REFUNDED"}
    rest = "SELECT payment_id, customer_id, paid_at, amount, currency FROM"
    assert same_rows(con, f"{rest} payments", f"{rest} p.payments")


@check("null_burst")
def check_null_burst(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    start = CUTOFF - dt.timedelta(days=60)
    window = f"event_time >= TIMESTAMP '{start}' AND event_time < TIMESTAMP '{CUTOFF}'"
    share = one(con, f"SELECT avg((duration_seconds IS NULL)::INT) FROM events WHERE {window}")
    assert 0.35 < share < 0.45
    assert (
        one(con, f"SELECT count(*) FROM events WHERE duration_seconds IS NULL AND NOT ({window})")
        == 0
    )
    kept = "SELECT * FROM {} WHERE duration_seconds IS NOT NULL"
    assert (
        one(
            con, f"SELECT count(*) FROM ({kept.format('events')} EXCEPT ALL SELECT * FROM p.events)"
        )
        == 0
    )
    assert result.rows_affected == one(
        con, "SELECT count(*) FROM events WHERE duration_seconds IS NULL"
    )


@check("drop_column")
def check_drop_column(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    before = columns(con, "support_tickets", "p")
    assert list(columns(con, "support_tickets")) == [c for c in before if c != "resolution_hours"]
    assert same_rows(
        con,
        "SELECT * FROM support_tickets",
        "SELECT * EXCLUDE (resolution_hours) FROM p.support_tickets",
    )


@check("distribution_drift")
def check_distribution_drift(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    ratios = (
        "SELECT f.customer_id, ln(f.amount / o.amount) AS r FROM payments AS f"
        " JOIN p.payments AS o USING (payment_id) WHERE o.amount > 100"
    )
    median, spread, within = con.execute(
        f"SELECT exp(median(r)), stddev(r), max(sd) FROM ({ratios}) JOIN"
        f" (SELECT customer_id, coalesce(stddev(r), 0) AS sd FROM ({ratios}) GROUP BY 1)"
        " USING (customer_id)"
    ).fetchone()
    assert 1.45 < median < 1.75  # the shift
    assert spread > 0.15  # customer-dependent, not a unit change
    assert within < 0.01  # one factor per customer
    low, high, ceiling = con.execute(
        "SELECT min(amount), max(amount), (SELECT 3 * max(amount) FROM p.payments) FROM payments"
    ).fetchone()
    assert low > 0 and high < ceiling  # plausible, unlike extreme_values


@check("extreme_values")
def check_extreme_values(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    signs = dict(
        con.execute(
            "SELECT sign(amount), count(*) FROM payments WHERE abs(amount) = 1e12 GROUP BY 1"
        ).fetchall()
    )
    assert set(signs) == {-1, 1} and sum(signs.values()) == result.rows_affected == 300
    normal = "SELECT * FROM payments WHERE abs(amount) < 1e12"
    assert one(con, f"SELECT count(*) FROM ({normal} EXCEPT ALL SELECT * FROM p.payments)") == 0


@check("new_category")
def check_new_category(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert (
        one(con, "SELECT count(*) FROM p.customers WHERE acquisition_channel = 'app_marketplace'")
        == 0
    )
    share = one(con, "SELECT avg((acquisition_channel = 'app_marketplace')::INT) FROM customers")
    assert 0.45 < share < 0.55
    top = one(con, "SELECT mode(acquisition_channel) FROM customers")
    assert top == "app_marketplace"
    rest = "SELECT * EXCLUDE (acquisition_channel) FROM {}"
    assert same_rows(con, rest.format("customers"), rest.format("p.customers"))


@check("timezone_shift")
def check_timezone_shift(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    switch = CUTOFF - dt.timedelta(days=90)
    offsets = dict(
        con.execute(
            f"SELECT o.event_time >= TIMESTAMP '{switch}', f.event_time - o.event_time"
            " FROM events AS f JOIN p.events AS o USING (event_id) GROUP BY ALL"
        ).fetchall()
    )
    assert offsets == {False: dt.timedelta(0), True: dt.timedelta(hours=-7)}


@check("new_table")
def check_new_table(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert columns(con, "nps_surveys") == {
        "customer_id": "BIGINT", "answered_at": "TIMESTAMP", "score": "INTEGER",
    }  # fmt: skip
    joined = (
        "FROM nps_surveys AS s JOIN churn_labels AS l USING (customer_id)"
        " JOIN customers AS c USING (customer_id)"
    )
    assert one(con, f"SELECT count(*) {joined}") == result.rows_affected
    late = one(
        con,
        f"SELECT count(*) {joined}"
        " WHERE s.answered_at >= l.cutoff_date OR s.answered_at < c.signup_date",
    )
    assert late == 0
    means = dict(con.execute(f"SELECT l.churned, avg(s.score) {joined} GROUP BY 1").fetchall())
    assert means[0] - means[1] > 2  # real signal ...
    assert (
        one(con, f"SELECT count(*) {joined} WHERE l.churned = 1 AND s.score >= 7") > 0
    )  # ... with noise
    assert one(con, "SELECT min(score) >= 0 AND max(score) <= 10 FROM nps_surveys")


@check("duplicate_rows")
def check_duplicate_rows(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    original = one(con, "SELECT count(*) FROM p.payments")
    assert one(con, "SELECT count(*) FROM payments") == original + result.rows_affected
    assert 0.04 < result.rows_affected / original < 0.06
    assert same_rows(con, "SELECT DISTINCT * FROM payments", "SELECT * FROM p.payments")
    assert (
        one(con, "SELECT max(n) FROM (SELECT count(*) AS n FROM payments GROUP BY payment_id)") == 2
    )


@check("volume_drop")
def check_volume_drop(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    kept = one(con, "SELECT count(*) FROM events") / one(con, "SELECT count(*) FROM p.events")
    assert 0.27 < kept < 0.33
    assert (
        one(con, "SELECT count(*) FROM (SELECT * FROM events EXCEPT ALL SELECT * FROM p.events)")
        == 0
    )


@check("stale_data")
def check_stale_data(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    start = CUTOFF - dt.timedelta(days=30)
    recent = f"event_time >= TIMESTAMP '{start}' AND event_time < TIMESTAMP '{CUTOFF}'"
    assert one(con, f"SELECT count(*) FROM p.events WHERE {recent}") > 0
    assert one(con, f"SELECT count(*) FROM events WHERE event_time >= TIMESTAMP '{start}'") == 0
    older = f"SELECT * FROM {{}} WHERE event_time < TIMESTAMP '{start}'"
    assert same_rows(con, older.format("events"), older.format("p.events"))


@check("orphan_keys")
def check_orphan_keys(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    orphan = (
        "SELECT avg((customer_id NOT IN (SELECT customer_id FROM {0}customers))::INT)"
        " FROM {0}support_tickets"
    )
    assert one(con, orphan.format("p.")) == 0
    assert 0.08 < one(con, orphan.format("")) < 0.12
    rest = "SELECT * EXCLUDE (customer_id) FROM {}"
    assert same_rows(con, rest.format("support_tickets"), rest.format("p.support_tickets"))


@check("renamed_table")
def check_renamed_table(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert not columns(con, "events")
    assert columns(con, "events_v2") == columns(con, "events", "p")
    assert same_rows(con, "SELECT * FROM events_v2", "SELECT * FROM p.events")


@check("duplicate_labels")
def check_duplicate_labels(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    original = one(con, "SELECT count(*) FROM p.churn_labels")
    assert one(con, "SELECT count(*) FROM churn_labels") == original + result.rows_affected
    assert 0.025 < result.rows_affected / original < 0.055
    assert same_rows(con, "SELECT DISTINCT * FROM churn_labels", "SELECT * FROM p.churn_labels")


@check("key_format")
def check_key_format(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert columns(con, "support_tickets")["customer_id"] == "VARCHAR"
    assert list(columns(con, "support_tickets")) == list(columns(con, "support_tickets", "p"))
    wrong = one(
        con,
        "SELECT count(*) FROM support_tickets AS f JOIN p.support_tickets AS o USING (ticket_id)"
        " WHERE f.customer_id <> 'C-' || lpad(CAST(o.customer_id AS VARCHAR), 9, '0')",
    )
    assert wrong == 0 and result.rows_affected == one(con, "SELECT count(*) FROM p.support_tickets")
    assert one(con, "SELECT count(*) FROM support_tickets WHERE customer_id ~ '^C-0+[1-9][0-9]+$'")
    rest = "SELECT * EXCLUDE (customer_id) FROM {}"
    assert same_rows(con, rest.format("support_tickets"), rest.format("p.support_tickets"))


@check("key_as_text")
def check_key_as_text(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert columns(con, "payments")["customer_id"] == "VARCHAR"
    assert same_rows(
        con,
        "SELECT * REPLACE (CAST(customer_id AS BIGINT) AS customer_id) FROM payments",
        "SELECT * FROM p.payments",
    )


@check("epoch_time")
def check_epoch_time(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert columns(con, "support_tickets")["created_at"] == "BIGINT"
    assert same_rows(
        con,
        "SELECT * REPLACE (CAST(to_timestamp(created_at) AS TIMESTAMP) AS created_at)"
        " FROM support_tickets",
        "SELECT * REPLACE (date_trunc('second', created_at) AS created_at) FROM p.support_tickets",
    )


@check("text_time")
def check_text_time(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert columns(con, "payments")["paid_at"] == "VARCHAR"
    assert (
        one(
            con,
            "SELECT count(*) FROM payments WHERE paid_at !~ '^\\d{2}/\\d{2}/\\d{4} \\d{2}:\\d{2}$'",
        )
        == 0
    )
    assert same_rows(
        con,
        "SELECT * REPLACE (strptime(paid_at, '%d/%m/%Y %H:%M') AS paid_at) FROM payments",
        "SELECT * REPLACE (date_trunc('minute', paid_at) AS paid_at) FROM p.payments",
    )


def _countries(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT DISTINCT o.country, f.country FROM customers AS f JOIN p.customers AS o"
            " USING (customer_id)"
        ).fetchall()
    )


@check("cohort_lowercase")
def check_cohort_lowercase(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    pairs = _countries(con)
    assert pairs and all(new == old.lower() for old, new in pairs.items())
    rest = "SELECT * EXCLUDE (country) FROM {}"
    assert same_rows(con, rest.format("customers"), rest.format("p.customers"))


@check("cohort_names")
def check_cohort_names(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    pairs = _countries(con)
    assert pairs["DE"] == "Germany" and pairs["US"] == "United States"
    assert len(set(pairs.values())) == len(pairs)  # one name per code: a mapping exists
    assert one(con, "SELECT count(*) FROM customers WHERE country ~ '^[A-Z]{2}$'") == 0


@check("cohort_dropped")
def check_cohort_dropped(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    europe = "(" + ", ".join(f"'{code}'" for code in EUROPEAN_CODES) + ")"
    assert one(con, f"SELECT count(*) FROM p.customers WHERE country IN {europe}") == (
        result.rows_affected
    )
    assert one(con, "SELECT count(*) FROM customers WHERE country IS NULL") == result.rows_affected
    assert one(con, f"SELECT count(*) FROM customers WHERE country IN {europe}") == 0
    kept = "SELECT * FROM {} WHERE country IS NOT NULL"
    assert same_rows(
        con, kept.format("customers"), kept.format("p.customers") + f" AND country NOT IN {europe}"
    )


@check("release_rename_retype")
def check_release_rename_retype(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert "amount_eur" in columns(con, "payments")
    assert columns(con, "support_tickets")["satisfaction_score"] == "VARCHAR"
    assert set(result.details) >= {"rename_column.renamed_to", "change_type.new_type"}


@check("release_time_units")
def check_release_time_units(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert columns(con, "support_tickets")["created_at"] == "BIGINT"
    ratio = one(con, "SELECT median(duration_seconds) FROM events") / one(
        con, "SELECT median(duration_seconds) FROM p.events"
    )
    assert abs(ratio - 1000) < 1e-6


@check("release_key_category")
def check_release_key_category(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert columns(con, "support_tickets")["customer_id"] == "VARCHAR"
    assert one(con, "SELECT count(*) FROM customers WHERE acquisition_channel = 'app_marketplace'")


def _only_added(con: duckdb.DuckDBPyConnection, table: str, added: dict[str, str]) -> None:
    """`table` is the pristine one plus `added` columns (name -> type) at its end."""
    before, after = columns(con, table, "p"), columns(con, table)
    assert after == {**before, **added}
    listed = ", ".join(before)
    assert same_rows(con, f"SELECT {listed} FROM {table}", f"SELECT {listed} FROM p.{table}")


@check("new_bool_column")
def check_new_bool_column(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    _only_added(con, "support_tickets", {"escalated": "BOOLEAN"})
    share = one(con, "SELECT avg(escalated::INT) FROM support_tickets")
    assert 0.08 < share < 0.16 and one(
        con, "SELECT count(escalated) = count(*) FROM support_tickets"
    )


@check("new_typed_columns")
def check_new_typed_columns(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    added = {"invoice_ref": "VARCHAR", "tax_rate": "DOUBLE", "line_items": "INTEGER",
             "settled_on": "DATE"}  # fmt: skip
    _only_added(con, "payments", added)
    nulls = one(con, "SELECT count(*) FROM payments WHERE invoice_ref IS NULL OR tax_rate IS NULL"
                " OR line_items IS NULL OR settled_on IS NULL")  # fmt: skip
    assert nulls == 0


@check("reorder_columns")
def check_reorder_columns(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    before, after = columns(con, "customers", "p"), columns(con, "customers")
    assert list(after) != list(before) and after == before  # same columns and types
    assert list(after)[-1] == "customer_id"
    listed = ", ".join(before)
    assert same_rows(con, f"SELECT {listed} FROM customers", f"SELECT {listed} FROM p.customers")
    key = (
        "SELECT count(*) FROM duckdb_constraints() WHERE database_name = current_database()"
        " AND table_name = 'customers' AND constraint_type = 'PRIMARY KEY'"
    )
    assert one(con, key) == 1


@check("widen_type")
def check_widen_type(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert columns(con, "customers")["age"] == "BIGINT"
    assert same_rows(con, "SELECT * FROM customers", "SELECT * FROM p.customers")


@check("append_rows")
def check_append_rows(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    old_max = one(con, "SELECT max(event_time) FROM p.events")
    new = f"SELECT * FROM events WHERE event_time > TIMESTAMP '{old_max}'"
    assert one(con, f"SELECT count(*) FROM ({new})") == result.rows_affected > 0
    assert same_rows(con, f"SELECT * FROM events WHERE event_time <= TIMESTAMP '{old_max}'",
                     "SELECT * FROM p.events")  # fmt: skip
    assert one(con, "SELECT count(DISTINCT event_id) = count(*) FROM events")
    # The usual rate: as many rows as in the last week before.
    week = one(
        con,
        f"SELECT count(*) FROM p.events WHERE event_time > TIMESTAMP '{old_max}' - INTERVAL 7 DAY",
    )
    assert result.rows_affected == week


@check("unrelated_table")
def check_unrelated_table(con: duckdb.DuckDBPyConnection, result: AppliedFault) -> None:
    assert columns(con, "office_locations") == {
        "office_code": "VARCHAR", "city": "VARCHAR", "opened_on": "DATE", "desks": "INTEGER",
    }  # fmt: skip
    assert one(con, "SELECT count(*) FROM office_locations") == result.rows_affected


def test_every_check_names_a_fault() -> None:
    assert set(CHECKS) == set(FAULTS)
    assert len(FAULTS) >= 30


@pytest.mark.parametrize("name", list(CHECKS))
def test_fault_effect(
    name: str, applied: Callable[[str], Applied], pristine_warehouse: Path
) -> None:
    path, result, _ = applied(name)
    with opened(path, pristine_warehouse) as con:
        CHECKS[name](con, result)


# --- failure modes -------------------------------------------------------------------------


def test_rename_twice_raises_and_leaves_the_file_unchanged(warehouse_copy: Path) -> None:
    apply_fault(warehouse_copy, "rename_column")
    before = checksums(warehouse_copy)
    with pytest.raises(ValueError, match="no column 'amount'"):
        apply_fault(warehouse_copy, "rename_column")
    assert checksums(warehouse_copy) == before


def test_error_midway_rolls_back_everything(
    warehouse_copy: Path, pristine_sums: Checksums, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_done(con: duckdb.DuckDBPyConnection, seed: int) -> tuple[int, dict[str, object]]:
        con.execute("UPDATE payments SET amount = 0")
        con.execute("ALTER TABLE events RENAME TO events_v2")
        con.execute("DROP TABLE customers")
        raise ValueError("simulated failure after three changes")

    spec = FAULTS["rename_column"]
    monkeypatch.setitem(faults._ALL, "rename_column", Fault(spec, half_done))
    with pytest.raises(ValueError, match="simulated failure"):
        apply_fault(warehouse_copy, "rename_column")
    assert checksums(warehouse_copy) == pristine_sums


@pytest.mark.parametrize(
    ("name", "seed", "message"),
    [("no_such_fault", 0, "unknown fault"), ("volume_drop", -1, "non-negative")],
)
def test_bad_arguments_raise(
    warehouse_copy: Path, pristine_sums: Checksums, name: str, seed: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        apply_fault(warehouse_copy, name, seed=seed)
    assert checksums(warehouse_copy) == pristine_sums


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no warehouse file"):
        apply_fault(tmp_path / "absent.duckdb", "volume_drop")
    assert not (tmp_path / "absent.duckdb").exists()


def test_missing_table_names_the_problem(warehouse_copy: Path) -> None:
    apply_fault(warehouse_copy, "renamed_table")
    before = checksums(warehouse_copy)
    for name in ["unit_change", "null_burst", "volume_drop", "stale_data"]:
        with pytest.raises(ValueError, match="no table 'events'"):
            apply_fault(warehouse_copy, name)
    assert checksums(warehouse_copy) == before


# --- command line --------------------------------------------------------------------------


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(FAULTS)
    assert lines[0].split()[:2] == ["rename_column", "payments.amount"]
    for name, line in zip(FAULTS, lines, strict=True):
        assert line.startswith(name) and FAULTS[name].description in line


def test_cli_apply_and_refuse(warehouse_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "orphan_keys", "--path", str(warehouse_copy), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert (
        out.startswith("applied orphan_keys to support_tickets.customer_id")
        and len(out.splitlines()) == 1
    )
    assert main(["apply", "orphan_keys", "--path", str(warehouse_copy)]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["apply", "nope", "--path", str(warehouse_copy)]) == 2


def test_cli_subprocess(warehouse_copy: Path) -> None:
    command = [sys.executable, "-m", "example_churn.faults", "apply", "renamed_table", "--path"]
    done = subprocess.run(
        [*command, str(warehouse_copy)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "applied renamed_table to events" in done.stdout
    again = subprocess.run(
        [*command, str(warehouse_copy)], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 2 and "no table 'events'" in again.stderr
