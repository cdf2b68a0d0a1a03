"""Warehouse profiling on real DuckDB files: statistics, keys, relationships, egress."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import duckdb
import pytest

from dagster_agentic.errors import WarehouseError
from dagster_agentic.warehouse import profile as profile_module
from dagster_agentic.warehouse.connection import EgressLedger, Warehouse, quote_ident
from dagster_agentic.warehouse.models import (
    ALL_VALUES_MAX,
    ColumnProfile,
    Relationship,
    TableProfile,
    WarehouseProfile,
)
from dagster_agentic.warehouse.profile import profile_table, profile_warehouse
from dagster_agentic.warehouse.relationships import name_match, singular

STAR_SQL = """
CREATE TABLE companies AS
SELECT i::INTEGER AS id, 'company ' || i AS company_name FROM range(1, 31) t(i);

CREATE TABLE customers AS
SELECT i::BIGINT AS customer_id,
       'user' || i || '@example.com' AS email,
       (i % 30 + 1)::INTEGER AS company_id,
       (18 + i % 63)::INTEGER AS age,
       CASE WHEN i % 10 < 5 THEN 'retail' WHEN i % 10 < 8 THEN 'smb' ELSE 'enterprise' END
           AS segment,
       DATE '2024-01-01' + i::INTEGER AS signup_date,
       (i % 4 <> 0) AS is_active,
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'ref' || (i % 7) END AS referrer_code
FROM range(1, 201) t(i);

CREATE TABLE customer_profiles AS
SELECT i::BIGINT AS customer_id, 'bio ' || i AS bio FROM range(1, 151) t(i);

CREATE TABLE products AS
SELECT 'SKU-' || lpad(i::VARCHAR, 3, '0') AS sku, (100 + i)::INTEGER AS product_id,
       (i * 2.5)::DOUBLE AS price
FROM range(1, 41) t(i);

CREATE TABLE regions AS
SELECT i::INTEGER AS region_id, 'region ' || i AS region_name FROM range(1, 6) t(i);

CREATE TABLE orders AS
SELECT (1000 + i)::BIGINT AS order_id,
       ((i * 7) % 200 + 1)::BIGINT AS customer_id,
       ((i * 13) % 200 + 1)::BIGINT AS buyer,
       TIMESTAMP '2024-03-01 08:00:00' + to_minutes(i::BIGINT * 37) AS ordered_at,
       CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 97) * 1.25 END::DOUBLE AS amount,
       CASE i % 3 WHEN 0 THEN 'shipped' WHEN 1 THEN 'pending' ELSE 'cancelled' END AS status
FROM range(0, 500) t(i);

CREATE TABLE order_items AS
SELECT i::INTEGER AS item_id, (1000 + i % 500)::BIGINT AS order_id,
       (101 + i % 40)::INTEGER AS product_id, (1 + i % 5)::INTEGER AS quantity
FROM range(1, 1501) t(i);

CREATE TABLE reviews AS
SELECT i::INTEGER AS review_id, (101 + i % 50)::INTEGER AS product_id, (1 + i % 5)::INTEGER AS stars
FROM range(1, 301) t(i);

CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100;
"""

EXPECTED_RELATIONSHIPS = {
    ("customer_profiles", "customer_id", "customers", "customer_id", "name_and_values"),
    ("customers", "company_id", "companies", "id", "name_and_values"),
    ("order_items", "order_id", "orders", "order_id", "name_and_values"),
    ("order_items", "product_id", "products", "product_id", "name_and_values"),
    ("orders", "customer_id", "customers", "customer_id", "name_and_values"),
    ("orders", "buyer", "customers", "customer_id", "values"),
    ("reviews", "product_id", "products", "product_id", "name"),
    # The view repeats orders' columns, so it is a child of customers too.
    ("big_orders", "customer_id", "customers", "customer_id", "name_and_values"),
    ("big_orders", "buyer", "customers", "customer_id", "values"),
    # ... and a 1-1 extension of orders (a subset of its keys, named after it).
    ("big_orders", "order_id", "orders", "order_id", "name_and_values"),
}


def build(path: Path, sql: str = STAR_SQL) -> Warehouse:
    with duckdb.connect(str(path)) as conn:
        conn.execute(sql)
    return Warehouse(path)


@pytest.fixture(scope="module")
def star(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return build(tmp_path_factory.mktemp("star") / "star.duckdb")


@pytest.fixture(scope="module")
def star_profile(star: Warehouse) -> WarehouseProfile:
    return profile_warehouse(star)


def tab(profile: WarehouseProfile, name: str) -> TableProfile:
    table = profile.table(name)
    assert table is not None, name
    return table


def col(table: TableProfile | None, name: str) -> ColumnProfile:
    assert table is not None
    column = table.column(name)
    assert column is not None, name
    return column


def as_tuples(relationships: tuple[Relationship, ...]) -> set[tuple[str, ...]]:
    return {
        (r.child_table, r.child_column, r.parent_table, r.parent_column, r.evidence)
        for r in relationships
    }


# --- column statistics ----------------------------------------------------------------------


def test_tables_and_views_are_listed(star_profile: WarehouseProfile) -> None:
    assert set(star_profile.table_names) == {
        "big_orders",
        "companies",
        "customer_profiles",
        "customers",
        "order_items",
        "orders",
        "products",
        "regions",
        "reviews",
    }
    assert tab(star_profile, "orders").row_count == 500


def test_kinds_types_and_null_fractions(star_profile: WarehouseProfile) -> None:
    customers = tab(star_profile, "customers")
    kinds = {c.name: (c.data_type, c.kind) for c in customers.columns}
    assert kinds == {
        "customer_id": ("BIGINT", "numeric"),
        "email": ("VARCHAR", "text"),
        "company_id": ("INTEGER", "numeric"),
        "age": ("INTEGER", "numeric"),
        "segment": ("VARCHAR", "text"),
        "signup_date": ("DATE", "temporal"),
        "is_active": ("BOOLEAN", "boolean"),
        "referrer_code": ("VARCHAR", "text"),
    }
    assert col(customers, "referrer_code").null_fraction == pytest.approx(0.2)
    assert col(customers, "email").null_fraction == 0.0
    orders = tab(star_profile, "orders")
    assert col(orders, "amount").null_fraction == pytest.approx(0.1)


def test_exact_distinct_counts_and_ranges(star_profile: WarehouseProfile) -> None:
    customers = tab(star_profile, "customers")
    distinct = {c.name: c.distinct_count for c in customers.columns}
    assert distinct == {
        "customer_id": 200,
        "email": 200,
        "company_id": 30,
        "age": 63,
        "segment": 3,
        "signup_date": 200,
        "is_active": 2,
        "referrer_code": 7,
    }
    age = col(customers, "age")
    assert (age.min, age.max) == (18, 80)
    assert age.mean == pytest.approx(sum(18 + i % 63 for i in range(1, 201)) / 200)
    assert age.stddev is not None and age.stddev > 0
    signup = col(customers, "signup_date")
    assert (signup.min, signup.max) == ("2024-01-02", "2024-07-19")
    assert signup.mean is None
    ordered_at = col(tab(star_profile, "orders"), "ordered_at")
    assert ordered_at.min == "2024-03-01T08:00:00"
    assert col(customers, "is_active").is_binary


def test_top_values_are_ordered_by_count_then_value(star_profile: WarehouseProfile) -> None:
    customers = tab(star_profile, "customers")
    segment = [(t.value, t.count) for t in col(customers, "segment").top_values]
    assert segment == [("retail", 100), ("smb", 60), ("enterprise", 40)]
    active = [(t.value, t.count) for t in col(customers, "is_active").top_values]
    assert active == [(True, 150), (False, 50)]
    # 167 pending, 167 shipped (tie broken by value), 166 cancelled.
    status = col(tab(star_profile, "orders"), "status")
    assert [t.value for t in status.top_values] == ["pending", "shipped", "cancelled"]
    quantity = col(tab(star_profile, "order_items"), "quantity")
    assert [(t.value, t.count) for t in quantity.top_values] == [(q, 300) for q in range(1, 6)]
    # Unique columns have no top values (every count would be 1); none have more than top_k.
    assert col(customers, "email").top_values == ()
    assert all(len(c.top_values) <= 10 for t in star_profile.tables for c in t.columns)


def test_top_values_do_not_rely_on_union_order(star: Warehouse) -> None:
    with star.connect() as raw:
        orders = profile_table(cast(Any, CountingConnection(raw, shuffle_unions=True)), "orders")
    status = col(orders, "status")
    assert [t.value for t in status.top_values] == ["pending", "shipped", "cancelled"]


def test_top_k_is_respected(star: Warehouse) -> None:
    with star.connect() as conn:
        customers = profile_table(conn, "customers", top_k=2)
    assert [t.value for t in col(customers, "segment").top_values] == ["retail", "smb"]


# --- keys and relationships -----------------------------------------------------------------


def test_candidate_keys(star_profile: WarehouseProfile) -> None:
    keys = {t.name: t.candidate_keys for t in star_profile.tables}
    assert keys["customers"] == ("customer_id", "email")  # id-like names first
    assert keys["companies"] == ("id", "company_name")
    assert keys["orders"] == ("order_id",)  # ordered_at is unique but not a key type
    assert keys["order_items"] == ("item_id",)
    # Key-like names first, whatever the column order; price is unique but a float.
    assert keys["products"] == ("product_id", "sku")


def test_relationships_by_name_and_by_values(star_profile: WarehouseProfile) -> None:
    assert as_tuples(star_profile.relationships) == EXPECTED_RELATIONSHIPS
    by_slot = {(r.child_table, r.child_column): r for r in star_profile.relationships}
    assert by_slot[("reviews", "product_id")].inclusion == pytest.approx(0.8)
    assert by_slot[("orders", "buyer")].inclusion == 1.0
    assert {r.child_table for r in star_profile.children_of("customers")} >= {"orders"}


def test_no_false_foreign_keys(star_profile: WarehouseProfile) -> None:
    children = {(r.child_table, r.child_column) for r in star_profile.relationships}
    # quantity and stars (1..5) are included in regions.region_id (1..5), but are too few
    # values to mean anything; age (63 values in 18..80) fits in 1..200 yet spans too little.
    for slot in [
        ("order_items", "quantity"),
        ("reviews", "stars"),
        ("customers", "age"),
        ("orders", "amount"),
    ]:
        assert slot not in children
    # Direction is child -> parent: the 1-1 extension never becomes the parent of customers.
    assert {r.parent_table for r in star_profile.parents_of("customers")} == {"companies"}
    assert not star_profile.children_of("customer_profiles")


def test_singular_and_name_matching() -> None:
    assert [singular(w) for w in ["customers", "companies", "addresses", "boxes", "status"]] == [
        "customer",
        "company",
        "address",
        "box",
        "status",
    ]
    assert name_match("company_id", "companies", "id") == 2
    assert name_match("customerId", "customers", "id") == 2
    assert name_match("billing_customer_id", "customers", "customer_id") == 2
    assert name_match("sku", "products", "sku") == 1
    assert name_match("id", "customers", "id") == 0
    assert name_match("buyer", "customers", "customer_id") == 0


# --- fingerprint, errors, selection ---------------------------------------------------------


def test_fingerprint_is_stable_and_tracks_schema(tmp_path: Path) -> None:
    warehouse = build(
        tmp_path / "fp.duckdb",
        "CREATE TABLE companies AS SELECT i AS id, 'c' || i AS company_name FROM range(30) t(i);"
        "CREATE TABLE plans AS SELECT i AS plan_id, i * 9.5 AS price FROM range(3) t(i);",
    )
    first = profile_warehouse(warehouse).fingerprint
    assert len(first) == 16 and int(first, 16) >= 0
    assert profile_warehouse(warehouse).fingerprint == first
    with warehouse.connect(read_only=False) as conn:
        conn.execute("INSERT INTO companies VALUES (99, 'data changes, schema does not')")
    assert profile_warehouse(warehouse).fingerprint == first
    with warehouse.connect(read_only=False) as conn:
        conn.execute("ALTER TABLE companies ADD COLUMN founded DATE")
    assert profile_warehouse(warehouse).fingerprint != first


def test_missing_file_raises_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nope.duckdb"
    warehouse = Warehouse(path)
    with pytest.raises(WarehouseError) as raised:
        profile_warehouse(warehouse)
    assert str(path) in str(raised.value) and raised.value.fix
    with pytest.raises(WarehouseError), warehouse.connect():
        pass
    with pytest.raises(WarehouseError):
        warehouse.fetch_df("SELECT 1", purpose="probe")
    assert not path.exists()
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_text("not a database")
    with pytest.raises(WarehouseError, match="cannot open"):
        profile_warehouse(Warehouse(garbage))


def test_unknown_table_lists_available(star: Warehouse) -> None:
    with pytest.raises(WarehouseError) as raised:
        profile_warehouse(star, tables=["customers", "cusotmers"])
    assert "cusotmers" in str(raised.value) and "customers" in raised.value.message
    assert "order_items" in raised.value.message
    with star.connect() as conn, pytest.raises(WarehouseError, match="available"):
        profile_table(conn, "nope")
    with pytest.raises(WarehouseError, match="schema"):
        profile_warehouse(star, schema="analytics")


def test_selected_tables_only(star: Warehouse) -> None:
    profile = profile_warehouse(star, tables=["ORDERS", "customers"])
    assert profile.table_names == ("orders", "customers")
    assert as_tuples(profile.relationships) == {
        ("orders", "customer_id", "customers", "customer_id", "name_and_values"),
        ("orders", "buyer", "customers", "customer_id", "values"),
    }


def test_awkward_identifiers_are_quoted(tmp_path: Path) -> None:
    warehouse = build(
        tmp_path / "odd.duckdb",
        'CREATE TABLE "odd ""table""" ("select" INTEGER, "my ""col""" VARCHAR); '
        "INSERT INTO \"odd \"\"table\"\"\" VALUES (1, 'a'), (2, 'a'), (NULL, 'b');",
    )
    profile = profile_warehouse(warehouse)
    table = profile.table('odd "table"')
    assert table is not None and table.column_names == ("select", 'my "col"')
    assert col(table, "select").null_fraction == pytest.approx(1 / 3)
    assert [t.value for t in col(table, 'my "col"').top_values] == ["a", "b"]
    assert quote_ident('a"b') == '"a""b"'


