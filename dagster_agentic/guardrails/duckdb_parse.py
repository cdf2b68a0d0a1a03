"""DuckDB's own parser as a second opinion on generated SQL.

The policy decides on sqlglot's tree, but the warehouse runs DuckDB's parse of the same text: a
comment, string or quoting rule on which the two disagree could hide a statement, a function or
a table from sqlglot. So the text is also parsed by DuckDB (``extract_statements`` and
``json_serialize_sql`` on an in-memory database that can reach nothing; nothing is bound or
run), and what DuckDB sees is checked too: one SELECT, no recursion, no table function, no other
catalog, no file name, only allowed functions. Scoping of CTE names is sqlglot's part; here an
unqualified name need only be an allowed table or a CTE defined somewhere in the statement.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import duckdb

from dagster_agentic.errors import GuardrailError
from dagster_agentic.guardrails.sql_functions import _LOCKED, fold, function_refusal
from dagster_agentic.guardrails.sql_names import table_refusal

_FIX = "generate a single read-only SELECT over the plan's tables"
_REF_TYPES = frozenset({"BASE_TABLE", "JOIN", "SUBQUERY", "EMPTY", "EXPRESSION_LIST"})
_NODE_TYPES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "CTE_NODE"})
_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    conn: duckdb.DuckDBPyConnection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = duckdb.connect(":memory:", config=_LOCKED)
        _local.conn = conn
    return conn


def check_with_duckdb(sql: str, allowed: set[str], label: str) -> None:
    """Refuse ``sql`` when DuckDB's parse of it is anything but one allowed SELECT."""
    conn = _connection()
    try:
        statements = conn.extract_statements(sql)
    except duckdb.Error as error:
        raise GuardrailError(
            f"{label}: DuckDB cannot parse the SQL: {str(error).splitlines()[0]}",
            fix=_FIX,
            rule="parse",
        ) from error
    if len(statements) != 1:
        raise GuardrailError(
            f"{label}: DuckDB reads {len(statements)} statements in the SQL",
            fix="generate exactly one SELECT statement, with no ';'-separated extras",
            rule="statement_count",
        )
    if statements[0].type != duckdb.StatementType.SELECT:
        raise GuardrailError(
            f"{label}: DuckDB reads a {statements[0].type.name} statement, not a SELECT",
            fix=_FIX,
            rule="statement",
        )
    try:  # fails closed: without DuckDB's tree (no json extension?) nothing passes
        row = conn.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchone()
    except duckdb.Error as error:
        raise GuardrailError(
            f"{label}: DuckDB cannot serialise the statement: {error}", fix=_FIX, rule="parse"
        ) from error
    tree: dict[str, Any] = json.loads(row[0]) if row else {"error": True}
    if tree.get("error"):
        raise GuardrailError(
            f"{label}: DuckDB cannot serialise the statement: {tree.get('error_message', '')}",
            fix=_FIX,
            rule="statement",
        )
    ctes = {fold(name) for name in _cte_names(tree)}
    for node in _dicts(tree):
        _check_node(node, allowed, ctes, label)


def _check_node(node: dict[str, Any], allowed: set[str], ctes: set[str], label: str) -> None:
    kind = node.get("type")
    if node.get("class") in ("FUNCTION", "WINDOW") and not node.get("is_operator"):
        name = str(node.get("function_name", ""))
        if node.get("schema") or node.get("catalog"):
            raise GuardrailError(
                f"{label}: qualified function call {node.get('schema')}.{name}()",
                fix="call built-in functions by their plain name",
                rule="function",
            )
        why = function_refusal(name)
        if why:
            raise GuardrailError(f"{label}: {why}", fix=_FIX, rule="function")
    elif kind == "RECURSIVE_CTE_NODE" or node.get("materialized") == "CTE_RECURSIVE":
        raise GuardrailError(f"{label}: recursive CTEs are not allowed", fix=_FIX, rule="recursion")
    elif kind == "TABLE_FUNCTION":
        raise GuardrailError(
            f"{label}: table function in FROM is not allowed", fix=_FIX, rule="table_function"
        )
    elif kind == "BASE_TABLE":
        catalog, schema = str(node.get("catalog_name", "")), str(node.get("schema_name", ""))
        name = str(node.get("table_name", ""))
        if not (catalog or schema) and fold(name) in ctes:
            return
        refusal = table_refusal(catalog, schema, name, allowed)
        if refusal:
            rule, why = refusal
            raise GuardrailError(f"{label}: {why}", fix=_FIX, rule=rule)
    elif str(kind).endswith("_NODE"):
        if kind not in _NODE_TYPES:
            raise GuardrailError(
                f"{label}: DuckDB reads a {kind} query", fix=_FIX, rule="statement"
            )
    elif "sample" in node and "class" not in node and kind not in _REF_TYPES:
        # A table reference of another kind: SHOW_REF (DESCRIBE, SUMMARIZE), PIVOT, ...
        raise GuardrailError(f"{label}: DuckDB reads a {kind} source", fix=_FIX, rule="statement")


def _cte_names(tree: dict[str, Any]) -> Iterator[str]:
    for node in _dicts(tree):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            for entry in cte_map.get("map") or []:
                yield str(entry.get("key", ""))


def _dicts(value: object) -> Iterator[dict[str, Any]]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
