"""The SQL policy: what generated SQL may do, decided on sqlglot's syntax tree.

Checked on the AST rather than with patterns, so comments, quoting and nesting cannot hide a
statement. Generated SQL must be exactly one read-only SELECT over the tables it was allowed.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from dagster_agentic.errors import GuardrailError

# Table functions and scalar functions that read files, reach the network or the environment.
_FORBIDDEN_FUNCTIONS = frozenset(
    {
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "read_json",
        "read_json_auto",
        "read_text",
        "read_blob",
        "parquet_scan",
        "glob",
        "getenv",
        "current_setting",
        "query",
        "query_table",
        "sniff_csv",
        "load_extension",
    }
)

_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Drop,
    exp.Create,
    exp.Alter,
    exp.Command,
    exp.Merge,
    exp.Copy,
    exp.Attach,
    exp.Detach,
    exp.Pragma,
    exp.Set,
    exp.Use,
    exp.TruncateTable,
    exp.LoadData,
)


def check_select(sql: str, *, allowed_tables: Iterable[str], label: str) -> exp.Query:
    """Parse ``sql`` and refuse anything but one SELECT over ``allowed_tables``.

    ``allowed_tables`` are lower-case ``schema.table`` or ``table`` names; CTE names are allowed
    implicitly. Returns the parsed tree.
    """
    allowed = {name.lower() for name in allowed_tables}
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except ParseError as error:
        raise GuardrailError(
            f"{label}: SQL does not parse: {str(error).splitlines()[0]}",
            fix="generate a single valid DuckDB SELECT statement",
        ) from error
    if len(statements) != 1:
        raise GuardrailError(
            f"{label}: expected one SQL statement, found {len(statements)}",
            fix="generate exactly one SELECT statement, with no ';'-separated extras",
        )
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise GuardrailError(
            f"{label}: only SELECT queries are allowed, got {tree.key.upper()}",
            fix="features are computed by read-only SELECTs; writes happen only through dbt",
        )
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise GuardrailError(
                f"{label}: {node.key.upper()} is not allowed in generated SQL",
                fix="generate a read-only SELECT",
            )
        if isinstance(node, exp.Func) and _function_name(node) in _FORBIDDEN_FUNCTIONS:
            raise GuardrailError(
                f"{label}: function {_function_name(node)}() reads outside the warehouse",
                fix="read only warehouse tables the plan names",
            )
    _check_tables(tree, allowed, label)
    return tree


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _check_tables(tree: exp.Query, allowed: set[str], label: str) -> None:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            raise GuardrailError(
                f"{label}: table function {table.this.sql()} is not allowed",
                fix="read only warehouse tables the plan names",
            )
        name = table.name.lower()
        # An unqualified name resolves to DuckDB's default schema.
        qualified = f"{(table.db or 'main').lower()}.{name}"
        if table.catalog:
            raise GuardrailError(
                f"{label}: table {table.sql()} names another database",
                fix="read only tables of the goal's warehouse",
            )
        if not table.db and name in ctes:
            continue
        if qualified not in allowed and name not in allowed:
            raise GuardrailError(
                f"{label}: table {qualified} is not one the plan may read",
                fix=f"use one of: {', '.join(sorted(allowed))}",
            )