def test_views_profile_like_tables(tmp_path: Path) -> None:
    warehouse = build(
        tmp_path / "views.duckdb",
        "CREATE TABLE t AS SELECT i AS id, i % 7 AS bucket, 'v' || (i % 3) AS label, "
        "i % 2 = 0 AS even FROM range(500) t(i);"
        "CREATE VIEW joined AS SELECT a.id, a.bucket, b.label, b.even "
        "FROM t AS a JOIN t AS b ON a.id = 499 - b.id;"
        "CREATE TABLE joined_copy AS SELECT * FROM joined;",
    )
    profile = profile_warehouse(warehouse, tables=["joined", "joined_copy"])
    view, copy = profile.tables
    assert view.columns == copy.columns and view.candidate_keys == copy.candidate_keys == ("id",)
    # Per-column branches read a view materialised once, not the join once per column.
    with warehouse.connect() as raw:
        conn = CountingConnection(raw)
        profile_table(cast(Any, conn), "joined")
    assert sum("AS MATERIALIZED" in sql for sql, _ in conn.fetched) == 2


def test_empty_table_and_broken_view(tmp_path: Path) -> None:
    warehouse = build(
        tmp_path / "edge.duckdb",
        "CREATE TABLE empty (id INTEGER, note VARCHAR, seen_at TIMESTAMP);"
        "CREATE TABLE gone (x INTEGER); CREATE VIEW stale AS SELECT x FROM gone; DROP TABLE gone;",
    )
    empty = profile_warehouse(warehouse, tables=["empty"]).tables[0]
    assert empty.row_count == 0 and empty.candidate_keys == ()
    assert [(c.null_fraction, c.distinct_count, c.min, c.top_values) for c in empty.columns] == [
        (0.0, 0, None, ())
    ] * 3
    with pytest.raises(WarehouseError, match="stale") as raised:
        profile_warehouse(warehouse)
    assert raised.value.fix and "tables=" in raised.value.fix


