"""Small real DuckDB warehouses with naming conventions of their own, for reading goals.

Each is built with plain SQL (deterministic values from ``range``), so that the profile the
goal is read against is the real profiler's output: CamelCase single tables, snake_case
relational ones with a parent table, prefixed table names, a label table keyed ``member_ref``,
catalog comments, and category columns whose values carry the meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from dagster_agentic.goals.objective import Objective
from dagster_agentic.warehouse.models import WarehouseProfile

Builder = Callable[[duckdb.DuckDBPyConnection], None]


def telco(conn: duckdb.DuckDBPyConnection) -> None:
    """One CamelCase table, as a churn export is often held."""
    conn.execute(
        """
        CREATE TABLE Customers AS
        SELECT
            'C' || lpad(CAST(i AS VARCHAR), 5, '0') AS customerID,
            CASE WHEN i % 2 = 0 THEN 'Female' ELSE 'Male' END AS gender,
            CASE WHEN i % 6 = 0 THEN 1 ELSE 0 END AS SeniorCitizen,
            18 + (i * 7) % 70 AS Age,
            (i * 13) % 72 AS tenure,
            CASE i % 3 WHEN 0 THEN 'Month-to-month' WHEN 1 THEN 'One year' ELSE 'Two year' END
                AS Contract,
            CASE i % 3 WHEN 0 THEN 'DSL' WHEN 1 THEN 'Fiber optic' ELSE 'No' END
                AS InternetService,
            CASE i % 4 WHEN 0 THEN 'Electronic check' WHEN 1 THEN 'Mailed check'
                WHEN 2 THEN 'Bank transfer (automatic)' ELSE 'Credit card (automatic)' END
                AS PaymentMethod,
            round(20 + (i * 37) % 9000 / 100.0, 2) AS MonthlyCharges,
            DATE '2021-01-01' + CAST((i * 11) % 1400 AS INTEGER) AS SignupDate,
            CASE WHEN (i * 7) % 10 < 3 THEN 'Yes' ELSE 'No' END AS Churn
        FROM range(600) t(i)
        """
    )
    conn.execute("COMMENT ON COLUMN Customers.Churn IS 'Customer left within the last month'")


def hr(conn: duckdb.DuckDBPyConnection) -> None:
    """snake_case, relational: employees reference departments; the label is a column."""
    conn.execute(
        """
        CREATE TABLE departments AS
        SELECT * FROM (VALUES (1, 'Support', 2), (2, 'Sales', 3), (3, 'Engineering', 4),
                              (4, 'Research & Development', 5)) v(id, name, floor)
        """
    )
    conn.execute(
        """
        CREATE TABLE employees AS
        SELECT
            1000 + i AS emp_id,
            1 + i % 4 AS dept_id,
            21 + (i * 7) % 44 AS age,
            40000 + (i * 7919) % 90000 AS salary,
            DATE '2018-01-01' + CAST((i * 17) % 2500 AS INTEGER) AS hired_on,
            CASE i % 4 WHEN 0 THEN 'Junior' WHEN 1 THEN 'Mid' WHEN 2 THEN 'Senior'
                ELSE 'Principal' END AS job_level,
            i % 3 = 0 AS is_remote,
            CASE WHEN i % 5 = 0 THEN 'yes' ELSE 'no' END AS smoker,
            (i * 11) % 9 < 2 AS left_company
        FROM range(400) t(i)
        """
    )
    conn.execute(
        "COMMENT ON COLUMN employees.left_company IS 'attrition: the employee resigned within a"
        " year'"
    )


def club(conn: duckdb.DuckDBPyConnection) -> None:
    """A CamelCase entity table and a label table keyed ``member_ref``."""
    conn.execute(
        """
        CREATE TABLE Members AS
        SELECT
            i AS MemberId,
            CASE WHEN i % 2 = 0 THEN 'individual' ELSE 'family' END AS member_type,
            CASE i % 3 WHEN 0 THEN 'Trial' WHEN 1 THEN 'Standard' ELSE 'Premium' END AS plan,
            DATE '2022-01-01' + CAST((i * 5) % 900 AS INTEGER) AS JoinDate,
            18 + (i * 3) % 60 AS Age,
            round(10 + (i * 17) % 400 / 10.0, 1) AS MonthlyFee
        FROM range(1, 301) t(i)
        """
    )
    conn.execute(
        """
        CREATE TABLE member_outcomes AS
        SELECT i AS member_ref, (i * 7) % 10 < 3 AS Lapsed
        FROM range(1, 301) t(i)
        """
    )


def logistics(conn: duckdb.DuckDBPyConnection) -> None:
    """Prefixed tables (``dim_``/``fct_``); a ``late_1d`` flag and a service level."""
    conn.execute(
        """
        CREATE TABLE dim_carriers AS
        SELECT * FROM (VALUES ('DHL', 'Europe'), ('UPS', 'North America'), ('FDX', 'Asia'))
            v(carrier_code, home_region)
        """
    )
    conn.execute(
        """
        CREATE TABLE fct_shipments AS
        SELECT
            'S-' || CAST(i AS VARCHAR) AS shipment_id,
            CASE i % 3 WHEN 0 THEN 'DHL' WHEN 1 THEN 'UPS' ELSE 'FDX' END AS carrier_code,
            round(0.5 + (i * 13) % 400 / 10.0, 1) AS weight_kg,
            CASE i % 4 WHEN 0 THEN 'express' WHEN 1 THEN 'standard' WHEN 2 THEN 'economy'
                ELSE 'freight' END AS service_level,
            1000 + (i * 977) % 49000 AS declared_value,
            TIMESTAMP '2023-01-01 08:00:00' + INTERVAL (i * 7) HOUR AS shipped_at,
            CASE WHEN (i * 7) % 10 < 2 THEN 1 ELSE 0 END AS late_1d
        FROM range(500) t(i)
        """
    )


def deliveries(conn: duckdb.DuckDBPyConnection) -> None:
    """A status column whose values say what it is ('late' / 'on time')."""
    conn.execute(
        """
        CREATE TABLE deliveries AS
        SELECT
            i AS delivery_no,
            CASE i % 3 WHEN 0 THEN 'north' WHEN 1 THEN 'south' ELSE 'west' END AS depot,
            round(1 + (i * 7) % 300 / 10.0, 1) AS distance_km,
            CASE WHEN (i * 3) % 10 < 2 THEN 'late' ELSE 'on time' END AS arrival_status
        FROM range(300) t(i)
        """
    )


def houses(conn: duckdb.DuckDBPyConnection) -> None:
    """A regression table in the style of a housing data set, and a second price column."""
    conn.execute(
        """
        CREATE TABLE houses AS
        SELECT
            i AS Id,
            1500 + (i * 97) % 15000 AS LotArea,
            1900 + (i * 7) % 120 AS YearBuilt,
            CASE i % 4 WHEN 0 THEN 'NAmes' WHEN 1 THEN 'CollgCr' WHEN 2 THEN 'OldTown'
                ELSE 'Edwards' END AS Neighborhood,
            1 + i % 10 AS OverallQual,
            CASE i % 3 WHEN 0 THEN '1Fam' WHEN 1 THEN 'Duplex' ELSE 'TwnhsE' END AS BldgType,
            80000 + (i * 7919) % 300000 AS SalePrice
        FROM range(700) t(i)
        """
    )


def two_prices(conn: duckdb.DuckDBPyConnection) -> None:
    houses(conn)
    conn.execute("ALTER TABLE houses ADD COLUMN ListPrice INTEGER")
    conn.execute("UPDATE houses SET ListPrice = SalePrice + (Id * 31) % 9000")


def lapse_windows(conn: duckdb.DuckDBPyConnection) -> None:
    club(conn)
    conn.execute("ALTER TABLE member_outcomes ADD COLUMN lapsed_90d BOOLEAN")
    conn.execute("UPDATE member_outcomes SET lapsed_90d = (member_ref * 3) % 10 < 4")
    conn.execute("ALTER TABLE member_outcomes RENAME COLUMN Lapsed TO lapsed_30d")


def shop(conn: duckdb.DuckDBPyConnection) -> None:
    """Orders with a shipping tier, and a customer table they reference by ``cust_code``."""
    conn.execute(
        """
        CREATE TABLE tbl_customers AS
        SELECT 'K' || CAST(i AS VARCHAR) AS cust_code,
               CASE i % 3 WHEN 0 THEN 'Retail' WHEN 1 THEN 'Wholesale' ELSE 'Online only' END
                   AS channel
        FROM range(120) t(i)
        """
    )
    conn.execute(
        """
        CREATE TABLE tbl_orders AS
        SELECT
            i AS order_no,
            'K' || CAST((i * 7) % 120 AS VARCHAR) AS cust_code,
            round(5 + (i * 31) % 5000 / 10.0, 2) AS basket_total,
            CASE i % 3 WHEN 0 THEN 'standard' WHEN 1 THEN 'express' ELSE 'overnight' END
                AS shipping_tier,
            DATE '2023-06-01' + CAST(i % 400 AS INTEGER) AS placed_on
        FROM range(900) t(i)
        """
    )


def build(path: Path, builder: Builder) -> Path:
    conn = duckdb.connect(str(path))
    try:
        builder(conn)
    finally:
        conn.close()
    return path


Built = tuple[Path, WarehouseProfile]


def build_sql(tmp: Path, name: str, sql: list[str]) -> Built:
    """A warehouse file ``name`` under ``tmp`` made by the statements ``sql``, profiled."""
    from dagster_agentic.warehouse.connection import Warehouse
    from dagster_agentic.warehouse.profile import profile_warehouse

    path = tmp / f"{name}.duckdb"
    conn = duckdb.connect(str(path))
    try:
        for statement in sql:
            conn.execute(statement)
    finally:
        conn.close()
    return path, profile_warehouse(Warehouse(path))


def read_goal(built: Built, text: str) -> Objective:
    """The objective ``text`` read against the built warehouse, with no overrides."""
    from dagster_agentic.goals.spec import GoalOverrides
    from dagster_agentic.kernel.policy.objective import interpret_objective

    return interpret_objective(text, built[1], GoalOverrides())


def count_rows(built: Built, table: str, where: str | None) -> int:
    """Rows of ``table`` (quoted as written) that ``where`` selects, every row without one."""
    conn = duckdb.connect(str(built[0]), read_only=True)
    try:
        sql = f'SELECT count(*) FROM "{table}"' + (f" WHERE {where}" if where else "")
        row = conn.execute(sql).fetchone()
    finally:
        conn.close()
    assert row is not None
    return int(row[0])


def assert_same_rows(built: Built, table: str, read: str | None, where: str, total: int) -> None:
    """The predicate ``read`` selects exactly the rows ``where`` does, some but not all of
    the ``total`` rows of ``table``."""
    assert read is not None
    expected = count_rows(built, table, where)
    assert 0 < expected < total
    assert count_rows(built, table, read) == expected
    assert count_rows(built, table, f"({read}) AND ({where})") == expected