# --- egress and scale -----------------------------------------------------------------------


def test_fetch_df_records_egress(star: Warehouse) -> None:
    ledger = EgressLedger()
    df = star.fetch_df(
        "SELECT * FROM customers WHERE segment = ?", ["smb"], purpose="training", ledger=ledger
    )
    assert len(df) == 60
    [entry] = ledger.entries
    assert entry.purpose == "training" and entry.rows == 60
    assert entry.nbytes == int(df.memory_usage(deep=True).sum()) > 0
    star.fetch_df("SELECT 1 AS x", purpose="probe", ledger=ledger)
    assert ledger.total_bytes == sum(e.nbytes for e in ledger.entries)
    summary = ledger.to_dict()
    assert summary["total_rows"] == 61 and set(summary["by_purpose"]) == {"training", "probe"}
    with pytest.raises(WarehouseError):
        star.fetch_df("SELECT * FROM missing_table", purpose="probe")


class CountingConnection:
    """Wraps a DuckDB connection and counts queries and the rows each one hands to Python.

    With ``shuffle_unions``, rows of UNION ALL queries come back reversed: SQL promises no
    order there, so the profile must not depend on it.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection, *, shuffle_unions: bool = False) -> None:
        self.conn = conn
        self.shuffle_unions = shuffle_unions
        self.fetched: list[tuple[str, int]] = []

    def execute(self, sql: str, params: Any = None) -> CountingConnection:
        self.conn.execute(sql, params or [])
        self._sql = sql
        return self

    @property
    def description(self) -> Any:
        return self.conn.description

    def fetchall(self) -> list[Any]:
        rows = self.conn.fetchall()
        self.fetched.append((self._sql, len(rows)))
        if self.shuffle_unions and "UNION ALL" in self._sql:
            rows.reverse()
        return rows

    def fetchone(self) -> Any:
        self.fetched.append((self._sql, 1))
        return self.conn.fetchone()


WIDE_SQL = """
CREATE TABLE wide AS
SELECT i::BIGINT AS wide_id,
       CASE WHEN i = 7 THEN 8 ELSE i END::BIGINT AS almost_unique,
       'w' || i AS wide_code,
       'k' || (i % 1000) AS label,
       (i % 2 = 0) AS flag,
       DATE '2020-01-01' + (i % 365)::INTEGER AS day,
       {numbers}
FROM range(1, 200001) t(i);
"""


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    numbers = ", ".join(f"((i * {k + 3}) % {10 ** (k % 4 + 1)})::DOUBLE AS n{k}" for k in range(40))
    return build(tmp_path_factory.mktemp("wide") / "wide.duckdb", WIDE_SQL.format(numbers=numbers))


def test_profile_fetches_only_aggregates(wide: Warehouse) -> None:
    with wide.connect() as raw:
        conn = CountingConnection(raw)
        table = profile_table(cast(Any, conn), "wide")
    assert table.row_count == 200_000 and len(table.columns) == 46
    # Batched: a handful of queries for 46 columns, not one or more per column (two of them
    # read the catalog's comments).
    assert len(conn.fetched) <= 7
    # At most ALL_VALUES_MAX values per column ever reach Python (every value of a
    # low-cardinality column, the top ones of the others), never the 200,000 table rows.
    assert sum(rows for _, rows in conn.fetched) <= ALL_VALUES_MAX * 46 + 5
    assert table.candidate_keys == ("wide_id", "wide_code")
    assert col(table, "almost_unique").distinct_count == 199_999


def test_big_table_path_confirms_keys_exactly(
    wide: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force the approximate path that tables over a million rows take.
    monkeypatch.setattr(profile_module, "EXACT_DISTINCT_MAX_ROWS", 1_000)
    with wide.connect() as raw:
        conn = CountingConnection(raw)
        table = profile_table(cast(Any, conn), "wide")
    assert any("approx_count_distinct" in sql for sql, _ in conn.fetched)
    # HyperLogLog cannot tell 199,999 from 200,000; the exact confirmation can.
    assert table.candidate_keys == ("wide_id", "wide_code")
    assert col(table, "wide_id").distinct_count == 200_000
    assert col(table, "almost_unique").distinct_count == 199_999
    label = col(table, "label")
    assert label is not None and abs(label.distinct_count - 1000) <= 50


def test_exact_distinct_survives_a_stale_range(wide: Warehouse) -> None:
    # Bitmaps are sized from the profiled min/max; a value outside them falls back to hashing.
    stale = profile_module._Stats("wide_id", "BIGINT", "numeric", 200_000, 0, min=1, max=10)
    source = profile_module._Source('"main"."wide"', is_view=False)
    with wide.connect() as conn:
        assert profile_module._distinct_expr(stale, True).startswith("bit_count(")
        assert profile_module._exact_distinct(conn, source, [stale]) == [200_000]


def test_profile_egress_is_small(wide: Warehouse) -> None:
    ledger = EgressLedger()
    profile_warehouse(wide, ledger=ledger)
    [entry] = ledger.entries
    assert entry.purpose == "profile" and entry.rows == 0
    # The table is megabytes; its profile is a few kilobytes.
    assert 0 < entry.nbytes < 64_000
